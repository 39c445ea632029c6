"""Web benchmark: latency of the leaderboard and account pages under 50 concurrent clients.

    python bench/web_bench.py --db demo-output/govmedia.duckdb [--seconds 20] [--connections 50]

Starts `govmedia serve` on a free loopback port and drives it with wrk (Debian package `wrk`,
C, so the load generator does not eat the server's CPU the way a Python client would). Each URL is
measured anonymously (what the public sees; answered from the page cache after the first request)
and with a signed-in session (every request rendered). Prints p50/p95/p99 and requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

LUA = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "errors": %d, "p50": %.3f, "p95": %.3f, "p99": %.3f, "max": %.3f, "seconds": %.3f}\\n',
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.duration / 1e6))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(base: str, user: str, password: str) -> str:
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": user, "password": password, "csrf_token": token, "next": "/"}).encode()
    opener.open(base + "/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--period", default="2020-02:2020-11")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("需要 wrk：apt-get install wrk")
    start, end = args.period.split(":")
    work = Path(tempfile.mkdtemp(prefix="govmedia-web-bench-"))
    db = work / "bench.duckdb"
    shutil.copy(args.db, db)  # the server owns its database file; do not lock the user's
    password = "bench-password-1"
    subprocess.run([sys.executable, "-m", "govmedia.cli", "--db", str(db), "users", "add", "bench", "--role", "viewer"],
                   input=password + "\n", text=True, check=True, capture_output=True)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    account = con.execute("SELECT platform, account_id FROM monthly_scores WHERE month = ? ORDER BY total DESC LIMIT 1",
                          [end]).fetchall()[0]
    con.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "govmedia.cli", "--db", str(db), "serve", "--port", str(port)],
                              env=dict(os.environ, GOVMEDIA_SECRET_KEY="bench"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        pages = {
            "leaderboard": f"/rankings?platform=weibo&category=district&from={start}&to={end}",
            "account": f"/accounts/{account[0]}/{account[1]}?from={start}&to={end}",
        }
        cookie = session_cookie(base, "bench", password)
        lua = work / "report.lua"
        lua.write_text(LUA)
        results = {}
        for name, path in pages.items():
            t0 = time.perf_counter()
            urllib.request.urlopen(base + path).read()
            first = (time.perf_counter() - t0) * 1000
            for who, headers in (("anonymous", []), ("signed-in", ["-H", f"Cookie: {cookie}"])):
                out = subprocess.run(["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                                      "--timeout", "10s", "-s", str(lua), *headers, base + path],
                                     capture_output=True, text=True, check=True).stdout
                stats = json.loads(out.strip().splitlines()[-1])
                stats["rps"] = stats["requests"] / stats["seconds"]
                stats["first_ms"] = first
                results[(name, who)] = stats
                print(f"{name:12s} {who:10s} first {first:7.1f} ms  p50 {stats['p50']:7.1f} ms  p95 {stats['p95']:7.1f} ms"
                      f"  p99 {stats['p99']:7.1f} ms  {stats['rps']:8.1f} req/s  errors {stats['errors']}")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
