"""Oversight (issue 6): every rule at its boundaries, the dictionaries, comment response, storage."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from govmedia.core.errors import UserError
from govmedia.oversight import (
    latest_summary, load_rules, pass_rates, quarter_check_point, run_check, stored_check,
)
from govmedia.oversight.dictionary import SENSITIVE, SERIOUS, Entry, Scanner, load_scanner, parse_dictionary

AT = date(2020, 12, 1)
AT_UTC = datetime(2020, 11, 30, 16, 0)  # 2020-12-01 00:00 Asia/Shanghai


def add_account(con, account_id, *, platform="weibo", name=None, region="玄武区", category="district",
                active=True, opened_at=None):
    con.execute(
        "INSERT INTO accounts (platform, account_id, name, category, region, active, opened_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [platform, account_id, name or f"账号{account_id}", category, region, active, opened_at],
    )


_post_ids = iter(range(1, 10_000_000))


def add_post(con, account_id, published_at_utc, *, platform="weibo", text="今日发布", is_original=True,
             title=None, post_id=None):
    post_id = post_id or f"p{next(_post_ids)}"
    con.execute(
        "INSERT INTO posts (platform, post_id, account_id, published_at, is_original, title, text) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [platform, post_id, account_id, published_at_utc, is_original, title, text],
    )
    return post_id


def row_of(result, account_id):
    return next(r for r in result.rows if r["account_id"] == account_id)


# --------------------------------------------------------------------------- update rule


def test_exactly_fourteen_days_before_counts_and_one_second_earlier_does_not(con):
    add_account(con, "edge")
    add_account(con, "late")
    add_post(con, "edge", AT_UTC - timedelta(days=14))  # 2020-11-17 00:00 Shanghai
    add_post(con, "late", AT_UTC - timedelta(days=14, seconds=1))  # 2020-11-16 23:59:59 Shanghai
    result = run_check(con, AT)
    edge, late = row_of(result, "edge"), row_of(result, "late")
    assert (edge["status"], edge["days_without_update"], edge["verdict"]) == ("ok", 14, "合格")
    assert (late["status"], late["days_without_update"], late["verdict"]) == ("sleeping", 15, "不合格")
    assert "睡眠账号" in late["reasons"] and "单项否决" in late["reasons"]
    assert "2020-11-16" in late["reasons"]


def test_time_zone_a_post_late_on_the_last_evening_is_before_the_check_point(con):
    add_account(con, "evening")
    add_account(con, "after")
    # 2020-11-30 23:59 Shanghai = 15:59 UTC: before the check point; the day is the 30th, not the 1st.
    add_post(con, "evening", datetime(2020, 11, 30, 15, 59))
    # Exactly the check point and later: ignored (the account's real last post was long before).
    add_post(con, "after", datetime(2020, 8, 1, 2, 0))
    add_post(con, "after", AT_UTC)
    add_post(con, "after", datetime(2021, 1, 5))
    result = run_check(con, AT)
    evening = row_of(result, "evening")
    assert evening["days_without_update"] == 1 and evening["status"] == "ok"
    assert evening["last_post_at"] == datetime(2020, 11, 30, 15, 59)
    after = row_of(result, "after")
    assert after["last_post_at"] == datetime(2020, 8, 1, 2, 0)
    assert after["status"] == "zombie" and after["days_without_update"] == (AT - date(2020, 8, 1)).days == 122


def test_zombie_boundary_and_precedence(con):
    add_account(con, "z90")
    add_account(con, "z91")
    add_account(con, "never")
    add_post(con, "z90", AT_UTC - timedelta(days=90))  # exactly 90 days: sleeping, not zombie
    add_post(con, "z91", AT_UTC - timedelta(days=90, seconds=1))
    result = run_check(con, AT)
    assert row_of(result, "z90")["status"] == "sleeping"
    z91 = row_of(result, "z91")
    assert z91["status"] == "zombie" and z91["days_without_update"] == 91
    assert "僵尸账号" in z91["reasons"] and "睡眠" not in z91["reasons"]
    add_account(con, "later_only")
    add_post(con, "later_only", AT_UTC + timedelta(days=2))  # its only post is after the check point
    result = run_check(con, AT)
    assert row_of(result, "later_only")["status"] == "never"
    never = row_of(result, "never")
    assert never["status"] == "never" and never["days_without_update"] is None and never["last_post_at"] is None
    assert never["verdict"] == "不合格" and "从未更新" in never["reasons"]


def test_new_account_is_judged_from_its_opening_day(con):
    add_account(con, "new5", opened_at=AT - timedelta(days=5))  # no post yet: within the window
    add_account(con, "new14", opened_at=AT - timedelta(days=14))
    add_account(con, "new15", opened_at=AT - timedelta(days=15))
    # Opened after the quarter began (2020-10-01): judged on its own life, so not a zombie.
    add_account(con, "q4posted", opened_at=date(2020, 10, 15))
    add_post(con, "q4posted", datetime(2020, 10, 16, 2))
    add_account(con, "q4silent", opened_at=date(2020, 10, 20))
    add_account(con, "future", opened_at=AT)  # opened on the check day: not yet open at 00:00
    result = run_check(con, AT)
    new5 = row_of(result, "new5")
    assert (new5["status"], new5["days_without_update"], new5["verdict"]) == ("ok", 5, "合格")
    assert row_of(result, "new14")["status"] == "ok"
    new15 = row_of(result, "new15")
    assert new15["status"] == "never" and "开通于 2020-11-16" in new15["reasons"]
    assert (row_of(result, "q4posted")["status"], row_of(result, "q4posted")["days_without_update"]) == \
        ("sleeping", 46)
    assert (row_of(result, "q4silent")["status"], row_of(result, "q4silent")["days_without_update"]) == \
        ("never", 42)
    assert all(r["account_id"] != "future" for r in result.rows)
    assert result.not_open == 1


def test_deactivated_accounts_are_not_inspected_but_counted(con):
    add_account(con, "gone", active=False)
    add_account(con, "here")
    add_post(con, "here", AT_UTC - timedelta(days=1))
    result = run_check(con, AT)
    assert [r["account_id"] for r in result.rows] == ["here"]
    assert (result.inspected, result.passed, result.inactive) == (1, 1, 1)
    run, _ = stored_check(con, AT)
    assert run["inactive"] == 1 and run["inspected"] == 1


def test_alerts_are_listed_first_with_the_date_they_turn_sleeping(con):
    add_account(con, "a_fresh", name="甲")
    add_account(con, "b_alert", name="乙")
    add_account(con, "c_edge", name="丙")
    add_account(con, "d_noalert", name="丁")
    add_post(con, "a_fresh", AT_UTC - timedelta(days=1))
    add_post(con, "b_alert", AT_UTC - timedelta(days=14))  # days 14: sleeping from 2020-12-02
    add_post(con, "c_edge", AT_UTC - timedelta(days=11))  # days 11 = 14 - 3: still an alert
    add_post(con, "d_noalert", AT_UTC - timedelta(days=10))  # days 10: no alert with N = 3
    result = run_check(con, AT)
    assert [r["account_id"] for r in result.rows[:2]] == ["b_alert", "c_edge"]
    assert row_of(result, "b_alert")["alert_date"] == date(2020, 12, 2)
    assert row_of(result, "c_edge")["alert_date"] == date(2020, 12, 5)
    assert not row_of(result, "d_noalert")["alert"] and not row_of(result, "a_fresh")["alert"]
    # The alert rule follows the rules file / --alert-days.
    wide = run_check(con, AT, load_rules(alert_days=4), save=False)
    assert row_of(wide, "d_noalert")["alert"]
    # Checking a day later, the alerted account is sleeping.
    assert row_of(run_check(con, date(2020, 12, 2), save=False), "b_alert")["status"] == "sleeping"


# --------------------------------------------------------------------------- originality


def test_originality_share_threshold_minimum_and_unknown(con, tmp_path):
    add_account(con, "reposter")
    add_account(con, "few")
    add_account(con, "unknown")
    for i in range(10):
        add_post(con, "reposter", AT_UTC - timedelta(days=i + 1), is_original=i < 2)  # 20 %
        add_post(con, "unknown", AT_UTC - timedelta(days=i + 1), is_original=None if i < 9 else False)
    for i in range(9):
        add_post(con, "few", AT_UTC - timedelta(days=i + 1), is_original=False)
    # An old repost outside the 90-day window does not count.
    add_post(con, "reposter", AT_UTC - timedelta(days=91), is_original=False)
    result = run_check(con, AT)
    reposter = row_of(result, "reposter")
    assert reposter["original_share"] == pytest.approx(0.2) and reposter["posts_window"] == 10
    assert "转发多、原创少" in reposter["reasons"] and reposter["verdict"] == "合格"  # not a veto by default
    assert "原创" not in row_of(result, "few")["reasons"]  # 9 posts < min_posts
    assert row_of(result, "unknown")["original_share"] == pytest.approx(0.9)
    rules = tmp_path / "rules.toml"
    rules.write_text("[originality]\nunknown_counts_as_original = false\nveto = true\nmin_posts = 1\n",
                     encoding="utf-8")
    strict = run_check(con, AT, load_rules(rules), save=False)
    assert row_of(strict, "unknown")["original_share"] == 0.0
    assert row_of(strict, "unknown")["verdict"] == "不合格"


# --------------------------------------------------------------------------- dictionaries


def _scanner(serious=(), sensitive=()):
    entries = [Entry(SERIOUS, w, c, None, None, tuple(x), "t") for w, c, x in serious]
    entries += [Entry(SENSITIVE, w, None, "c", None, tuple(x), "t") for w, x in sensitive]
    return Scanner(entries)


def test_scanner_reports_overlaps_drops_nested_and_respects_exceptions():
    s = _scanner(serious=[("台湾总统", "台湾地区领导人", ()), ("总统", "x", ())],
                 sensitive=[("瞎子", ("瞎子阿炳",)), ("子阿", ()), ("阿炳", ())])
    found = [(m.entry.word, m.start) for m in s.scan("台湾总统与美国总统")]
    assert found == [("台湾总统", 0), ("总统", 7)]  # the nested 总统 at 2 is not reported twice
    # An exception covers only its own entry: 瞎子 inside 瞎子阿炳 is fine; other entries still count.
    found = [(m.entry.word, m.start) for m in s.scan("听瞎子阿炳的二泉映月，别叫人瞎子")]
    assert found == [("子阿", 2), ("阿炳", 3), ("瞎子", 14)]
    assert s.scan("") == [] and s.scan(None) == []
    # Partial overlaps of different entries are all reported.
    s2 = _scanner(sensitive=[("ABC", ()), ("BCD", ())])
    assert [(m.entry.word, m.start) for m in s2.scan("xABCDx")] == [("ABC", 1), ("BCD", 2)]


def test_bundled_dictionaries_load_and_find_known_errors():
    scanner = load_scanner(*[(r.serious_errors, r.sensitive_words) for r in [load_rules()]][0])
    found = {m.entry.word: m.entry.correction for m in scanner.scan("推进一带一路战略，残废人，台湾总统")}
    assert found == {"一带一路战略": "一带一路倡议", "残废人": "残疾人", "台湾总统": "台湾地区领导人"}
    assert scanner.scan("党的第十九次全国代表大会胜利召开；一带一路倡议") == []


def test_bad_dictionary_row_names_file_and_line(tmp_path):
    bad = tmp_path / "mine.csv"
    bad.write_text("wrong,correct,note\n一带一路战略,一带一路倡议,\n台湾总统,,缺正确表述\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"mine.csv:3: 「台湾总统」缺少正确表述"):
        load_scanner([str(bad)], [])
    bad.write_text("word,category,note,exceptions\n瞎子,蔑称,,瞎说\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"mine.csv:2: 例外词「瞎说」"):
        load_scanner([], [str(bad)])
    bad.write_text("word\n瞎子\n瞎子\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"mine.csv:3: 「瞎子」与第 2 行重复"):
        load_scanner([], [str(bad)])


def test_content_errors_are_a_veto_and_sensitive_words_are_listed(con, tmp_path):
    add_account(con, "err")
    add_account(con, "sens")
    add_account(con, "old")
    add_post(con, "err", AT_UTC - timedelta(days=3), text="全力服务一带一路战略。", post_id="E1")
    add_post(con, "sens", AT_UTC - timedelta(days=3), text="不要叫人瞎子", title="高考状元来了", post_id="S1")
    add_post(con, "old", AT_UTC - timedelta(days=91), text="一带一路战略")  # outside the content window
    add_post(con, "old", AT_UTC - timedelta(days=1), text="日常")
    result = run_check(con, AT)
    err = row_of(result, "err")
    assert err["verdict"] == "不合格" and err["serious_errors"] == 1
    assert "「一带一路战略」应为「一带一路倡议」" in err["reasons"] and "单项否决" in err["reasons"]
    sens = row_of(result, "sens")
    assert sens["verdict"] == "合格" and sens["sensitive_words"] == 2 and "「高考状元」" in sens["reasons"]
    assert row_of(result, "old")["verdict"] == "合格"
    findings = {(f["post_id"], f["field"], f["matched"], f["start_offset"]) for f in result.findings}
    assert findings == {("E1", "text", "一带一路战略", 4), ("S1", "title", "高考状元", 0), ("S1", "text", "瞎子", 4)}
    # A user dictionary extends the bundled one through the rules file.
    (tmp_path / "extra.csv").write_text("wrong,correct\n日常,日常工作\n", encoding="utf-8")
    (tmp_path / "rules.toml").write_text(
        '[content]\nserious_errors = ["builtin:serious_errors.csv", "extra.csv"]\n', encoding="utf-8")
    extended = run_check(con, AT, load_rules(tmp_path / "rules.toml"), save=False)
    assert row_of(extended, "old")["verdict"] == "不合格"


# --------------------------------------------------------------------------- comment response


def add_comment(con, comment_id, post_id, account_id, author_id, when, parent=None, platform="weibo",
                sec_uid=None):
    con.execute(
        "INSERT INTO comments (platform, comment_id, post_id, account_id, author_id, author_sec_uid, "
        "parent_comment_id, commented_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [platform, comment_id, post_id, account_id, author_id, sec_uid, parent, when],
    )


def test_comment_response_share_and_median(con):
    add_account(con, "acc")
    post = add_post(con, "acc", AT_UTC - timedelta(days=5))
    t0 = AT_UTC - timedelta(days=4)
    # 10 top-level user comments; Weibo writes a top-level comment's own id as its parent (rootid).
    for i in range(10):
        add_comment(con, f"u{i}", post, "acc", f"fan{i}", t0 + timedelta(minutes=i), parent=f"u{i}")
    # Replies by the account to u0..u2 after 1 h, 2 h, 5 h; a second reply to u0 does not count twice.
    for i, hours in enumerate((1, 2, 5)):
        add_comment(con, f"r{i}", post, "acc", "acc", t0 + timedelta(minutes=i, hours=hours), parent=f"u{i}")
    add_comment(con, "r0b", post, "acc", "acc", t0 + timedelta(hours=9), parent="u0")
    # A fan's sub-reply is not a user top-level comment and not an answer.
    add_comment(con, "x", post, "acc", "fan9", t0 + timedelta(hours=1), parent="u1")
    # The account's own top-level comment is not a user comment.
    add_comment(con, "own", post, "acc", "acc", t0, parent="0")
    # A reply after the check point is not seen.
    add_comment(con, "r9", post, "acc", "acc", AT_UTC + timedelta(hours=1), parent="u9")
    result = run_check(con, AT)
    acc = row_of(result, "acc")
    assert (acc["user_comments"], acc["answered"]) == (10, 3)
    assert acc["response_share"] == pytest.approx(0.3)
    assert acc["median_response_hours"] == pytest.approx(2.0)
    assert "互动回应" not in acc["reasons"]  # 30 % ≥ 20 %, 2 h ≤ 72 h
    con.execute("DELETE FROM comments WHERE comment_id IN ('r1', 'r2')")
    acc = row_of(run_check(con, AT), "acc")
    assert acc["answered"] == 1 and "互动回应不足" in acc["reasons"] and "回复率 10%" in acc["reasons"]


def test_douyin_replies_are_recognised_by_sec_uid_and_small_samples_are_not_judged(con):
    add_account(con, "MS4wLjABAAAAsec", platform="douyin")
    post = add_post(con, "MS4wLjABAAAAsec", AT_UTC - timedelta(days=6), platform="douyin")
    t0 = AT_UTC - timedelta(days=5)
    add_comment(con, "c1", post, "MS4wLjABAAAAsec", "111", t0, parent="0", platform="douyin")
    add_comment(con, "c2", post, "MS4wLjABAAAAsec", "98765", t0 + timedelta(hours=100), parent="c1",
                platform="douyin", sec_uid="MS4wLjABAAAAsec")
    row = row_of(run_check(con, AT), "MS4wLjABAAAAsec")
    assert (row["user_comments"], row["answered"], row["median_response_hours"]) == (1, 1, 100.0)
    assert "互动回应" not in row["reasons"]  # 1 comment < min_comments


def test_no_comment_data_means_no_response_figures(con):
    add_account(con, "quiet")
    add_post(con, "quiet", AT_UTC - timedelta(days=1))
    row = row_of(run_check(con, AT), "quiet")
    assert row["user_comments"] is None and row["response_share"] is None


# --------------------------------------------------------------------------- pass rates, quarters, storage


def test_quarter_check_points():
    assert quarter_check_point("2020Q3") == date(2020, 10, 1)
    assert quarter_check_point("2020q4") == date(2021, 1, 1)
    assert quarter_check_point("2020Q1") == date(2020, 4, 1)
    with pytest.raises(UserError):
        quarter_check_point("2020Q5")


def test_pass_rates_per_region_and_category_and_per_quarter(con):
    add_account(con, "a1", region="玄武区", category="district")
    add_account(con, "a2", region="玄武区", category="district")
    add_account(con, "b1", region="南京市", category="livelihood")
    add_account(con, "c1", region=None, category="comprehensive")
    q3 = datetime(2020, 9, 30, 16)  # 2020-10-01 00:00 Shanghai
    add_post(con, "a1", q3 - timedelta(days=3))
    add_post(con, "a2", q3 - timedelta(days=20))  # sleeping at 2020Q3
    add_post(con, "b1", q3 - timedelta(days=1))
    add_post(con, "c1", q3 - timedelta(days=1))
    add_post(con, "a2", AT_UTC - timedelta(days=2))  # back by December
    add_post(con, "a1", AT_UTC - timedelta(days=2))
    add_post(con, "b1", AT_UTC - timedelta(days=2))
    add_post(con, "c1", AT_UTC - timedelta(days=2))
    run_check(con, quarter_check_point("2020Q3"))
    run_check(con, AT)
    rates = {(r["region"], r["category"]): r for r in pass_rates(con, quarter="2020Q3")}
    assert rates[("玄武区", "district")]["pass_rate"] == 0.5 and rates[("玄武区", "district")]["sleeping"] == 1
    assert rates[("南京市", "livelihood")]["pass_rate"] == 1.0
    assert rates[("（未填地区）", "comprehensive")]["inspected"] == 1
    assert rates[("玄武区", "全部")]["passed"] == 1
    assert rates[("全部", "district")]["inspected"] == 2 and rates[("全部", "district")]["pass_rate"] == 0.5
    assert len(rates) == 3 + 3 + 3 + 1  # 3 occupied cells, 3 region and 3 category subtotals, the total
    assert rates[("全部", "全部")]["pass_rate"] == 0.75
    december = {(r["region"], r["category"]): r for r in pass_rates(con, at="2020-12-01")}
    assert december[("全部", "全部")]["pass_rate"] == 1.0
    by_category = pass_rates(con, at=AT, by=("category",))
    assert {r["category"] for r in by_category} == {"district", "livelihood", "comprehensive", "全部"}
    summary = latest_summary(con, "2020-01-01", "2020-12-31")
    assert [(s["check_at"], s["quarter"], s["pass_rate"], s["sleeping"]) for s in summary] == [
        (date(2020, 10, 1), "2020Q3", 0.75, 1), (date(2020, 12, 1), None, 1.0, 0)]
    # A check point belongs to the period it closes: 2021-01-01 (2020Q4) to 2020, 2020-01-01 to 2019.
    run_check(con, "2021-01-01")
    run_check(con, "2020-01-01")
    assert [s["check_at"] for s in latest_summary(con, "2020", "2020")] == [
        date(2020, 10, 1), date(2020, 12, 1), date(2021, 1, 1)]
    assert [s["quarter"] for s in latest_summary(con, "2020-10", "2020-12")] == [None, "2020Q4"]
    assert [s["check_at"] for s in latest_summary(con, "2019-01-01", "2019-12-31")] == [date(2020, 1, 1)]
    with pytest.raises(UserError, match="没有 2020-07-01 的检查结果"):
        pass_rates(con, quarter="2020Q2")


def test_rerunning_a_check_point_replaces_it_and_a_failure_leaves_it(con):
    add_account(con, "a")
    add_post(con, "a", AT_UTC - timedelta(days=20), text="残废人")
    first = run_check(con, AT)
    assert first.findings and row_of(first, "a")["status"] == "sleeping"
    add_post(con, "a", AT_UTC - timedelta(days=1))
    con.execute("DELETE FROM posts WHERE text = '残废人'")

    def boom():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run_check(con, AT, before_commit=boom)
    _, rows = stored_check(con, AT)
    assert rows[0]["status"] == "sleeping"
    assert con.execute("SELECT count(*) FROM check_findings").fetchall()[0][0] == 1
    run_check(con, AT)
    _, rows = stored_check(con, AT)
    assert len(rows) == 1 and rows[0]["status"] == "ok" and rows[0]["verdict"] == "合格"
    assert con.execute("SELECT count(*) FROM check_findings").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM check_runs").fetchall()[0][0] == 1


def test_bad_rules_file_is_one_line(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("[update]\nsleeping_days = -1\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"r.toml: \[update\] sleeping_days"):
        load_rules(path)
    path.write_text("[update\n", encoding="utf-8")
    with pytest.raises(UserError, match="TOML"):
        load_rules(path)


# --------------------------------------------------------------------------- MediaCrawler comments import


def test_mediacrawler_comments_import_and_response_figures(registered, fixtures):
    from govmedia.ingest import import_path

    con = registered
    summary = import_path(con, fixtures / "mediacrawler" / "data")  # comments files sort before contents files
    by_name = {f.path.name: f for f in summary.files}
    assert by_name["search_comments_2026-05-20.csv"].accepted == 6
    assert by_name["creator_comments_2026-05-20.json"].rejected == 0
    got = con.execute(
        "SELECT comment_id, post_id, account_id, author_id, parent_comment_id, commented_at FROM comments "
        "WHERE platform = 'weibo' ORDER BY comment_id").fetchall()
    assert got[0] == ("5297020000000001", "5297012345678901", "1234567890", "5511223344", None,
                      datetime(2026, 5, 18, 12, 11, 9))  # create_date_time 20:11:09+08:00
    assert ("5297310000000011", "5297301234567890", "1234567890", "1234567890", "5297310000000001",
            datetime(2026, 5, 19, 3, 15, 40)) in got
    douyin = con.execute("SELECT parent_comment_id, author_sec_uid FROM comments WHERE platform = 'douyin' "
                         "AND comment_id = '7371240000000000003'").fetchall()
    assert douyin == [("7371240000000000001", "MS4wLjABAAAAtEsT0fAkEsEcUiD9x8yQm2nL4pR7sV1wZ3bC5dF6gH8")]
    result = run_check(con, date(2026, 5, 21), save=False)
    weibo = next(r for r in result.rows if r["platform"] == "weibo" and r["account_id"] == "1234567890")
    assert (weibo["user_comments"], weibo["answered"]) == (3, 2)
    assert weibo["median_response_hours"] == pytest.approx((5677 + 4535) / 2 / 3600)
    # Re-importing changes nothing.
    before = con.execute("SELECT * FROM comments ORDER BY platform, comment_id").fetchall()
    batches = con.execute("SELECT count(*) FROM import_batches").fetchall()
    again = import_path(con, fixtures / "mediacrawler" / "data")
    assert again.accepted == 0
    assert con.execute("SELECT * FROM comments ORDER BY platform, comment_id").fetchall() == before
    assert con.execute("SELECT count(*) FROM import_batches").fetchall() == batches


def test_comment_rows_are_rejected_with_line_column_and_reason(registered, fixtures, tmp_path):
    from govmedia.ingest import import_path

    con = registered
    import_path(con, fixtures / "mediacrawler" / "data" / "weibo" / "csv" / "search_contents_2026-05-20.csv")
    path = tmp_path / "search_comments_2026-05-21.csv"
    path.write_text(
        "comment_id,create_time,create_date_time,note_id,content,parent_comment_id,user_id,last_modify_ts\n"
        "c1,,2026-05-19 09:41:03+08:00,5297301234567890,好,c1,600,1779243390003\n"
        "c2,,2026-05-19 09:41:03+08:00,9999,好,c2,600,1779243390003\n"
        "c3,,not a time,5297301234567890,好,c3,600,1779243390003\n"
        ",,2026-05-19 09:41:03+08:00,5297301234567890,好,,600,1779243390003\n"
        "c5,,2026-05-19 09:41:03+08:00,5297301234567890,好,,,1779243390003\n"
        "c1,,2026-05-19 09:41:03+08:00,5297301234567890,好,c1,600,1779243390999\n",
        encoding="utf-8")
    report = import_path(con, path).files[0]
    assert (report.accepted, report.rejected, report.unchanged) == (1, 4, 1)
    reasons = {(r.line, r.column): r.reason for r in report.rejects}
    assert "不在库中" in reasons[(3, "note_id")]
    assert (4, "create_date_time") in reasons and (5, "comment_id") in reasons and (6, "user_id") in reasons
    assert report.rejects_path.exists()


def test_comments_import_is_one_transaction(registered, fixtures):
    from govmedia.ingest import import_path
    from govmedia.ingest.forms import load_classifier
    from govmedia.ingest.pipeline import import_file, load_context

    con = registered
    import_path(con, fixtures / "mediacrawler" / "data" / "weibo" / "csv" / "search_contents_2026-05-20.csv")

    def boom():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_file(con, fixtures / "mediacrawler" / "data" / "weibo" / "csv" / "search_comments_2026-05-20.csv",
                    ctx=load_context(con, None), classifier=load_classifier(None), before_commit=boom)
    assert con.execute("SELECT count(*) FROM comments").fetchall() == [(0,)]


# --------------------------------------------------------------------------- CLI


def test_cli_check_formats_summary_and_errors(con, db_path, tmp_path):
    import csv
    import io
    import json

    import openpyxl

    from util import cli

    add_account(con, "ok1", name="正常号")
    add_account(con, "sleepy", name="睡眠号", region="鼓楼区")
    add_account(con, "off", active=False)
    add_post(con, "ok1", AT_UTC - timedelta(days=13), text="推进一带一路战略")
    add_post(con, "sleepy", AT_UTC - timedelta(days=30))
    con.close()
    result = cli("check", "--at", "2020-12-01", "--yes", "--format", "csv", db=db_path)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["account_id"] for r in rows] == ["ok1", "sleepy"]  # the alert first
    ok1 = rows[0]
    assert ok1["alert_date"] == "2020-12-03" and ok1["status"] == "ok" and ok1["verdict"] == "不合格"
    assert ok1["last_post_at"] == "2020-11-18T00:00:00+08:00" and ok1["days_without_update"] == "13"
    assert "将于 2020-12-03 起判为睡眠账号" in ok1["alert_message"]
    assert rows[1]["status"] == "sleeping" and "睡眠账号" in rows[1]["reasons"]
    result = cli("check", "--at", "2020-12-01", "--summary", "--format", "json", "--stored", db=db_path)
    assert result.exit_code == 0, result.stderr
    rates = {(r["region"], r["category"]): r for r in json.loads(result.stdout)}
    assert rates[("全部", "全部")]["inspected"] == 2 and rates[("全部", "全部")]["pass_rate"] == 0.0
    result = cli("check", "--at", "2020-12-01", "--findings", "--format", "csv", "--stored", db=db_path)
    assert "一带一路战略,一带一路倡议" in result.stdout
    out = tmp_path / "check.xlsx"
    result = cli("check", "--quarter", "2020Q4", "--yes", "--format", "xlsx", "--out", str(out), db=db_path)
    assert result.exit_code == 0, result.stderr
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["检查结果", "合格率", "内容问题"]
    assert workbook["检查结果"].max_row == 3
    table = cli("check", "--at", "2020-12-01", "--yes", db=db_path)
    assert "合格率 0.0%" in table.stdout and "停用未检查 1 个" in table.stdout
    for args, words in ((("check", "--at", "2020-13-01"), "--at: 应为日期"),
                        (("check", "--at", "2020-12-01", "--quarter", "2020Q4"), "只能用一个"),
                        (("check", "--at", "2021-06-01"), "晚于数据覆盖的最后一天"),
                        (("check", "--quarter", "2020Q5"), "YYYYQn"),
                        (("check", "--at", "2020-07-01", "--stored"), "没有 2020-07-01 的检查结果"),
                        (("check", "--at", "2020-12-01", "--rules", str(tmp_path / "none.toml")), "none.toml")):
        result = cli(*args, db=db_path)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    # Without --at: the day after the data ends (the newest post, 2020-11-18), not today.
    result = cli("check", "--format", "csv", db=db_path)
    assert result.exit_code == 0 and "检查点 2020-11-19" in result.stderr, result.stderr
    # A run at a wrong date can be removed, and the removal is audited.
    result = cli("check", "--at", "2020-12-01", "--delete", db=db_path)
    assert result.exit_code == 0 and "已删除 2020-12-01 的检查结果" in result.stderr
    assert cli("check", "--at", "2020-12-01", "--stored", db=db_path).exit_code == 2


def test_scanner_agrees_with_a_naive_search_on_random_texts():
    import random

    rng = random.Random(6)
    alphabet = "南京发布政务新媒体一带路战略倡议台湾总统\uE000\uF8FFab"
    words = sorted({"".join(rng.choice(alphabet[:20]) for _ in range(rng.randint(1, 4))) for _ in range(60)})
    scanner = _scanner(sensitive=[(w, ()) for w in words])
    for _ in range(300):
        text = "".join(rng.choice(alphabet + "，x\uE001") for _ in range(rng.randint(0, 40)))
        naive = {(w, i) for w in words for i in range(len(text)) if text.startswith(w, i)}
        # Drop occurrences nested in a longer occurrence, as the scanner does.
        naive = {(w, i) for w, i in naive
                 if not any(len(o) > len(w) and j <= i and i + len(w) <= j + len(o) for o, j in naive)}
        assert {(m.entry.word, m.start) for m in scanner.scan(text)} == naive, text
        assert all(text[m.start:m.end] == m.entry.word for m in scanner.scan(text))


def test_cli_bad_dictionary_row_is_one_line_with_file_and_line(con, db_path, tmp_path):
    from util import cli

    add_account(con, "a")
    con.close()
    (tmp_path / "bad.csv").write_text("wrong,correct\n一带一路战略,一带一路倡议\n残废人,残废人\n", encoding="utf-8")
    (tmp_path / "rules.toml").write_text('[content]\nserious_errors = ["bad.csv"]\n', encoding="utf-8")
    result = cli("check", "--at", "2020-12-01", "--yes", "--rules", str(tmp_path / "rules.toml"), db=db_path)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "bad.csv:3: 「残废人」的正确表述与错误表述相同" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dictionary_saved_by_excel_as_gb18030_or_with_bom_is_read():
    text = "错误表述,正确表述,说明\n一带一路战略,一带一路倡议,新华社禁用词\n"
    for data in (text.encode("gb18030"), text.encode("utf-8-sig"), text.encode("utf-16")):
        [entry] = parse_dictionary("本单位.csv", data, SERIOUS)
        assert (entry.word, entry.correction, entry.note) == ("一带一路战略", "一带一路倡议", "新华社禁用词")


def test_traditional_characters_match_through_the_variant_table(tmp_path):
    scanner = load_scanner(["builtin:serious_errors.csv"], ["builtin:sensitive_words.csv"], ["builtin:variants.csv"])
    found = [(m.entry.word, m.found, m.start, m.end) for m in scanner.scan("據報，臺灣總統與一帶一路戰略")]
    assert found == [("台湾总统", "臺灣總統", 3, 7), ("一带一路战略", "一帶一路戰略", 8, 14)]
    # Exceptions work on variants too; without the table, traditional text does not match.
    assert scanner.scan("聽瞎子阿炳") == []
    plain = load_scanner(["builtin:serious_errors.csv"], [], [])
    assert plain.scan("臺灣總統") == []
    # An entry written with variant characters matches the standard text as well.
    (tmp_path / "trad.csv").write_text("wrong,correct\n臺灣政府,台湾当局\n", encoding="utf-8")
    both = load_scanner([str(tmp_path / "trad.csv")], [], ["builtin:variants.csv"])
    assert [m.found for m in both.scan("台湾政府和臺灣政府")] == ["台湾政府", "臺灣政府"]


def test_bad_variant_rows_name_file_and_line(tmp_path):
    bad = tmp_path / "v.csv"
    for content, message in (("variant,standard\n臺,台\n灣灣,湾\n", r"v.csv:3: 每行应为一个异体字"),
                             ("variant,standard\n臺,臺\n", r"v.csv:2: 「臺」的异体字与标准字相同"),
                             ("variant,standard\n臺,台\n臺,苔\n", r"v.csv:3: 「臺」已对应「台」")):
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(UserError, match=message):
            load_scanner([], [], [str(bad)])


def test_findings_show_the_text_as_written(con):
    add_account(con, "hk")
    add_post(con, "hk", AT_UTC - timedelta(days=1), text="推進一帶一路戰略")
    row = row_of(run_check(con, AT), "hk")
    assert row["verdict"] == "不合格" and "「一帶一路戰略」应为「一带一路倡议」" in row["reasons"]


def test_report_overview_block(con):
    from govmedia.oversight import report_overview

    assert report_overview(con, "2020-02", "2020-11") == []
    add_account(con, "a")
    add_account(con, "b")
    for at in ("2020-04-01", "2020-07-01", "2020-10-01"):
        point = datetime.fromisoformat(at) - timedelta(hours=8)
        add_post(con, "a", point - timedelta(days=2))
        add_post(con, "b", point - timedelta(days=3))
        run_check(con, at)
    [block] = report_overview(con, "2020-02", "2020-11")
    assert block["title"] == "合规检查" and block["headers"][0] == "检查点"
    assert [r[:5] for r in block["rows"]] == [["2020-04-01", "2020Q1", "2", "2", "100.0%"],
                                              ["2020-07-01", "2020Q2", "2", "2", "100.0%"],
                                              ["2020-10-01", "2020Q3", "2", "2", "100.0%"]]
    assert "2020年第一、二、三季度检查合格率均为 100%" in block["paragraphs"][0]
    assert all(isinstance(cell, str) for row in block["rows"] for cell in row)
    run_check(con, "2020-12-01")  # nobody posted after 2020-09-29: both sleeping
    [block] = report_overview(con, "2020-02", "2020-11")
    assert "2020-12-01合格率 0.0%，睡眠 2 个" in block["paragraphs"][0]
