"""What if the weights were different (敏感性): rank changes under other weights or another
methodology, and how stable each category's top 3 is when one weight moves.

- `parse_weights("0.4,0.3,0.15,0.15")` — four weights in DIMENSIONS order, summing to 1.
- `whatif(con, start, end, weights=… | methodology=…)` — every ranked account with its rank under
  the methodology in force and under the alternative (WHATIF_COLUMNS).
- `top3_stability(con, start, end, m)` — per platform and category: in how many of the eight
  moves of one weight by ±0.05 (the others rescaled to keep the sum 1) the top 3 stay as they are.

A period's total is linear in the weights (Σ months Σ dimensions weight × score), so other weights
need no rescoring: the stored dimension scores are reweighted. Another methodology file changes
the dimension scores themselves and is scored afresh into a temporary table (nothing is stored).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from govmedia.core.errors import FieldError
from govmedia.core.time import months_between
from govmedia.core.vocabulary import CATEGORIES, DIMENSION_NAMES, DIMENSIONS, PLATFORMS
from govmedia.methodology import Methodology, resolve
from govmedia.ranking import competition_ranks, participants, period_scores, require_scored

WHATIF_COLUMNS = ("platform", "category", "account_id", "name", "rank", "score", "rank_then", "score_then", "change")
WHATIF_HEADERS = {"platform": "平台", "category": "类别", "account_id": "账号ID", "name": "名称", "rank": "现名次",
                  "score": "现得分", "rank_then": "新名次", "score_then": "新得分", "change": "名次变化"}
STEP = 0.05


def parse_weights(text: str) -> dict[str, float]:
    names = "、".join(DIMENSION_NAMES[d] for d in DIMENSIONS)
    try:
        values = [float(x) for x in text.replace("，", ",").split(",")]
    except ValueError as exc:
        raise FieldError("weights", text, f"权重应是 4 个数，依次为{names}，用逗号分隔，如 0.4,0.3,0.15,0.15") from exc
    if len(values) != len(DIMENSIONS) or any(not math.isfinite(v) or v < 0 for v in values):
        raise FieldError("weights", text, f"权重应是 4 个非负数，依次为{names}，如 0.4,0.3,0.15,0.15")
    if abs(sum(values) - 1) > 1e-6:
        raise FieldError("weights", text, f"4 个权重之和应为 1，而不是 {sum(values):g}")
    return dict(zip(DIMENSIONS, values))


def moved(weights: dict[str, float], dimension: str, delta: float) -> dict[str, float] | None:
    """`weights` with one moved by `delta` and the others rescaled to keep the sum 1 (None when
    the move leaves [0, 1] or nothing is left to rescale)."""
    new = weights[dimension] + delta
    rest = sum(w for d, w in weights.items() if d != dimension)
    if not 0 <= new <= 1 or rest <= 0:
        return None
    return {d: new if d == dimension else w * (1 - new) / rest for d, w in weights.items()}


def _reweighted(rows: list[dict], weights: dict[str, float]) -> list[dict]:
    return competition_ranks([{**r, "score": sum(weights[d] * r[d] for d in DIMENSIONS)} for r in rows])


def _score_alternative(con, start: str, end: str, m: Methodology) -> None:
    """Score the period under another methodology into the temporary table `whatif_scores`, once
    for every platform and category asked (nothing is stored)."""
    from govmedia.scoring import _months_table, compiled_sql

    _months_table(con, months_between(start, end))
    con.execute(f"CREATE OR REPLACE TEMP TABLE whatif_scores AS SELECT * FROM ({compiled_sql(con, m)})")


def _alternative_rows(con, platform: str, category: str) -> list[dict]:
    """The period's sums per account of `whatif_scores` (see _score_alternative)."""
    rows = con.execute(
        f"""
        SELECT a.platform, a.category, a.account_id, a.name, coalesce(sum(s.total), 0) AS score,
               {", ".join(f"coalesce(sum(s.{d}), 0) AS {d}" for d in DIMENSIONS)}
        FROM accounts a LEFT JOIN whatif_scores s USING (platform, account_id)
        WHERE a.platform = ? AND a.category = ? GROUP BY ALL
        """, [platform, category]).fetchall()
    names = ("platform", "category", "account_id", "name", "score", *DIMENSIONS)
    return [dict(zip(names, r)) for r in rows]


def whatif(con: duckdb.DuckDBPyConnection, start: str, end: str, *, weights: dict[str, float] | None = None,
           methodology: str | Path | Methodology | None = None, platform: str | None = None,
           category: str | None = None) -> list[dict]:
    """Every ranked account of the platforms and categories asked, with its rank now (the stored
    scores) and then (other weights, or another methodology), best rank then first."""
    require_scored(con, months_between(start, end))
    other = resolve(con, methodology) if methodology is not None else None
    if other is not None:
        _score_alternative(con, start, end, other)
    out = []
    for p in [platform] if platform else PLATFORMS:
        for c in [category] if category else CATEGORIES:
            now = competition_ranks(participants(period_scores(con, p, start, end, c)))
            if not now:
                continue
            if other is not None:
                ids = {r["account_id"] for r in now}  # the same participants, ranked under the other method
                then = competition_ranks([r for r in _alternative_rows(con, p, c) if r["account_id"] in ids])
            else:
                then = _reweighted(now, weights)
            by_id = {r["account_id"]: r for r in then}
            for r in sorted(now, key=lambda r: (by_id[r["account_id"]]["rank"], r["rank"])):
                t = by_id[r["account_id"]]
                out.append({"platform": r["platform"], "category": r["category"], "account_id": r["account_id"],
                            "name": r["name"], "rank": r["rank"], "score": r["score"], "rank_then": t["rank"],
                            "score_then": t["score"], "change": r["rank"] - t["rank"]})
    return out


def top3_stability(con: duckdb.DuckDBPyConnection, start: str, end: str, m: Methodology) -> list[dict]:
    """Per platform and category with scores: the top 3 now, and for each move of one weight by
    ±STEP whether the top 3 (names and order) stay; the moves that change them, in words."""
    out = []
    for platform in PLATFORMS:
        for category in CATEGORIES:
            rows = participants(period_scores(con, platform, start, end, category))
            if not any(r["score"] > 0 for r in rows):
                continue
            top = [r["name"] for r in _reweighted(rows, m.total_weights)[:3]]
            moves, changed = 0, []
            for d in DIMENSIONS:
                for delta in (STEP, -STEP):
                    weights = moved(m.total_weights, d, delta)
                    if weights is None:
                        continue
                    moves += 1
                    then = [r["name"] for r in _reweighted(rows, weights)[:3]]
                    if then != top:
                        changed.append(f"{DIMENSION_NAMES[d]}{'+' if delta > 0 else '−'}{STEP:g}：" + "、".join(then))
            out.append({"platform": platform, "category": category, "top": top, "moves": moves,
                        "stable": moves - len(changed), "changed": changed})
    return out
