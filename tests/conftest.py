from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from govmedia.ingest.accounts import read_accounts
from govmedia.store import open_store
from govmedia.store.accounts import upsert_accounts

FIXTURES = Path(__file__).parent / "fixtures"

# Compiled scoring SQL is cached (govmedia.scoring.compiled_sql); tests keep theirs to themselves.
os.environ.setdefault("GOVMEDIA_CACHE_DIR", tempfile.mkdtemp(prefix="govmedia-test-cache-"))

REGISTRY = """平台,账号ID,名称,类别,主办单位,地区,粉丝数
微博,1234567890,南京测试发布,区级,测试区委宣传部,测试区,3125478
微博,2222222222,南京交警测试,民生,南京市公安局交通管理局,南京市,1200000
抖音,98765432100,南京测试发布,综合,测试区委宣传部,测试区,
微信,MzA5NDAwMDAwMA==,南京测试发布,综合,测试区委宣传部,测试区,
微信,MzI4MDAwMDAwMQ==,南京测试公众号二,民生,,南京市,
"""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def con(db_path: Path):
    connection = open_store(db_path)
    yield connection
    connection.close()


@pytest.fixture
def registered(con, tmp_path: Path):
    """A store with the fixture accounts registered."""
    path = tmp_path / "accounts.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    _, rows, rejects = read_accounts(path)
    assert not rejects
    upsert_accounts(con, rows)
    return con


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A private copy of the fixture files (imports write rejects files next to them)."""
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    return target


def dump(con) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: equal dumps mean equal stores."""
    from govmedia.store import TABLES

    result = {}
    for table in TABLES:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
        result[table] = sorted(rows, key=repr)
    return result


def run_cli(*args: str, db: Path | None = None, input: str | None = None, cwd: Path | None = None):
    env = dict(os.environ)
    if db is not None:
        env["GOVMEDIA_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "govmedia.cli", *args],
        capture_output=True, text=True, env=env, input=input, cwd=cwd, timeout=300,
    )
