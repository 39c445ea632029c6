"""Sign-in and sign-out. The login form is the one write nobody is signed in for: `SignIn` may
check a password and record the login, nothing else."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govmedia.web.auth import check_csrf, client_address, csrf_token
from govmedia.web.deps import SignIn, sign_in, submitted_csrf
from govmedia.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=next if next.startswith("/") else "/", csrf_form=csrf_token(request))


@router.post("/login")
def login(request: Request, door: SignIn = Depends(sign_in), username: str = Form(...), password: str = Form(...),
          next: str = Form("/"), csrf: Optional[str] = Depends(submitted_csrf)):
    check_csrf(request, csrf)
    limiter = request.app.state.limiter
    client = client_address(request)
    wait = limiter.blocked(client)
    if wait:
        return render(request, "login.html", status=429, next=next, csrf_form=csrf_token(request),
                      message=f"登录失败次数过多，请 {int(wait) + 1} 秒后再试")
    role = door.authenticate(username, password)
    if role is None:
        limiter.failed(client)
        return render(request, "login.html", status=401, next=next, csrf_form=csrf_token(request),
                      message="用户名或密码不正确")
    limiter.succeeded(client)
    request.session.clear()
    request.session["user"] = {"name": username, "role": role}
    door.record_login(username, client)
    return RedirectResponse(next if next.startswith("/") else "/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Optional[str] = Depends(submitted_csrf)):
    if request.session.get("user"):
        check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
