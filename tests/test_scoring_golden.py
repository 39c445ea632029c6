"""GMI-1, WCI and BCI against values computed by hand from the formulas of the issue.

The expected values below are written out with math.log from the raw numbers of the
fixture, independently of the implementation.
"""

from __future__ import annotations

from math import isclose, log

import pytest

from govmedia.ranking import rank
from govmedia.scoring.explain import explain
from govmedia.scoring.indices import compute_index
from util import fill_store

ACCOUNTS = """平台,账号ID,名称,类别
微博,A,甲区发布,区级
微博,B,乙区发布,区级
微博,C,丙区发布,区级
微博,L1,民生一,民生
微博,L2,民生二,民生
微博,L3,民生三,民生
微博,L4,民生四,民生
微博,L5,民生五,民生
微信,W1,微信一,综合
微信,W2,微信二,综合
抖音,DY1,抖音一,综合
"""

HEADER = ["平台", "账号ID", "内容ID", "发布时间", "采集时间", "是否原创", "形式", "正文", "位置",
          "转发", "评论", "点赞", "阅读", "在看", "分享"]
POSTS = [
    # Weibo A, 2020-03.
    ["微博", "A", "a1", "2020-03-05 10:00", "", "是", "", "今天 #X# 发布", "", 10, 5, 100, "", "", ""],
    # a2 has two dated snapshots: the one 3 days after counts, not the one 10 days after.
    ["微博", "A", "a2", "2020-03-06 10:00", "2020-03-09 10:00", "是", "视频", "视频发布", "", 20, 0, 50, "", "", ""],
    ["微博", "A", "a2", "2020-03-06 10:00", "2020-03-16 10:00", "是", "视频", "视频发布", "", 100, 50, 70, "", "", ""],
    ["微博", "A", "a3", "2020-03-20 10:00", "", "否", "", "转发 #Z# 与 #XX# #X #", "", 4, 1, 0, "", "", ""],
    # Weibo B: b1 has only late snapshots: the earliest counts.
    ["微博", "B", "b1", "2020-03-10 10:00", "2020-03-20 10:00", "是", "长图", "一图读懂", "", 7, 3, 0, "", "", ""],
    ["微博", "B", "b1", "2020-03-10 10:00", "2020-03-30 10:00", "是", "长图", "一图读懂", "", 9, 9, 0, "", "", ""],
    # 23:30 in Shanghai on 31 March is March; 00:30 on 1 April is April.
    ["微博", "B", "b2", "2020-03-31T15:30:00Z", "", "是", "", "月末 #Y#", "", 1, 1, 0, "", "", ""],
    ["微博", "B", "b3", "2020-03-31T16:30:00Z", "", "是", "", "月初", "", 2, 0, 0, "", "", ""],
    # Window edge: observed exactly 168 h after publication counts; one second later does not.
    ["微博", "C", "c1", "2020-04-01 00:00", "2020-04-08 00:00:00", "是", "", "边界", "", 5, 5, 0, "", "", ""],
    ["微博", "C", "c1", "2020-04-01 00:00", "2020-04-08 00:00:01", "是", "", "边界", "", 50, 50, 0, "", "", ""],
    # C's second post is not original only: engagement counts originals.
    # Livelihood ties: L2 and L3 identical, L4 a little less, L1 best, L5 nothing.
    ["微博", "L1", "l1", "2020-03-02 10:00", "", "是", "", "#XX# 与 #X # 都不算", "", 100, 100, 0, "", "", ""],
    ["微博", "L2", "l2", "2020-03-02 10:00", "", "是", "", "", "", 50, 50, 0, "", "", ""],
    ["微博", "L3", "l3", "2020-03-02 10:00", "", "是", "", "", "", 50, 50, 0, "", "", ""],
    ["微博", "L4", "l4", "2020-03-02 10:00", "", "否", "", "", "", 40, 40, 0, "", "", ""],
    # WeChat W1, 2020-03: w1 headline 200000 reads (GMI-1 uses it; WCI caps at 100001).
    ["微信", "W1", "w1", "2020-03-03 20:00", "", "原创", "", "头条", 1, "", "", 5, 200000, 10, 3],
    ["微信", "W1", "w2", "2020-03-03 20:00", "", "否", "", "次条", 2, "", "", 0, 1000, 1, 1],
    ["微信", "W1", "w3", "2020-03-15 20:00", "", "原创", "视频", "视频号", 1, "", "", 2, 50, 0, 0],
    ["微信", "W2", "w4", "2020-03-16 20:00", "", "原创", "", "一篇", 1, "", "", 1, 300, 2, 0],
    # Douyin: every post is a video, so video alone is not innovative there; live is.
    ["抖音", "DY1", "v1", "2020-03-01 12:00", "", "是", "视频", "", "", "", 10, 100, "", "", 5],
    ["抖音", "DY1", "v2", "2020-03-02 12:00", "", "是", "视频,直播", "", "", "", 5, 50, "", "", 5],
    ["抖音", "DY1", "i1", "2020-03-03 12:00", "", "是", "图片", "", "", "", 0, 10, "", "", 0],
]


CASES = ("case_id,title,month,category,unit,score,platform,account_ids\n"
         "K1,战疫发布,2020-03,信息发布类,甲区,30,weibo,A;B\n"
         "K2,两平台,2020-03,宣传推广类,甲区,50,,weibo:A;wechat:W1\n"
         "K3,微信案例,2020-03,民生服务类,微信一,80,wechat,W1\n")
CAMPAIGNS = ("campaign_id,name,start,end,hashtags\n"
             "P1,战疫联动,2020-03-01,2020-03-15,X;Y\n"
             "P2,全月联动,2020-03-01,2020-03-31,#Z#\n")
PARTICIPATIONS = "campaign_id,platform,account_id,month\nP1,weibo,B,2020-03\nP1,weibo,A,2020-03\n"


@pytest.fixture
def golden(con, tmp_path):
    loaded = fill_store(con, accounts=ACCOUNTS, posts=[HEADER, *POSTS], cases=CASES, campaigns=CAMPAIGNS,
                        participations=PARTICIPATIONS, score=("2020-03", "2020-05"), folder=tmp_path, strict=False)
    # K2 names two platforms: the only reject; K1 and K3 are saved.
    assert "一个主要平台" in loaded.rejects["cases"][0].reason
    assert {kind: len(rows) for kind, rows in loaded.rejects.items()} == {
        "accounts": 0, "posts": 0, "cases": 1, "campaigns": 0, "participations": 0}
    assert [r[0] for r in con.execute("SELECT case_id FROM cases ORDER BY case_id").fetchall()] == ["K1", "K3"]
    return con


def _scores(con, platform, month):
    rows = con.execute(
        "SELECT account_id, reach_raw, engagement_raw, innovation_raw, influence_raw, reach, engagement, innovation, "
        "influence, total, posts, originals FROM monthly_scores WHERE platform = ? AND month = ?", [platform, month]
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_weibo_raw_values(golden):
    s = _scores(golden, "weibo", "2020-03")
    # A: a1 (10, 5), a2 (20, 0 — the 3-day snapshot), a3 (4, 1, not original).
    assert isclose(s["A"][0], 0.2 * log(4) + 0.4 * log(35) + 0.4 * log(7), rel_tol=1e-12)
    assert isclose(s["A"][1], 0.5 * log(1 + 30 / 2) + 0.5 * log(1 + 5 / 2), rel_tol=1e-12)
    assert isclose(s["A"][2], log(1 + 20 + 0), rel_tol=1e-12)  # a2 is the only innovative original
    # A: case K1 (30) + P1 (by #X#, also explicit: counted once) + P2 (#Z#) = 30 + 2 × 10.
    assert s["A"][3] == 50
    # B: b1 (7, 3: earliest late snapshot), b2 (1, 1); b3 is April.
    assert isclose(s["B"][0], 0.2 * log(3) + 0.4 * log(9) + 0.4 * log(5), rel_tol=1e-12)
    assert isclose(s["B"][1], 0.5 * log(1 + 8 / 2) + 0.5 * log(1 + 4 / 2), rel_tol=1e-12)
    assert isclose(s["B"][2], log(1 + 7 + 3), rel_tol=1e-12)
    # B: K1 (30) + P1 explicitly (b2's #Y# is after P1's end) = 40.
    assert s["B"][3] == 40
    assert (s["A"][9], s["A"][10], s["B"][9], s["B"][10]) == (3, 2, 2, 2)
    # C has nothing in March: all zeros.
    assert s["C"][:4] == (0, 0, 0, 0)
    # A hashtag matches exactly: "#XX#" and "#X #" are not "#X#".
    assert s["L1"][3] == 0


def test_weibo_normalised_scores_and_total(golden):
    s = _scores(golden, "weibo", "2020-03")
    for d in range(4):
        top = max(v[d] for v in s.values())
        for account, values in s.items():
            assert isclose(values[4 + d], 100 * values[d] / top if top else 0, rel_tol=1e-12, abs_tol=1e-12)
    a = s["A"]
    assert isclose(a[8], 0.3 * a[4] + 0.3 * a[5] + 0.2 * a[6] + 0.2 * a[7], rel_tol=1e-12)
    best = max(s.values(), key=lambda v: v[0])
    assert best[4] == 100.0  # exactly


def test_month_boundaries_and_snapshot_window(golden):
    april = _scores(golden, "weibo", "2020-04")
    assert april["B"][9] == 1  # b3, 00:30 on 1 April in Shanghai
    # c1: the snapshot observed exactly 168 h after publication counts (5, 5), not (50, 50).
    assert isclose(april["C"][0], 0.2 * log(2) + 0.4 * log(6) + 0.4 * log(6), rel_tol=1e-12)
    may = _scores(golden, "weibo", "2020-05")
    assert all(v[:10] == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0) for v in may.values())  # empty month: 0, no error


def test_no_original_means_zero_engagement(golden):
    s = _scores(golden, "weibo", "2020-03")
    assert s["L4"][1] == 0 and s["L4"][0] > 0


def test_wechat_raw_values(golden):
    s = _scores(golden, "wechat", "2020-03")
    reads, wows = 200000 + 1000 + 50, 10 + 1 + 0
    assert isclose(s["W1"][0], 0.5 * log(1 + reads) + 0.2 * log(1 + 10 * wows) + 0.3 * log(1 + reads / 3), rel_tol=1e-12)
    assert isclose(s["W1"][1], 0.6 * log(1 + 200050 / 2) + 0.4 * log(1 + 10 * 10 / 2), rel_tol=1e-12)
    assert isclose(s["W1"][2], log(1 + 50 + 0), rel_tol=1e-12)
    assert s["W1"][3] == 80  # K3; K2 was refused (two platforms)
    assert s["W2"][3] == 0


def test_douyin_raw_values(golden):
    s = _scores(golden, "douyin", "2020-03")["DY1"]
    assert isclose(s[0], 0.2 * log(4) + 0.4 * log(1 + 160) + 0.2 * log(1 + 15) + 0.2 * log(1 + 10), rel_tol=1e-12)
    assert isclose(s[1], log(1 + (160 + 15 + 10) / 3), rel_tol=1e-12)
    assert isclose(s[2], log(1 + 50 + 5 + 5), rel_tol=1e-12)  # only the live video is innovative


def test_period_score_is_sum_of_months(golden):
    rows = {r["account_id"]: r for r in rank(golden, "weibo", "district", "2020-03", "2020-05")}
    months = golden.execute(
        "SELECT account_id, sum(total), sum(reach) FROM monthly_scores WHERE platform='weibo' GROUP BY 1"
    ).fetchall()
    for account_id, total, reach in months:
        if account_id in rows:
            assert isclose(rows[account_id]["score"], total, rel_tol=1e-12)
            assert isclose(rows[account_id]["reach"], reach, rel_tol=1e-12)
    assert [r["account_id"] for r in rank(golden, "weibo", "district", "2020-03", "2020-05")][-1] == "C"


def test_competition_ranks_and_ties_by_name(golden):
    rows = rank(golden, "weibo", "livelihood", "2020-03", "2020-03")
    assert [(r["rank"], r["name"]) for r in rows] == [
        (1, "民生一"), (2, "民生三"), (2, "民生二"), (4, "民生四"), (None, "民生五"),
    ]
    # Every registered account is listed; one without posts in the period after the ranked, unranked.
    assert rows[-1]["score"] is None and rows[-1]["note"] == "本期无数据"
    assert [r["name"] for r in rank(golden, "weibo", "livelihood", "2020-03", "2020-03", top=2)] == ["民生一", "民生三", "民生二"]


def test_wci_by_hand(golden):
    def f(r, z, l, e):
        return 0.70 * log(r + 1) + 0.09 * log(10 * z + 1) + 0.06 * log(10 * l + 1) + 0.15 * log(10 * e + 1)

    d, n = 31, 3
    R, Z, L, RE = 100001 + 1000 + 50, 11, 7, 4
    Rt, Zt, Lt, REt = 100001 + 50, 10, 7, 3
    O, A = f(R / d, Z / d, L / d, RE / d), f(R / n, Z / n, L / n, RE / n)
    H, P = f(Rt / d, Zt / d, Lt / d, REt / d), f(100001, 10, 5, 3)
    expected = (0.6 * O + 0.2 * A + 0.1 * H + 0.1 * P) ** 2 * 12
    rows = {r["account_id"]: r["wci"] for r in compute_index(golden, "wci", "2020-03", "2020-03")}
    assert isclose(rows["W1"], expected, rel_tol=1e-12)
    # Over March–April (61 days) W1 has the same articles but more days.
    rows2 = {r["account_id"]: r["wci"] for r in compute_index(golden, "wci", "2020-03", "2020-04")}
    assert rows2["W1"] < rows["W1"]


def test_bci_by_hand_and_every_account_listed(golden):
    rows = {r["account_id"]: r["bci"] for r in compute_index(golden, "bci", "2020-03", "2020-03")}
    expected = (0.2 * log(4) + 0.8 * (0.4 * log(35) + 0.4 * log(7) + 0.2 * log(151))) * 160
    assert isclose(rows["A"], expected, rel_tol=1e-12)
    assert rows["L5"] == 0 and len(rows) == 8


def test_explain_matches_stored_scores(golden):
    e = explain(golden, "weibo", "A", "2020-03")
    stored = _scores(golden, "weibo", "2020-03")["A"]
    assert [round(d.raw, 9) for d in e.dimensions] == [round(x, 9) for x in stored[:4]]
    assert [round(d.score, 9) for d in e.dimensions] == [round(x, 9) for x in stored[4:8]]
    assert isclose(e.total, stored[8], rel_tol=1e-12)
    text = "\n".join(e.lines())
    assert "0.4 × ln(1 + sum_reposts)" in text and "K1" in text and "参与联动宣传 2 项" in text


def test_explain_matches_every_stored_score(golden):
    """Each account-month's explanation adds up to its stored score: an account without a case
    must not be shown another account's case points."""
    rows = golden.execute("SELECT platform, account_id, month, reach, engagement, innovation, influence, total "
                          "FROM monthly_scores ORDER BY ALL").fetchall()
    assert len(rows) > 8
    for platform, account_id, month, *stored in rows:
        e = explain(golden, platform, account_id, month)
        assert [round(d.score, 9) for d in e.dimensions] == [round(x, 9) for x in stored[:4]], (platform, account_id, month)
        assert isclose(e.total, stored[4], rel_tol=1e-12, abs_tol=1e-9), (platform, account_id, month)
