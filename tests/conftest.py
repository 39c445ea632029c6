from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from govmedia.store import open_store

from util import FIXTURES, REGISTRY, fill_store  # helpers live in util.py

# Compiled scoring SQL is cached (govmedia.scoring.compiled_sql); tests keep theirs to themselves.
os.environ.setdefault("GOVMEDIA_CACHE_DIR", tempfile.mkdtemp(prefix="govmedia-test-cache-"))


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
    fill_store(con, accounts=REGISTRY, folder=tmp_path)
    return con


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A private copy of the fixture files (imports write rejects files next to them)."""
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target, ignore=shutil.ignore_patterns("generated"))
    return target


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A private copy of the files the crawlers' own writer code wrote (tests/fixtures/generated)."""
    target = tmp_path / "generated"
    shutil.copytree(FIXTURES / "generated", target, ignore=shutil.ignore_patterns("scripts", "README.md"))
    return target


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The small scored web store (tests/web_fixtures.py)."""
    from web_fixtures import build_store

    return build_store(tmp_path)


@pytest.fixture
def client(db: Path):
    """A TestClient of the site on `db`."""
    from fastapi.testclient import TestClient

    from govmedia.web import create_app

    app = create_app(db, secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.store.close()
