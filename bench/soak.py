"""Soak benchmark (issue 15): the site under mixed load for a while, with its peak memory and every
error counted.

    python bench/soak.py --db /tmp/soak/govmedia.duckdb [--seconds 600] [--out soak.json]

Build a store first (`govmedia --db /tmp/soak/govmedia.duckdb demo --dir /tmp/soak --no-serve`).
The store is copied to a work folder (the run writes to it), users are added with `govmedia users
add`, and `govmedia serve` is started on a free loopback port. Then, for `--seconds`, threads run:

- anonymous readers of /, /rankings (each platform and category), account pages, /methodology;
- signed-in editors reading /data, /data/accounts, /rankings and account pages;
- sign-ins (GET /login, POST /login, a page, POST /logout), now and then a wrong password;
- small CSV uploads through the API (`POST /api/v1/imports?wait=true`, HTTP Basic);
- now and then something hostile: an upload declaring more than the limit, a chunked upload
  that never ends, a zip bomb, an anonymous city-index table over its limit.

Recorded: requests per kind, answers by status (a 5xx is a failure), p50/p95 latency, connection
errors, and the peak resident memory of the server's process tree (psutil if installed, else
/proc/<pid>/status VmRSS summed over the tree), sampled every 0.5 s. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

PASSWORD = "soak horse battery staple"
UPLOAD_MB = 200  # the site's default; the hostile uploads go over it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants."""
    try:
        import psutil  # noqa: PLC0415

        root = psutil.Process(pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total
    except ImportError:
        pass
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) * 1024 if found else 0
        todo += _children(current)
    return total


class MemoryWatch(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self.load: list[float] = []  # the machine's 1-minute load average: was anything else running?
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.is_set():
            rss = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic() - start, rss))
            try:
                self.load.append(float(Path("/proc/loadavg").read_text().split()[0]))
            except (OSError, ValueError):
                pass
            self.stop.wait(0.5)


# --------------------------------------------------------------------------- recording


class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter] = defaultdict(Counter)
        self.failures: list[str] = []  # 5xx and anything unexpected, with what was asked

    def add(self, kind: str, status: int | str, seconds: float, what: str = "", body: bytes = b"",
            expected: bool | None = None) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.status[kind][status] += 1
            if expected is False or (expected is None and isinstance(status, str)) or \
                    isinstance(status, int) and status >= 500:
                if len(self.failures) < 50:
                    self.failures.append(f"{kind} {what} -> {status} {body[:200]!r}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- a client


class Client:
    """One keep-alive connection with a cookie jar, reconnecting when the server closes it."""

    def __init__(self, port: int, record: Record):
        self.port = port
        self.record = record
        self.cookies: dict[str, str] = {}
        self.con: http.client.HTTPConnection | None = None

    def request(self, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, expect=None) -> tuple[int | str, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        t0 = time.perf_counter()
        for attempt in range(2):
            try:
                if self.con is None:
                    self.con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.con.request(method, path, body=body, headers=headers)
                answer = self.con.getresponse()
                data = answer.read()
                status: int | str = answer.status
                for value in answer.headers.get_all("set-cookie") or []:
                    name, _, rest = value.partition("=")
                    cookie = rest.split(";", 1)[0]
                    if cookie in ("", '""', "null") or "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = cookie
                if answer.will_close:
                    self.close()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 1:  # a kept-alive connection the server had closed: one retry
                    status, data = type(exc).__name__, b""
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                status, data = type(exc).__name__, b""
                break
        seconds = time.perf_counter() - t0
        if expect is not None and status not in expect and not (isinstance(status, int) and status >= 500):
            status = f"unexpected {status}"
        self.record.add(kind, status, seconds, f"{method} {path}", data)
        return status, data

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    return found.group(1).decode() if found else ""


def form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def multipart(fields: dict[str, str], file_name: str, data: bytes, kind: str = "text/csv") -> tuple[bytes, dict]:
    boundary = "soak" + os.urandom(8).hex()
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                 f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


# --------------------------------------------------------------------------- the kinds of load


class Load:
    def __init__(self, port: int, record: Record, accounts: list[tuple[str, str]], period: tuple[str, str],
                 deadline: float):
        self.port = port
        self.record = record
        self.accounts = accounts
        self.start, self.end = period
        self.deadline = deadline
        self.uploads = 0
        self.cut_at: list[int] = []  # bytes sent when the server stopped reading an endless upload

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def pages(self) -> list[str]:
        platform = random.choice(["weibo", "wechat", "douyin"])
        category = random.choice(["district", "livelihood", "comprehensive"])
        account = random.choice(self.accounts)
        return ["/", f"/rankings?platform={platform}&category={category}",
                f"/rankings?platform={platform}&category={category}&from={self.start}&to={self.end}",
                f"/accounts/{account[0]}/{account[1]}", "/methodology", "/compare?account=" + ":".join(account)]

    def reader(self) -> None:
        client = Client(self.port, self.record)
        while self.running():
            client.request("anonymous read", "GET", random.choice(self.pages()), expect={200})
        client.close()

    def editor(self, user: str) -> None:
        client = Client(self.port, self.record)
        self._sign_in(client, user, "editor sign-in")
        while self.running():
            path = random.choice(["/data", "/data/accounts", *self.pages()])
            status, _ = client.request("editor read", "GET", path, expect={200})
            if status == 303:  # signed out somehow: in again
                self._sign_in(client, user, "editor sign-in")
        client.close()

    def _sign_in(self, client: Client, user: str, kind: str, password: str = PASSWORD) -> int | str:
        _, page = client.request(kind + " (form)", "GET", "/login", expect={200})
        body, headers = form({"username": user, "password": password, "csrf_token": csrf(page), "next": "/data"})
        status, _ = client.request(kind, "POST", "/login", body, headers,
                                   expect={303} if password == PASSWORD else {200, 400, 401, 429})
        return status

    def signer(self, user: str, stranger: str) -> None:
        while self.running():
            client = Client(self.port, self.record)
            if random.random() < 0.1:  # a wrong password for another account: refused, maybe locked out
                self._sign_in(client, stranger, "wrong password", "not the password at all")
            elif self._sign_in(client, user, "sign-in") == 303:
                _, page = client.request("first page after sign-in", "GET", "/data", expect={200})
                body, headers = form({"csrf_token": csrf(page)})
                client.request("sign-out", "POST", "/logout", body, headers, expect={303})
            client.close()
            time.sleep(0.2)

    def uploader(self, user: str) -> None:
        client = Client(self.port, self.record)
        header = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
        platform_names = {"weibo": "微博", "wechat": "微信", "douyin": "抖音"}
        while self.running():
            self.uploads += 1
            platform, account_id = random.choice(self.accounts)
            rows = [f"{platform_names.get(platform, platform)},{account_id},soak-{self.uploads}-{n},"
                    f"{self.end}-{random.randint(1, 28):02d} 10:{n:02d},是,浸泡测试 {n},{n},{n},{n}" for n in range(20)]
            rows.append(f"{platform_names.get(platform, platform)},{account_id},soak-bad-{self.uploads},不是时间,是,x,1,1,1")
            body, headers = multipart({"format": "auto"}, f"soak-{self.uploads}.csv", (header + "\n".join(rows) + "\n").encode())
            client.request("upload (API)", "POST", "/api/v1/imports?wait=true", body, {**headers, **basic(user)},
                           expect={200})
            time.sleep(random.uniform(2, 5))
        client.close()

    def hostile(self, user: str) -> None:
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("zeros.csv", b"0" * (50 * 1024 * 1024))
        bomb = bomb.getvalue()
        moves = [self._declared_oversize, self._chunked_oversize, self._bomb, self._city_oversize]
        turn = 0
        while self.running():
            move = moves[turn % len(moves)]
            turn += 1
            move(user, bomb)
            time.sleep(random.uniform(10, 20))

    def _declared_oversize(self, user: str, bomb: bytes) -> None:
        """Declares 300 MB, sends 1 MB, reads the answer: the site should refuse on the header."""
        body, headers = multipart({}, "huge.csv", b"")
        t0 = time.perf_counter()
        status: int | str
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
                head = (f"POST /api/v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {headers['Content-Type']}\r\n"
                        f"Authorization: {basic(user)['Authorization']}\r\n"
                        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n")
                try:
                    s.sendall(head.encode() + _file_start(body) + b"x" * (1024 * 1024))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server answered and closed before taking the megabyte: read its answer
                status = _read_status(s)
        except OSError as exc:
            status = "closed: " + type(exc).__name__
        self.record.add("hostile: declared 300 MB", status, time.perf_counter() - t0, "POST /api/v1/imports",
                        expected=status == 413)

    def _chunked_oversize(self, user: str, bomb: bytes) -> None:
        """A chunked body that never ends: the site should cut it off at the limit."""
        body, headers = multipart({}, "endless.csv", b"")
        t0 = time.perf_counter()
        sent = 0
        status: int | str = "no answer"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
                head = (f"POST /api/v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {headers['Content-Type']}\r\n"
                        f"Authorization: {basic(user)['Authorization']}\r\nTransfer-Encoding: chunked\r\n\r\n")
                s.sendall(head.encode())
                first = _file_start(body)
                s.sendall(f"{len(first):x}\r\n".encode() + first + b"\r\n")
                chunk = b"y" * (1024 * 1024)
                framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                while sent < 2 * UPLOAD_MB * 1024 * 1024:  # twice the limit at most
                    s.sendall(framed)
                    sent += len(chunk)
                status = _read_status(s)
        except (BrokenPipeError, ConnectionResetError):
            # The server answered and closed while we were sending: its answer may be lost with the
            # reset, so what is recorded is where it stopped reading.
            status = f"cut off by the server (≤ {UPLOAD_MB + 2} MB)" if sent <= (UPLOAD_MB + 2) * 2 ** 20 else "cut off late"
        except OSError as exc:
            status = type(exc).__name__
        self.cut_at.append(sent)
        self.record.add("hostile: chunked endless", status, time.perf_counter() - t0, f"sent {sent >> 20} MB",
                        expected=status == 413 or str(status).startswith("cut off by"))

    def _bomb(self, user: str, bomb: bytes) -> None:
        client = Client(self.port, self.record)
        body, headers = multipart({}, "bomb.zip", bomb, "application/zip")
        client.request("hostile: zip bomb", "POST", "/api/v1/imports?wait=true", body, {**headers, **basic(user)},
                       expect={400})
        client.close()

    def _city_oversize(self, user: str, bomb: bytes) -> None:
        client = Client(self.port, self.record)
        _, page = client.request("hostile: city form", "GET", "/city", expect={200})
        body, headers = multipart({"csrf_token": csrf(page)}, "城市.csv", b"x" * (8 * 1024 * 1024))
        client.request("hostile: city 8 MB", "POST", "/city", body, headers, expect={413, 429})
        client.close()


def _file_start(body: bytes) -> bytes:
    """A multipart body up to where the file's bytes begin."""
    return body[:body.index(b"\r\n\r\n", body.index(b"filename=")) + 4]


def _read_status(s: socket.socket) -> int | str:
    data = b""
    while b"\r\n" not in data:
        piece = s.recv(4096)
        if not piece:
            return "closed"
        data += piece
    return int(data.split(b" ", 2)[1])


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=Path, help="a demo store (copied; the run writes to the copy)")
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--editors", type=int, default=2)
    parser.add_argument("--signers", type=int, default=1)
    parser.add_argument("--uploaders", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: as govmedia serve)")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: beside --db, soak-run/)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    work = args.work or args.db.parent / "soak-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "soak.duckdb"
    shutil.copy(args.db, db)
    govmedia = [sys.executable, "-m", "govmedia.cli", "--db", str(db)]
    users = {"editor": [f"soak-editor{n}" for n in range(max(args.editors, args.uploaders, 1))],
             "signer": [f"soak-signer{n}" for n in range(max(args.signers, 1))]}
    for name in [*users["editor"], *users["signer"], "soak-stranger"]:
        subprocess.run([*govmedia, "users", "add", name, "--role", "editor"], input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    accounts = con.execute("SELECT DISTINCT platform, account_id FROM monthly_scores ORDER BY 1, 2").fetchall()
    start, end = con.execute("SELECT min(month), max(month) FROM monthly_scores").fetchall()[0]
    con.close()

    port = free_port()
    command = [*govmedia, "serve", "--port", str(port)] + (["--workers", str(args.workers)] if args.workers else [])
    log = (work / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    watch = MemoryWatch(server.pid)
    try:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        Client(port, Record()).request("warm-up", "GET", "/healthz")
        idle = tree_rss(server.pid)
        watch.start()
        record = Record()
        began = time.monotonic()
        load = Load(port, record, accounts, (max(start, "2020-02"), end), began + args.seconds)
        threads = [threading.Thread(target=load.reader) for _ in range(args.readers)]
        threads += [threading.Thread(target=load.editor, args=(users["editor"][n % len(users["editor"])],))
                    for n in range(args.editors)]
        threads += [threading.Thread(target=load.signer, args=(users["signer"][n], "soak-stranger"))
                    for n in range(args.signers)]
        threads += [threading.Thread(target=load.uploader, args=(users["editor"][n],)) for n in range(args.uploaders)]
        threads += [threading.Thread(target=load.hostile, args=(users["editor"][0],))]
        for thread in threads:
            thread.daemon = True  # Ctrl+C ends the run, not only the main thread
            thread.start()
        last = began
        while any(t.is_alive() for t in threads):
            try:
                time.sleep(1)
            except KeyboardInterrupt:
                load.deadline = 0  # the threads finish their request and stop
                raise
            if time.monotonic() - last >= 60:
                last = time.monotonic()
                done = sum(len(v) for v in record.latency.values())
                print(f"  {last - began:5.0f} s  {done} requests  RSS now {tree_rss(server.pid) / 2 ** 20:.0f} MiB"
                      f"  peak {watch.peak / 2 ** 20:.0f} MiB", flush=True)
        elapsed = time.monotonic() - began
        healthz = Client(port, Record()).request("after", "GET", "/healthz")
        uploads = work / "uploads"
        left = [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []
    finally:
        watch.stop.set()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()

    total = sum(len(v) for v in record.latency.values())
    statuses = Counter()
    for counter in record.status.values():
        statuses.update(counter)
    server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
    figures = {
        "seconds": round(elapsed), "requests": total, "per_second": round(total / elapsed, 1),
        "server_errors_5xx": server_errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "kinds": {kind: {"requests": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
                         "p95_ms": round(percentile(values, 95) * 1000, 1),
                         "statuses": {str(k): v for k, v in record.status[kind].items()}}
                  for kind, values in sorted(record.latency.items())},
        "rss_idle_mib": round(idle / 2 ** 20), "rss_peak_mib": round(watch.peak / 2 ** 20),
        "rss_end_mib": round((watch.samples[-1][1] if watch.samples else 0) / 2 ** 20),
        "load_average_1min": {"mean": round(sum(watch.load) / max(len(watch.load), 1), 1),
                              "max": max(watch.load, default=0.0)},
        "cpus": os.cpu_count(),
        "healthz_after": healthz[1].decode(errors="replace"),
        "upload_files_left": dict(Counter("rejects" if p.name.endswith(".rejects.csv") else "other" for p in left)),
        "chunked_cut_at_mib": sorted({round(n / 2 ** 20) for n in load.cut_at}),
        "failures": record.failures,
    }
    print(f"\n{figures['seconds']} s, {total} requests ({figures['per_second']}/s), 5xx: {server_errors}, "
          f"peak RSS of the server's process tree {figures['rss_peak_mib']} MiB (idle {figures['rss_idle_mib']} MiB); "
          f"load average {figures['load_average_1min']['mean']} (max {figures['load_average_1min']['max']}) "
          f"on {figures['cpus']} CPUs")
    print(f"\n| kind | requests | p50 ms | p95 ms | answers |\n|---|---:|---:|---:|---|")
    for kind, k in figures["kinds"].items():
        answers = ", ".join(f"{s}: {n}" for s, n in sorted(k["statuses"].items()))
        print(f"| {kind} | {k['requests']} | {k['p50_ms']} | {k['p95_ms']} | {answers} |")
    print(f"\n/healthz after: {figures['healthz_after']}; files left under uploads/: {figures['upload_files_left']}")
    for failure in record.failures:
        print("FAILURE", failure)
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    sys.exit(1 if server_errors else 0)


if __name__ == "__main__":
    main()
