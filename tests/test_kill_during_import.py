"""A process killed in the middle of an import leaves the store as it was before that file."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

from govmedia.store import open_store

from util import dump, run_cli

KILL_BEFORE_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from govmedia.store import open_store
    from govmedia.ingest import pipeline
    from govmedia.ingest.forms import load_classifier

    con = open_store(sys.argv[1])
    ctx = pipeline.load_context(con, None)
    # Every row is written inside the transaction; the process dies before COMMIT.
    pipeline.import_file(con, Path(sys.argv[2]), ctx=ctx, classifier=load_classifier(),
                         before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
    """
)


def _posts_file(path, n, start=0):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["平台", "账号ID", "内容ID", "发布时间", "正文", "转发数", "评论数"])
        for i in range(start, start + n):
            writer.writerow(["微博", "1234567890", f"k{i}", f"2020-05-{1 + i % 28:02d} 10:00", f"#话题{i % 7}# 文本 {i}", i, i % 13])
    return path


def test_kill_before_commit_leaves_store_unchanged(registered, db_path, tmp_path):
    run_first = _posts_file(tmp_path / "first.csv", 50)
    from govmedia.ingest import import_path

    import_path(registered, run_first)
    before = dump(registered)
    registered.close()

    second = _posts_file(tmp_path / "second.csv", 5000, start=40)
    result = subprocess.run([sys.executable, "-c", KILL_BEFORE_COMMIT, str(db_path), str(second)])
    assert result.returncode == -signal.SIGKILL

    con = open_store(db_path)
    assert dump(con) == before
    # And the store is usable: the same file imports fine afterwards.
    from govmedia.ingest import import_path as again

    summary = again(con, second)
    assert (summary.accepted, summary.unchanged) == (4990, 10)
    con.close()


def test_kill_at_random_moments_never_leaves_half_a_file(registered, db_path, tmp_path):
    registered.close()
    big = _posts_file(tmp_path / "big.csv", 60000)
    env = dict(os.environ, GOVMEDIA_DB=str(db_path))
    for delay in (0.8, 1.6, 2.4):
        process = subprocess.Popen([sys.executable, "-m", "govmedia.cli", "import", str(big)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        con = open_store(db_path)
        count = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        snapshots = con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0]
        batches = con.execute("SELECT count(*) FROM import_batches").fetchall()[0][0]
        con.close()
        assert (count, snapshots, batches) in ((0, 0, 0), (60000, 60000, 1))
    result = run_cli("import", str(big), db=db_path)
    assert result.returncode == 0, result.stderr
