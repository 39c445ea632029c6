"""Sign-in and sign-out. The login form is the one write nobody is signed in for: `SignIn` may
check a password and record the login, and sign-out end the user's own sessions, nothing else."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govmedia.web.auth import check_csrf, client_address, csrf_token
from govmedia.web.deps import SignIn, sign_in, submitted_csrf
from govmedia.web.render import render
from govmedia.web.security import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=safe_next(next), csrf_form=csrf_token(request))


@router.post("/login")
def login(request: Request, door: SignIn = Depends(sign_in), username: str = Form(...), password: str = Form(...),
          next: str = Form("/"), csrf: Optional[str] = Depends(submitted_csrf)):
    check_csrf(request, csrf)
    next = safe_next(next)
    limiter = request.app.state.limiter
    client = client_address(request)
    wait = limiter.blocked(username, client)
    if wait:
        return render(request, "login.html", status=429, next=next, csrf_form=csrf_token(request),
                      message=f"登录失败次数过多，请 {int(wait) + 1} 秒后再试")
    found = door.authenticate(username, password)
    if found is None:
        limiter.failed(username, client)
        return render(request, "login.html", status=401, next=next, csrf_form=csrf_token(request),
                      message="用户名或密码不正确")
    limiter.succeeded(username)
    request.session.clear()
    role, version = found
    request.session["user"] = {"name": username, "role": role, "sv": version}
    door.record_login(username, client)
    return RedirectResponse(next, status_code=303)


@router.post("/logout")
def logout(request: Request, door: SignIn = Depends(sign_in), csrf: Optional[str] = Depends(submitted_csrf)):
    user = request.session.get("user")
    if user:
        check_csrf(request, csrf)
        door.sign_out(user["name"])  # every copy of the cookie ends, not just this browser's
    request.session.clear()
    return RedirectResponse("/", status_code=303)
