"""Helpers shared by the tests: one factory for a registered, imported, scored store; the CLI,
in-process (`cli`) or as a real process (`run_cli`); a dump of every table.

Fixtures live in conftest.py; this module holds plain functions and data only.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

FIXTURES = Path(__file__).parent / "fixtures"

REGISTRY = """平台,账号ID,名称,类别,主办单位,地区,粉丝数
微博,1234567890,南京测试发布,区级,测试区委宣传部,测试区,3125478
微博,2222222222,南京交警测试,民生,南京市公安局交通管理局,南京市,1200000
抖音,98765432100,南京测试发布,综合,测试区委宣传部,测试区,
微信,MzA5NDAwMDAwMA==,南京测试发布,综合,测试区委宣传部,测试区,
微信,MzI4MDAwMDAwMQ==,南京测试公众号二,民生,,南京市,
"""

PASSWORD = "correct horse battery"
# users=True gives one user of each role.
STANDARD_USERS = (("viewer1", "viewer"), ("editor1", "editor"), ("admin1", "admin"))


# --------------------------------------------------------------------------- the store factory


@dataclass
class Loaded:
    """What fill_store read: the rows each input refused (empty unless strict=False)."""

    rejects: dict[str, list] = field(default_factory=dict)
    imported: Any = None  # the import summary (CSV posts) or write result (Post rows)

    @property
    def clean(self) -> bool:
        return not any(self.rejects.values())


def _text_file(folder: Path, name: str, content: str | Sequence[Sequence]) -> Path:
    """CSV text as is, or rows (the first one the header) written as CSV."""
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(content)
    return path


def _is_text(value) -> bool:
    return isinstance(value, str) or (bool(value) and isinstance(value[0], (list, tuple)) and
                                      not hasattr(value[0], "_fields") and not hasattr(value[0], "__dataclass_fields__"))


def _account_rows(accounts: Sequence) -> list:
    """(platform, account_id, name, category[, followers]) tuples as registry rows."""
    from govmedia.core.rows import AccountRow

    rows = []
    for line, account in enumerate(accounts, start=2):
        if isinstance(account, AccountRow):
            rows.append(account)
            continue
        platform, account_id, name, category, *rest = account
        rows.append(AccountRow(line, platform, account_id, name, category, None, None,
                               rest[0] if rest else None, None, None))
    return rows


def fill_store(
    con,
    *,
    accounts: str | Sequence | None = None,
    posts: str | Sequence | None = None,
    cases: str | Sequence | None = None,
    campaigns: str | Sequence | None = None,
    participations: str | Sequence | None = None,
    score: tuple[str, str] | None = None,
    methodology: str | Path | None = None,
    users: bool | Sequence[tuple[str, str]] = False,
    password: str = PASSWORD,
    folder: Path | None = None,
    strict: bool = True,
) -> Loaded:
    """Register, import, add evaluation data, score and add users, through the library, in that order.

    accounts: registry CSV text (Chinese or English headers), or (platform, account_id, name,
      category[, followers]) tuples / AccountRow rows.
    posts: post CSV text, CSV rows (header first), or core.rows.Post rows (written with write_posts,
      for data a file cannot say, e.g. microsecond snapshot times).
    cases, campaigns, participations: CSV text, or the parsed rows (Case, Campaign, Participation).
    score: (first month, last month) to score, with `methodology` (None: GMI-1).
    users: True for STANDARD_USERS, or (username, role) pairs; all get `password`.
    Input files are written to `folder` (a new temporary directory if None). With strict (the
    default) every input must be read without a reject.
    """
    from govmedia.ingest import import_path
    from govmedia.ingest.accounts import read_accounts
    from govmedia.ingest.evaluation import read_campaigns, read_cases, read_participations
    from govmedia.store.accounts import upsert_accounts
    from govmedia.store.evaluation import (campaign_ids, post_finder, registry_by_platform, save_campaigns, save_cases,
                                           save_participations)

    loaded = Loaded()
    made: list[Path] = [] if folder is None else [folder]

    def write(name: str, content) -> Path:
        if not made:  # a temporary directory only when some input is a file
            made.append(Path(tempfile.mkdtemp(prefix="govmedia-test-store-")))
        made[0].mkdir(parents=True, exist_ok=True)
        return _text_file(made[0], name, content)

    if accounts is not None:
        if isinstance(accounts, str):
            _, rows, loaded.rejects["accounts"] = read_accounts(write("accounts.csv", accounts))
        else:
            rows = _account_rows(accounts)
        upsert_accounts(con, rows)

    if posts is not None:
        if _is_text(posts):
            summary = import_path(con, write("posts.csv", posts))
            loaded.rejects["posts"] = [r for f in summary.files for r in f.rejects]
            loaded.imported = summary
        else:
            from govmedia.store.writer import BatchInfo, write_posts

            digest = hashlib.sha256(repr(list(posts)).encode()).hexdigest()
            loaded.imported = write_posts(con, list(posts), BatchInfo("posts", "posts", digest, "generic"), rejected=0)

    def evaluation(kind, content, read, save, *context):
        if content is None:
            return
        if isinstance(content, str):
            _, rows, loaded.rejects[kind] = read(write(f"{kind}.csv", content), *context)
        else:
            rows = list(content)
        save(con, rows)

    if cases is not None:
        evaluation("cases", cases, read_cases, save_cases, registry_by_platform(con), None, post_finder(con))
    evaluation("campaigns", campaigns, read_campaigns, save_campaigns)
    if participations is not None:
        evaluation("participations", participations, read_participations, save_participations,
                   registry_by_platform(con), campaign_ids(con))

    if strict:
        assert loaded.clean, {kind: [getattr(r, "reason", r) for r in rows[:3]]
                              for kind, rows in loaded.rejects.items() if rows}

    if score is not None:
        from govmedia.scoring import score as score_months

        score_months(con, *score, methodology=methodology)

    if users:
        from govmedia.store.users import add_user

        for username, role in STANDARD_USERS if users is True else users:
            add_user(con, username, password, role)
    return loaded


def make_store(path: Path, **inputs) -> Path:
    """A store file at `path` filled by fill_store (input files next to it unless folder= says
    otherwise), closed again: open it with open_made (or the code under test)."""
    from govmedia.store import open_store

    inputs.setdefault("folder", path.parent)
    con = open_store(path)
    try:
        fill_store(con, **inputs)
    finally:
        con.close()
    return path


@contextlib.contextmanager
def open_made(path: Path, *, read_only: bool = False) -> Iterator:
    """A connection to a store made by make_store, closed on leaving the block."""
    from govmedia.store import open_store

    con = open_store(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def dump(con) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: equal dumps mean equal stores."""
    from govmedia.store import TABLES

    result = {}
    for table in TABLES:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
        result[table] = sorted(rows, key=repr)
    return result


# --------------------------------------------------------------------------- the command line


class CliResult(NamedTuple):
    exit_code: int
    stdout: str
    stderr: str


class _Main:
    """govmedia.cli.main() as a click command for CliRunner: a UserError becomes one line on
    stderr and its exit code, exactly as for the installed `govmedia` command."""

    name = "govmedia"

    def main(self, args=(), prog_name=None, **_):
        from govmedia import cli as module

        argv = sys.argv
        sys.argv = [prog_name or self.name, *args]
        try:
            module.main()
        finally:
            sys.argv = argv


def cli(*args: str, db: Path | None = None, input: str | None = None, cwd: Path | None = None) -> CliResult:
    """Run `govmedia *args` in this process with GOVMEDIA_DB set to `db`: click's CliRunner (which
    typer.testing.CliRunner extends) on govmedia.cli.main, so exit codes and one-line errors are the
    installed command's.

    An exception the CLI does not turn into an exit code (a bug) is raised here, not hidden in
    an exit code. Use run_cli where a real process is the point (locks, kills).
    """
    from click.testing import CliRunner

    env = {"GOVMEDIA_DB": str(db)} if db is not None else {}
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = CliRunner().invoke(_Main(), list(args), input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def run_cli(*args: str, db: Path | None = None, input: str | None = None, cwd: Path | None = None):
    """Run `python -m govmedia.cli *args` as a separate process (returncode, stdout, stderr)."""
    env = dict(os.environ)
    if db is not None:
        env["GOVMEDIA_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "govmedia.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=300,
    )


def custom_methodology(folder: Path, name: str | None = None) -> Path:
    """A copy of GMI-1 whose snapshot window (24 h) and total weights (reach 0.40, engagement 0.20)
    differ, so that every figure it scores differs from GMI-1's."""
    from govmedia.methodology import builtin

    text = builtin().text
    assert "window_hours = 168" in text and "reach = 0.30" in text and "engagement = 0.30" in text
    text = text.replace("window_hours = 168", "window_hours = 24")
    text = text.replace("reach = 0.30", "reach = 0.40", 1).replace("engagement = 0.30", "engagement = 0.20", 1)
    if name:
        text = text.replace('name = "GMI-1"', f'name = "{name}"', 1)
    path = folder / "custom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db: Path, *args: str, **env: str) -> Iterator[str]:
    """`govmedia serve [args]` on `db` in its own process (as an office runs it); yields its base URL."""
    import time
    import urllib.request

    import pytest

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "govmedia.cli", "serve", "--port", str(port), *args],
                              env=dict(os.environ, GOVMEDIA_DB=str(db), **env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            server.terminate()  # the supervisor stops its worker processes too
            server.wait(10)
            pytest.fail("server did not start: " + server.stdout.read().decode())
        yield base
    finally:
        server.terminate()
        server.wait(10)
