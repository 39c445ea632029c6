"""Score and rank intervals (区间): how sure a leaderboard's order is.

`intervals(con, platform, start, end, m)` gives, per registered account of the platform, a 90 %
bootstrap interval of its period score and of its rank within its category (scoring's
`bootstrap_totals`: posts resampled within each account-month, every replicate normalised per
platform-month, summed over the period; influence is not resampled). A percentile interval need
not contain the published figure, because each month is scaled to its maximum (the replicates'
maxima are biased up, their scores down): the replicates are centred on the published score
(shifted by published − their median), which contains it by construction; ranks are taken from the
centred replicates, and a rank interval that still misses the published rank is widened to it
(documented in docs/methodology.md, the rate in docs/benchmarks.md).
"""

from __future__ import annotations

import duckdb

from govmedia.core.time import months_between
from govmedia.methodology import Methodology

REPLICATES = 200
SEED = 20201130
LEVEL = 0.90


def intervals(con: duckdb.DuckDBPyConnection, platform: str, start: str, end: str, m: Methodology,
              scores: dict[str, float], ranks: dict[str, int], *, replicates: int = REPLICATES,
              seed: int = SEED) -> dict[str, dict]:
    """Per account_id of the platform: score_low, score_high, rank_low, rank_high, widened to
    contain `scores` and `ranks` (the published figures)."""
    from govmedia.store.memo import remembered

    months = months_between(start, end)
    # Ranked among the period's participants only (`ranking.participants`), as the leaderboard is.
    from govmedia.ranking import participants, period_scores

    ids = sorted(r["account_id"] for r in participants(period_scores(con, platform, start, end)))
    raw = remembered(con, ("intervals", platform, tuple(months), m.sha256, replicates, seed, tuple(ids)), platform,
                     months, lambda: _bootstrap(con, platform, months, m, replicates, seed, ids))
    out = {}
    for account_id, score in scores.items():
        low, high, rank_low, rank_high = raw.get(account_id, (score, score, ranks[account_id], ranks[account_id]))
        rank = ranks[account_id]
        out[account_id] = {
            # min/max only guard rounding: the centred score interval contains the score already
            "score_low": min(low, score), "score_high": max(high, score),
            "rank_low": min(rank_low, rank), "rank_high": max(rank_high, rank),
            "rank_widened": not rank_low <= rank <= rank_high,  # counted in bench/trust_bench.py
        }
    return out


def _bootstrap(con, platform: str, months: list[str], m: Methodology, replicates: int, seed: int,
               ids: list[str]) -> dict:
    from govmedia.scoring import _months_table, cached_sql
    from govmedia.scoring.expressions import bootstrap_totals

    _months_table(con, months)
    sql = cached_sql(con, f"boot-{platform}-{replicates}-{seed}", m,
                     lambda t: bootstrap_totals(t, m, platform, replicates, seed))
    tail = (1 - LEVEL) / 2
    # Every participating account in every replicate, plus its stored
    # influence contribution; ranks within the category per replicate, as competition ranks on
    # scores rounded to 2 decimals (as published).
    rows = con.execute(
        f"""
        WITH boot AS ({sql}),
        stored AS (
            SELECT account_id, sum(influence) * ? AS points, sum(total) AS published FROM monthly_scores
            WHERE platform = ? AND month IN (SELECT month FROM score_months) GROUP BY account_id
        ),
        raw AS (
            SELECT a.account_id, a.category, r.b, coalesce(st.published, 0) AS published,
                   coalesce(boot.s, 0) + coalesce(st.points, 0) AS s
            FROM accounts a CROSS JOIN range(?) r(b)
            LEFT JOIN boot ON boot.account_id = a.account_id AND boot.b = r.b
            LEFT JOIN stored st ON st.account_id = a.account_id
            WHERE a.platform = ? AND a.account_id IN (SELECT unnest(?::VARCHAR[]))
        ),
        -- Centred on the published score: each replicate shifted by (published − the replicates'
        -- median). Scaling every month to its maximum biases the replicates low; centred, the
        -- interval contains the published score by construction and keeps the bootstrap's spread.
        reps AS (
            SELECT *, s + published - median(s) OVER (PARTITION BY account_id) AS centred FROM raw
        ),
        ranked AS (
            SELECT *, rank() OVER (PARTITION BY category, b ORDER BY round(centred, 2) DESC) AS r FROM reps
        )
        SELECT account_id, quantile_cont(centred, ?), quantile_cont(centred, ?), quantile_disc(r, ?), quantile_disc(r, ?)
        FROM ranked GROUP BY account_id
        """,
        [m.total_weights["influence"], platform, replicates, platform, ids, tail, 1 - tail, tail, 1 - tail],
    ).fetchall()
    return {r[0]: (r[1], r[2], int(r[3]), int(r[4])) for r in rows}


def indistinct(rows: list[dict]) -> None:
    """Mark each ranked row whose rank interval overlaps the previous distinct rank's
    (`same_as`: that rank), in rank order: 与第 N 名无显著差别."""
    previous = None
    for row in rows:
        row["same_as"] = None
        if previous is not None and row["rank"] != previous["rank"]:
            if row["rank_low"] <= previous["rank_high"]:
                row["same_as"] = previous["rank"]
        previous = row
