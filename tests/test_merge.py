"""Merging sources without loss (issue 12, point 1): a value a source does not carry never
overwrites a known one, and the store after importing a set of files is the same whatever their
order (apart from batch provenance); a second import changes nothing."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

from govmedia.ingest import import_path
from govmedia.store import TABLES, open_store

from conftest import REGISTRY
from util import fill_store

WC_IDS = ("5035812345678901", "5035498765432109")  # two weibos of the weibo-crawler fixture
MC_IDS = ("5297301234567890", "5297012345678901")  # the first two of the MediaCrawler fixture


def sources(fixtures: Path, folder: Path) -> dict[str, Path]:
    """weibo-crawler's file, and MediaCrawler's csv and json of the same run, the first two of
    whose weibos are renamed to two of weibo-crawler's: the same posts crawled by both tools."""
    folder.mkdir()
    wc = folder / "wc"
    shutil.copytree(fixtures / "weibo-crawler" / "南京测试发布", wc / "南京测试发布")
    shutil.copy(fixtures / "weibo-crawler" / "users.csv", wc / "users.csv")
    (wc / "南京测试发布" / "1234567890.json").unlink()
    found = {"wc": wc / "南京测试发布" / "1234567890.csv"}
    for kind in ("csv", "json"):
        source = fixtures / "mediacrawler" / "data" / "weibo" / kind / f"search_contents_2026-05-20.{kind}"
        text = source.read_text(encoding="utf-8")
        for mc, wc_id in zip(MC_IDS, WC_IDS):
            text = text.replace(mc, wc_id)
        target = folder / f"mc.{kind}"
        target.write_text(text, encoding="utf-8")
        found[f"mc_{kind}"] = target
    return found


def content(con) -> dict[str, list]:
    """What imports write, without batch provenance (batch ids and the batches themselves)."""
    result = {}
    for table in ("posts", "snapshots", "post_hashtags", "comments"):
        assert table in TABLES
        columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "batch_id"]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        result[table] = sorted(rows, key=repr)
    # The topics table has no key (schema 15): the writer keeps each post's topic once.
    assert len(set(result["post_hashtags"])) == len(result["post_hashtags"])
    return result


def imported(tmp_path: Path, name: str, files: list[Path]) -> tuple[dict, list]:
    con = open_store(tmp_path / f"{name}.duckdb")
    try:
        fill_store(con, accounts=REGISTRY, folder=tmp_path)
        reports = [import_path(con, f) for f in files]
        again = [import_path(con, f) for f in files]
        return content(con), [(r.accepted, a.accepted, a.unchanged) for r, a in zip(reports, again)]
    finally:
        con.close()


def test_the_store_does_not_depend_on_the_order_of_imports(fixtures, tmp_path):
    files = sources(fixtures, tmp_path / "sources")
    results = []
    for n, order in enumerate(itertools.permutations(["wc", "mc_csv", "mc_json"])):
        stored, counts = imported(tmp_path, f"order{n}", [files[k] for k in order])
        assert all(again == 0 for _, again, _ in counts), (order, counts)  # a second import changes nothing
        results.append((order, stored))
    first = results[0][1]
    assert first["post_hashtags"]
    for order, stored in results[1:]:
        for table in first:
            assert stored[table] == first[table], (order, table)


def test_a_value_a_source_does_not_carry_never_overwrites_a_known_one(fixtures, tmp_path):
    files = sources(fixtures, tmp_path / "sources")
    con = open_store(tmp_path / "s.duckdb")
    try:
        fill_store(con, accounts=REGISTRY, folder=tmp_path)
        import_path(con, files["wc"])
        before = dict(con.execute("SELECT post_id, is_original FROM posts").fetchall())
        assert before[WC_IDS[0]] is True
        report = import_path(con, files["mc_csv"])  # MediaCrawler carries no originality
        after = dict(con.execute("SELECT post_id, is_original FROM posts").fetchall())
        assert after[WC_IDS[0]] is True and after[WC_IDS[1]] == before[WC_IDS[1]]
        url = dict(con.execute("SELECT post_id, url FROM posts").fetchall())[WC_IDS[0]]
        # The crawler's own link column beats the link weibo-crawler's importer builds from bid.
        assert url == f"https://m.weibo.cn/detail/{WC_IDS[0]}"
        # Importing the first file again changes nothing (it used to flip the link back).
        again = import_path(con, files["wc"])
        assert (again.accepted, report.files[0].rejected) == (0, 0)
        assert dict(con.execute("SELECT post_id, url FROM posts").fetchall())[WC_IDS[0]] == url
        # Both tools' counts: the undated weibo-crawler snapshot and MediaCrawler's dated one.
        snapshots = con.execute("SELECT observed_at IS NULL FROM snapshots WHERE post_id = ? ORDER BY 1",
                                [WC_IDS[0]]).fetchall()
        assert snapshots == [(False,), (True,)]
    finally:
        con.close()


def test_two_undated_rows_of_one_post_keep_every_known_count(tmp_path):
    header = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
    (tmp_path / "a.csv").write_text(header + "微博,1234567890,x1,2020-03-01 10:00,是,正文,10,,5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(header + "微博,1234567890,x1,2020-03-01 10:00,,,7,3,\n", encoding="utf-8")
    stores = []
    for name, order in (("ab", "ab"), ("ba", "ba")):
        con = open_store(tmp_path / f"{name}.duckdb")
        fill_store(con, accounts=REGISTRY, folder=tmp_path)
        for letter in order:
            import_path(con, tmp_path / f"{letter}.csv")
        stores.append(con.execute("SELECT reposts, comments, likes FROM snapshots").fetchall()
                      + con.execute("SELECT is_original, text FROM posts").fetchall())
        con.close()
    assert stores[0] == stores[1] == [(10, 3, 5), (True, "正文")]


def test_a_file_imported_meanwhile_by_another_process_is_still_unchanged(tmp_path):
    """`import_path` knows which files were imported when it starts (a statement less per file); a
    file another process imports after that is merged, not added twice: its rows are unchanged."""
    from govmedia.ingest import pipeline

    (tmp_path / "a.csv").write_text("平台,账号ID,内容ID,发布时间,正文,转发\n微博,1234567890,x1,2020-03-01 10:00,正文,10\n"
                                    "微博,1234567890,x2,2020-03-02 10:00,又一条,3\n", encoding="utf-8")
    con = open_store(tmp_path / "s.duckdb")
    fill_store(con, accounts=REGISTRY, folder=tmp_path)
    assert import_path(con, tmp_path / "a.csv").accepted == 2
    before = content(con)
    prepared, = pipeline._prepare([tmp_path / "a.csv"], ctx=pipeline.load_context(con, None),
                                  classifier=pipeline.load_classifier(None), format="auto", in_folder=False)
    report = pipeline._write(prepared, con, None, rejects_dir=None, progress=None, before_commit=None, imported=set())
    assert (report.accepted, report.unchanged, report.batch_id) == (0, 2, None)
    assert content(con) == before
    assert con.execute("SELECT count(*) FROM import_batches").fetchall() == [(1,)]
