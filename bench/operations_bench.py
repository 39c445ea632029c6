"""Daily-operation benchmark (issue 11): the site's latency while the shell imports into the same store.

    python bench/operations_bench.py --db demo-output/govmedia.duckdb --exports demo-output/exports \\
        [--accounts demo-output/accounts.xlsx] [--seconds 20] [--skip-fresh] [--skip-import-timing]

Works on copies only: the store is copied into a temporary folder, and so is the exports folder
(an import writes `.rejects.csv` files beside its inputs; this script also sends them to a
folder of its own with `--rejects-dir`). Starts `govmedia serve` on a free loopback port and
drives it with wrk (Debian package `wrk`), like bench/web_bench.py. Pages: the leaderboard
(`/rankings?platform=weibo&category=district&from=…&to=…`) and the account page of the
leaderboard's leader in the last month (`/accounts/<platform>/<id>?from=…&to=…`).

Cases, one line each (latencies in ms, from wrk; errors = non-2xx/3xx + socket errors + timeouts):

(a) idle       50 connections, 2 threads, --seconds each, anonymous and signed in, pages warmed
(b) reimport   the same, while `govmedia --db COPY import EXPORTS_COPY` runs from the shell
               (most rows "unchanged"); the import is started again if it ends before the runs do
(b) fresh      the same on a copy emptied of posts (scores kept) while the import writes everything
(c) sign-in    sign in, then at once wrk -c 200 for 10 s on `/` and the two pages, anonymous
(c) small imp  import one small file (a copy of a Douyin CSV with one like count changed, so the
               import writes and bumps `<db>.version`), then at once wrk -c 200 for 10 s, anonymous
import timing  the whole exports folder with the site running idle and with no site at all
upload         (issue 25) the zipped exports/weibo-crawler folder, one like count changed, uploaded
               through POST /api/v1/imports to a served copy while wrk reads the two pages (25 + 25
               connections, for as long as the command line took), against `govmedia import` of the
               same folder into another copy with a site running idle; then the leaderboard, whose
               period holds the changed month, requested once right after the job ends

After each phase the server's VmHWM / VmRSS (from /proc/<pid>/status) are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_bench import LUA, free_port, session_cookie  # noqa: E402

PY = sys.executable
PASSWORD = "bench-password-1"
SMALL = "mediacrawler/data/douyin/csv/creator_contents_2020-01-01.csv"


def cli(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "govmedia.cli", "--db", str(db), *args], input=stdin, text=True,
                          capture_output=True, check=True)


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def memory(pid: int) -> str:
    """The server's memory: with several worker processes, each worker's (the supervisor's aside)."""
    parts = []
    for one in [pid, *_children(pid)]:
        try:
            fields = _status(one)
        except OSError:
            continue
        parts.append(f"[{one}] VmHWM {fields.get('VmHWM')}  VmRSS {fields.get('VmRSS')}")
    return "  ".join(parts)


class Server:
    def __init__(self, db: Path, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen([PY, "-m", "govmedia.cli", "--db", str(db), "serve", "--port", str(self.port)],
                                     env=dict(os.environ, GOVMEDIA_SECRET_KEY="bench"),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("server did not start")

    def get_ms(self, path: str) -> float:
        import urllib.error

        t0 = time.perf_counter()
        try:
            urllib.request.urlopen(self.base + path, timeout=60).read()
        except urllib.error.HTTPError as exc:  # e.g. 400 on a store with no scores for the period
            print(f"  {path}: HTTP {exc.code}", flush=True)
        return (time.perf_counter() - t0) * 1000

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Import:
    """`govmedia import` started from the shell, in the background."""

    def __init__(self, db: Path, path: Path, rejects: Path, log: Path):
        self.log = log.open("w")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([PY, "-m", "govmedia.cli", "--db", str(db), "import", str(path),
                                      "--rejects-dir", str(rejects), "--json"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.seconds: float | None = None

    def running(self) -> bool:
        if self.proc.poll() is None:
            return True
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.t0
            self.log.close()
        return False

    def wait(self) -> float:
        self.proc.wait()
        self.running()
        return self.seconds


def wrk(base: str, path: str, seconds: float, connections: int, lua: Path, cookie: str | None = None) -> dict:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
                          "--timeout", "40s", "-s", str(lua), *headers, base + path],
                         capture_output=True, text=True, check=True).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    stats["rps"] = stats["requests"] / stats["seconds"] if stats["seconds"] else 0.0
    return stats


def line(case: str, page: str, who: str, stats: dict, extra: str = "") -> None:
    print(f"{case:14s} {page:11s} {who:9s} n {stats['requests']:6d}  p50 {stats['p50']:8.1f}  p95 {stats['p95']:8.1f}"
          f"  p99 {stats['p99']:8.1f}  max {stats['max']:8.1f} ms  {stats['rps']:7.1f} req/s  errors {stats['errors']}"
          f"{('  ' + extra) if extra else ''}", flush=True)


def changed_copy(src: Path, dst: Path, bump: int, column: str = "liked_count") -> None:
    """`src` with the first row's like count (`column`) raised by `bump`, so importing it changes the store."""
    with src.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    col = rows[0].index(column)
    rows[1][col] = str(int(rows[1][col] or 0) + bump)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)


def fresh_store(path: Path, accounts: Path) -> None:
    cli(path, "accounts", "import", str(accounts))
    cli(path, "users", "add", "bench", "--role", "viewer", stdin=PASSWORD + "\n")


def emptied_store(src: Path, path: Path) -> None:
    """A copy of `src` without its posts (and their snapshots, comments, hashtags and import
    batches) but with its accounts, users and scores, so the pages answer while an import writes
    every row again (a store with accounts only answers 400 for a period it has no scores for)."""
    import duckdb

    shutil.copy(src, path)
    con = duckdb.connect(str(path))
    for table in ("snapshots", "comments", "post_hashtags", "posts", "import_batches"):
        con.execute(f"DELETE FROM {table}")
    con.execute("CHECKPOINT")
    con.close()


class Load:
    """wrk on the two pages (25 + 25 connections by default) for `seconds`, in the background."""

    def __init__(self, base: str, pages: dict, seconds: float, connections: int, lua: Path):
        import threading

        self.results: dict[str, dict] = {}

        def run(name: str, path: str) -> None:
            self.results[name] = wrk(base, path, seconds, connections // 2, lua)

        self.threads = [threading.Thread(target=run, args=item) for item in pages.items()]
        for t in self.threads:
            t.start()

    def running(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def report(self, case: str, note: str) -> None:
        for t in self.threads:
            t.join()
        for name, stats in self.results.items():
            line(case, name, "anonymous", stats, note)


def _upload(server: Server, archive: Path, auth: str) -> tuple[dict, float, list]:
    """POST the zip to /api/v1/imports and poll the job to its end: (job, seconds, files_done seen)."""
    import urllib.error

    boundary = "govmediabench"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{archive.name}\"\r\n"
            "Content-Type: application/zip\r\n\r\n").encode() + archive.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.base + "/api/v1/imports", data=body, method="POST", headers={
        "Authorization": auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    t0 = time.perf_counter()
    job_id = json.loads(urllib.request.urlopen(request, timeout=120).read())["job_id"]
    seen = []
    while True:
        request = urllib.request.Request(f"{server.base}/api/v1/jobs/{job_id}", headers={"Authorization": auth})
        try:
            job = json.loads(urllib.request.urlopen(request, timeout=60).read())
        except urllib.error.HTTPError as exc:
            seen.append(f"HTTP {exc.code}")
            time.sleep(0.5)
            continue
        seen.append((job.get("progress") or {}).get("files_done"))
        if job["state"] in ("done", "failed", "interrupted"):
            return job, time.perf_counter() - t0, seen
        time.sleep(0.5)


def upload_case(args, work: Path, exports: Path, lua: Path, pages: dict) -> None:
    """Issue 25: the zipped `exports/weibo-crawler` folder (one like count changed, so one month
    changes) uploaded through `POST /api/v1/imports`, against `govmedia import` of the same folder
    into another copy with a site running; each with the site idle and under the idle load (wrk on
    the two pages), each on a fresh copy of the store."""
    import base64
    import zipfile

    folder = work / "upload-src" / "weibo-crawler"
    shutil.copytree(exports / "weibo-crawler", folder)
    first = sorted(f for f in folder.rglob("*.csv") if f.name != "users.csv")[0]
    changed_copy(first, first, 777, "点赞数")  # weibo-crawler's column
    with first.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    changed_month = rows[1][rows[0].index("完整日期")][:7]
    archive = work / "weibo-crawler.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(folder.parent).as_posix())
    files = sum(1 for _ in folder.rglob("*.csv"))
    print(f"upload: {archive.stat().st_size / 1e6:.1f} MB zip of {files} files; {first.name} changed in "
          f"{changed_month}", flush=True)
    auth = "Basic " + base64.b64encode(f"uploader:{PASSWORD}".encode()).decode()
    took: dict[tuple[str, str], float] = {}
    for how in ("command line", "upload"):
        for loaded in (False, True):
            label = f"{how}, site {'under load' if loaded else 'idle'}"
            db = work / f"upload-{how.replace(' ', '-')}-{loaded}" / "store.duckdb"
            db.parent.mkdir()
            shutil.copy(args.db, db)
            cli(db, "users", "add", "uploader", "--role", "editor", stdin=PASSWORD + "\n")
            server = Server(db, db.parent / "serve.log")
            try:
                for path in pages.values():
                    server.get_ms(path)
                seconds = max(5, round(took.get(("command line", "idle"), 30)))
                load = Load(server.base, pages, seconds, args.connections, lua) if loaded else None
                if how == "command line":
                    rejects = db.parent / "rejects"
                    rejects.mkdir()
                    imp = Import(db, folder, rejects, db.parent / "import.log")
                    took[(how, "load" if loaded else "idle")] = imp.wait()
                    print(f"{label}: {imp.seconds:.1f} s (exit {imp.proc.returncode})", flush=True)
                else:
                    job, secs, seen = _upload(server, archive, auth)
                    ended = time.perf_counter()
                    took[(how, "load" if loaded else "idle")] = secs
                    still = load is not None and load.running()
                    after_ms = server.get_ms(pages["leaderboard"])
                    moved = sorted({s for s in seen if isinstance(s, int)})
                    result = job.get("result") or {}
                    print(f"{label}: job {job['state']} in {secs:.1f} s; progress seen at files {moved[:3]}…{moved[-3:]}"
                          f"; accepted {result.get('accepted')}, unchanged {result.get('unchanged')}, rescored "
                          f"{[(r['from'], r['to']) for r in result.get('rescored', [])]}; error {job.get('error')}",
                          flush=True)
                    print(f"  leaderboard (its period holds {changed_month}) right after the job: {after_ms:.0f} ms, "
                          f"asked {1000 * (time.perf_counter() - ended) - after_ms:.0f} ms after the job ended"
                          f"{'; the load was still running' if still else ''}", flush=True)
                if load is not None:
                    load.report(f"{how[:7]} load", "the import ended before the load" if
                                took[(how, "load")] < seconds else "the load ended before the import")
                print(f"  server: {memory(server.proc.pid)}", flush=True)
            finally:
                server.stop()
    for kind in ("idle", "load"):
        print(f"upload / command line, site {kind}: {took[('upload', kind)] / took[('command line', kind)]:.2f}x",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--exports", required=True, type=Path)
    parser.add_argument("--accounts", type=Path, default=Path("demo-output/accounts.xlsx"),
                        help="account register for the fresh store of case (b) fresh")
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration in (a) and (b)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--period", default="2020-02:2020-11")
    parser.add_argument("--cases", default="a,c,timing,b,fresh",
                        help="which cases to run, comma-separated: a, c, timing, b, fresh, fresh-timing (timing "
                             "includes it), upload (issue 25: a zipped crawler folder through the API under load)")
    parser.add_argument("--skip-fresh", action="store_true", help="same as leaving `fresh` out of --cases")
    parser.add_argument("--skip-import-timing", action="store_true", help="same as leaving `timing` out of --cases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("需要 wrk：apt-get install wrk")
    start, end = args.period.split(":")
    cases = set(args.cases.split(","))
    if args.skip_fresh:
        cases.discard("fresh")
    if args.skip_import_timing:
        cases.discard("timing")
    work = Path(tempfile.mkdtemp(prefix="govmedia-ops-bench-"))
    print(f"work folder {work}", flush=True)
    db = work / "store" / "bench.duckdb"
    db.parent.mkdir()
    shutil.copy(args.db, db)
    exports = work / "exports"
    shutil.copytree(args.exports, exports)
    rejects = work / "rejects"
    rejects.mkdir()
    lua = work / "report.lua"
    lua.write_text(LUA)
    cli(db, "users", "add", "bench", "--role", "viewer", stdin=PASSWORD + "\n")
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    leader = con.execute("SELECT platform, account_id FROM monthly_scores WHERE month = ? ORDER BY total DESC LIMIT 1",
                         [end]).fetchall()[0]
    con.close()
    pages = {
        "leaderboard": f"/rankings?platform=weibo&category=district&from={start}&to={end}",
        "account": f"/accounts/{leader[0]}/{leader[1]}?from={start}&to={end}",
    }
    print(f"pages {pages}", flush=True)
    version = Path(f"{db}.version")
    worst = 0.0
    servers: list[Server] = []
    imports: list[Import] = []
    try:
        if "upload" in cases:
            upload_case(args, work, exports, lua, pages)
            cases.discard("upload")
            if not cases:
                return
        server = Server(db, work / "serve-1.log")
        servers.append(server)
        for name, path in pages.items():
            print(f"first request {name}: {server.get_ms(path):.1f} ms", flush=True)
        cookie = session_cookie(server.base, "bench", PASSWORD)

        # (a) idle
        for name, path in (pages.items() if "a" in cases else ()):
            server.get_ms(path)
            for who, c in (("anonymous", None), ("signed-in", cookie)):
                line("(a) idle", name, who, wrk(server.base, path, args.seconds, args.connections, lua, c))
        print(f"server after (a): {memory(server.proc.pid)}", flush=True)

        # (c) right after a sign-in: 200 connections, 10 s, anonymous; first without a sign-in (control)
        targets = {"home": "/", **pages} if "c" in cases else {}
        for name, path in targets.items():
            server.get_ms(path)
        for name, path in targets.items():
            line("(c) control", name, "anonymous", wrk(server.base, path, 10, 200, lua), "no sign-in before")
        for name, path in targets.items():
            v0 = version.read_text() if version.exists() else "0"
            t0 = time.perf_counter()
            session_cookie(server.base, "bench", PASSWORD)
            signin = (time.perf_counter() - t0) * 1000
            v1 = version.read_text() if version.exists() else "0"
            line("(c) sign-in", name, "anonymous", wrk(server.base, path, 10, 200, lua),
                 f"sign-in {signin:.0f} ms, version {v0}->{v1}")
        print(f"server after (c) sign-in: {memory(server.proc.pid)}", flush=True)

        # (c) right after an import of one small file (changed, so it bumps the version)
        for i, (name, path) in enumerate(targets.items(), start=1):
            server.get_ms(path)
            small = work / "small" / str(i) / Path(SMALL).name
            changed_copy(exports / SMALL, small, 1000 * i)
            v0 = version.read_text() if version.exists() else "0"
            t0 = time.perf_counter()
            cli(db, "import", str(small), "--rejects-dir", str(rejects))
            took = time.perf_counter() - t0
            v1 = version.read_text() if version.exists() else "0"
            line("(c) small imp", name, "anonymous", wrk(server.base, path, 10, 200, lua),
                 f"import {took:.1f} s, version {v0}->{v1}")
        print(f"server after (c) small import: {memory(server.proc.pid)}", flush=True)

        # import timing with the site idle
        if "timing" in cases:
            v0 = version.read_text() if version.exists() else "0"
            imp = Import(db, exports, rejects, work / "import-idle-site.log")
            took = imp.wait()
            v1 = version.read_text() if version.exists() else "0"
            print(f"import of the exports, site idle: {took:.1f} s (exit {imp.proc.returncode}), version {v0}->{v1}",
                  flush=True)

        # (b) while the shell re-imports the exports
        for name, path in pages.items():
            server.get_ms(path)
        imp = Import(db, exports, rejects, work / "import-b-1.log") if "b" in cases else None
        imports += [imp] if imp else []
        for name, path in (pages.items() if imp else ()):
            for who, c in (("anonymous", None), ("signed-in", cookie)):
                if not imp.running():
                    print(f"  (import ended after {imp.seconds:.1f} s, exit {imp.proc.returncode}; starting another)",
                          flush=True)
                    imp = Import(db, exports, rejects, work / f"import-b-{len(imports) + 1}.log")
                    imports.append(imp)
                stats = wrk(server.base, path, args.seconds, args.connections, lua, c)
                worst = max(worst, stats["max"])
                line("(b) reimport", name, who, stats, "import still running" if imp.running() else "import ended")
        if imp:
            imp.wait()
            v = version.read_text() if version.exists() else "0"
            print(f"  re-import under load: {', '.join(f'{i.seconds:.1f} s (exit {i.proc.returncode})' for i in imports)}"
                  f"; store version now {v}", flush=True)
        print(f"server after (b): {memory(server.proc.pid)}", flush=True)
        server.stop()
        servers.remove(server)

        if "timing" in cases:
            imp = Import(db, exports, rejects, work / "import-no-site.log")
            print(f"import of the exports, no site: {imp.wait():.1f} s (exit {imp.proc.returncode})", flush=True)

        # (b) fresh store: the import writes everything
        if "fresh" in cases:
            fresh = work / "fresh" / "fresh.duckdb"
            fresh.parent.mkdir()
            emptied_store(db, fresh)
            server = Server(fresh, work / "serve-fresh.log")
            servers.append(server)
            cookie = session_cookie(server.base, "bench", PASSWORD)
            for name, path in pages.items():
                server.get_ms(path)
            imports = [Import(fresh, exports, rejects, work / "import-fresh-1.log")]
            imp = imports[0]
            for name, path in pages.items():
                for who, c in (("anonymous", None), ("signed-in", cookie)):
                    if not imp.running():
                        print(f"  (import ended after {imp.seconds:.1f} s; further runs are after it)", flush=True)
                    stats = wrk(server.base, path, args.seconds, args.connections, lua, c)
                    worst = max(worst, stats["max"])
                    line("(b) fresh", name, who, stats, "import still running" if imp.running() else "import ended")
            print(f"  fresh import under load: {imp.wait():.1f} s (exit {imp.proc.returncode})", flush=True)
            print(f"  fresh store version after it: {Path(f'{fresh}.version').read_text()}", flush=True)
            print(f"server after (b) fresh: {memory(server.proc.pid)}", flush=True)
            for name, path in pages.items():
                print(f"  after the fresh import, first request {name}: {server.get_ms(path):.1f} ms", flush=True)
            server.stop()
            servers.remove(server)
        # import timing of the emptied copy (every row written), site idle vs no site
        if "timing" in cases or "fresh-timing" in cases:
            for label, with_site in (("site idle", True), ("no site", False)):
                other = work / f"fresh-{with_site}" / "fresh.duckdb"
                other.parent.mkdir()
                emptied_store(db, other)
                if with_site:
                    servers.append(Server(other, work / "serve-fresh-idle.log"))
                imp = Import(other, exports, rejects, work / f"import-fresh-{label}.log")
                print(f"fresh import of the exports, {label}: {imp.wait():.1f} s (exit {imp.proc.returncode})",
                      flush=True)
                if with_site:
                    servers.pop().stop()
        print(f"longest wait a read saw in (b): {worst:.1f} ms", flush=True)
    finally:
        for s in servers:
            s.stop()
        for i in imports:
            if i.proc.poll() is None:
                i.proc.terminate()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
