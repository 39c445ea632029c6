"""The methodology in force: recorded when scoring, used by every read and rescore without
naming the file again; versioned per platform so that new terms elsewhere change nothing."""

from __future__ import annotations

from govmedia.methodology import builtin, in_force, load_methodology, parse_methodology
from govmedia.ranking import rank
from govmedia.scoring import score
from govmedia.scoring.explain import explain
from govmedia.store import open_store
from web_fixtures import build_store
from util import custom_methodology, run_cli


def test_scoring_records_the_methodology_and_reads_use_it(tmp_path):
    db = build_store(tmp_path)
    custom = custom_methodology(tmp_path, "GMI-本地")
    m = load_methodology(custom)
    con = open_store(db)
    assert in_force(con).sha256 == builtin().sha256
    score(con, "2020-02", "2020-03", methodology=custom)
    assert in_force(con).sha256 == m.sha256
    told = explain(con, "weibo", "A", "2020-03", m)
    untold = explain(con, "weibo", "A", "2020-03")
    assert untold.methodology_sha256 == m.sha256 and abs(untold.total - told.total) < 1e-12
    assert not untold.stored_differs
    assert [d.weight for d in untold.dimensions] == [0.4, 0.2, 0.2, 0.2]
    # A rescore without a methodology keeps the one in force.
    before = rank(con, "weibo", "district", "2020-02", "2020-03")
    score(con, "2020-02", "2020-03")
    assert in_force(con).sha256 == m.sha256
    assert rank(con, "weibo", "district", "2020-02", "2020-03") == before
    con.close()
    # The command line: explain and db info without naming the file.
    info = run_cli("db", "info", db=db)
    assert info.returncode == 0 and "GMI-本地" in info.stdout and m.sha256 in info.stdout
    printed = run_cli("explain", "weibo:A", "--month", "2020-03", db=db)
    assert printed.returncode == 0, printed.stderr
    assert m.sha256 in printed.stdout and "注意" not in printed.stdout
    assert f"月度总分 = 0.4×传播力 + 0.2×互动力 + 0.2×创新力 + 0.2×影响力 = {told.total:.4f}" in printed.stdout


def test_platform_hashes_ignore_other_platforms_and_comments():
    base = builtin()
    text = base.text
    commented = parse_methodology(("# 新增说明\n" + text).encode(), "x.toml")
    assert commented.sha256 != base.sha256
    assert all(commented.platform_sha256(p) == base.platform_sha256(p) for p in ("weibo", "wechat", "douyin"))
    # New weights for Douyin only: Weibo and WeChat scores are still "by this methodology".
    marker = "[dimensions.douyin]\nreach = [\n  { weight = "
    assert marker in text
    douyin = parse_methodology(text.replace(marker + "0.2,", marker + "0.25,", 1).encode(), "d.toml")
    changed = [p for p in ("weibo", "wechat", "douyin") if douyin.platform_sha256(p) != base.platform_sha256(p)]
    assert changed == ["douyin"]
    assert douyin.same_scores_as(base, "weibo") and not douyin.same_scores_as(base, "douyin")


def test_a_period_out_of_bounds_is_one_line_on_the_command_line(tmp_path):
    db = build_store(tmp_path)
    result = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "1819-10", "--to",
                     "8819-10", db=db)
    assert result.returncode == 2
    assert result.stderr.strip() == "错误: --from: 年份应在 2000–2099 之间，而不是 1819"
    result = run_cli("rank", "--platform", "weibo", "--category", "district", "--from", "2020-11", "--to",
                     "2020-02", db=db)
    assert "--from/--to: 起始月份 2020-11 晚于结束月份 2020-02" in result.stderr


def test_every_write_door_records_its_audit_entry_with_the_write(tmp_path):
    from govmedia.core.errors import FieldError
    from govmedia.ingest.evaluation import save_case
    from govmedia.store.users import audit_entries

    db = build_store(tmp_path)
    # The command line audits as the operating-system user.
    result = run_cli("score", "--from", "2020-02", "--to", "2020-02", db=db)
    assert result.returncode == 0, result.stderr
    con = open_store(db)
    entries = audit_entries(con)
    assert entries[0]["action"] == "scores.compute" and entries[0]["username"].startswith("命令行")
    # A refused write leaves neither the row nor an audit entry.
    before = len(audit_entries(con))
    cells = {"case_id": "X1", "title": "无效", "month": "2020-02", "score": "5", "platform": "weibo",
             "account_ids": "NOPE"}
    try:
        save_case(con, cells, "editor1")
    except FieldError as exc:
        assert exc.field == "account_ids" and "NOPE" in exc.reason
    else:
        raise AssertionError("a case for an unregistered account was saved")
    assert len(audit_entries(con)) == before
    assert not con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    saved, _ = save_case(con, {**cells, "account_ids": "A"}, "editor1")
    assert saved.accounts == ("A",) and audit_entries(con)[0]["action"] == "cases.save"
    con.close()
