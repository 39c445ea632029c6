"""Peer indices users know from other platforms: WCI V14.2 (WeChat) and BCI (Weibo).

Same snapshot choice and months as GMI-1; constants from methodology/wci.toml and bci.toml.
"""

from __future__ import annotations

import duckdb
import ibis

from govmedia.core.time import Period
from govmedia.methodology import Methodology, load_peer, resolve
from govmedia.scoring import duckdb_tables
from govmedia.scoring.expressions import post_facts

INDEX_COLUMNS = ("platform", "account_id", "name")


def _ln1(x):
    return (x + 1.0).ln()


def wci_expr(tables, period: Period, gmi: Methodology):
    peer = load_peer("wci")
    facts = post_facts(tables.posts, tables.snapshots, tables.months, gmi)
    facts = facts.filter(facts.platform == "wechat")
    cap = int(peer["read_cap"])
    reads = ibis.ifelse(facts.reads > cap, cap, facts.reads).cast("float64")
    headline = facts.position.fill_null(0) == 1
    parts = {"reads": reads, "wows": facts.wows.cast("float64"), "likes": facts.likes.cast("float64"),
             "shares": facts.shares.cast("float64")}
    aggregates = {"n": facts.count()}
    for key, value in parts.items():
        aggregates[f"{key}_sum"] = value.sum()
        aggregates[f"{key}_top"] = value.max()
        aggregates[f"{key}_head"] = ibis.ifelse(headline, value, 0.0).sum()
    per_account = facts.group_by("account_id").aggregate(**aggregates)
    d = float(period.days())
    f = peer["f"]

    def fn(values: dict):
        total = ibis.literal(0.0)
        for key, spec in f.items():
            total = total + spec["weight"] * _ln1(spec["scale"] * values[key])
        return total

    t = per_account
    n = t.n.cast("float64")
    O = fn({k: t[f"{k}_sum"] / d for k in parts})
    A = fn({k: t[f"{k}_sum"] / n for k in parts})
    H = fn({k: t[f"{k}_head"] / d for k in parts})
    P = fn({k: t[f"{k}_top"] for k in parts})
    mix = peer["mix"]
    inner = mix["O"] * O + mix["A"] * A + mix["H"] * H + mix["P"] * P
    scored = t.select("account_id", wci=inner * inner * peer["multiplier"])
    accounts = tables.accounts.filter(tables.accounts.platform == "wechat")
    joined = accounts.left_join(scored, "account_id")
    return joined.select(platform=joined.platform, account_id=joined.account_id, name=joined.name,
                         wci=joined.wci.fill_null(0.0))


def bci_expr(tables, period: Period, gmi: Methodology):
    peer = load_peer("bci")
    facts = post_facts(tables.posts, tables.snapshots, tables.months, gmi)
    facts = facts.filter(facts.platform == "weibo")
    t = facts.group_by("account_id").aggregate(
        n=facts.count(), reposts=facts.reposts.sum(), comments=facts.comments.sum(), likes=facts.likes.sum()
    )
    w = peer["interaction"]
    interaction = (w["reposts"] * _ln1(t.reposts.cast("float64")) + w["comments"] * _ln1(t.comments.cast("float64"))
                   + w["likes"] * _ln1(t.likes.cast("float64")))
    value = (peer["posts_weight"] * _ln1(t.n.cast("float64")) + peer["interaction_weight"] * interaction)
    scored = t.select("account_id", bci=value * peer["multiplier"])
    accounts = tables.accounts.filter(tables.accounts.platform == "weibo")
    joined = accounts.left_join(scored, "account_id")
    return joined.select(platform=joined.platform, account_id=joined.account_id, name=joined.name,
                         bci=joined.bci.fill_null(0.0))


def compute_index(con: duckdb.DuckDBPyConnection, index: str, start: str, end: str,
                  methodology: Methodology | None = None) -> list[dict]:
    """WCI or BCI of every registered account of its platform over the months [start, end], with
    the snapshot choice of the methodology given (else the one in force)."""
    period = Period.parse(start, end)
    backend, tables = duckdb_tables(con, period.months)
    gmi = resolve(con, methodology)
    expr = wci_expr(tables, period, gmi) if index == "wci" else bci_expr(tables, period, gmi)
    result = backend.to_pyarrow(expr.order_by([ibis.desc(index), "name", "account_id"]))
    con.execute("DROP TABLE IF EXISTS score_months")
    return result.to_pylist()
