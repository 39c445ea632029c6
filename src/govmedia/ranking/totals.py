"""Per-account content totals of a period (posts, originals, metric sums), with the same snapshot
choice as the scores and the overview (scoring.expressions.post_facts). Reports use them for the
totals of a ranking category."""

from __future__ import annotations

import duckdb

from govmedia.methodology import load_methodology
from govmedia.ranking.overview import TOTAL_COLUMNS
from govmedia.scoring import duckdb_tables, months_between
from govmedia.scoring.expressions import post_facts


def account_totals(con: duckdb.DuckDBPyConnection, start: str, end: str) -> dict[tuple[str, str], dict[str, int]]:
    """(platform, account_id) -> posts, originals and the sums of every metric in the period."""
    backend, tables = duckdb_tables(con, months_between(start, end))
    facts = post_facts(tables.posts, tables.snapshots, tables.months, load_methodology(), wide=False)
    aggregates = {"posts": facts.count(), "originals": facts.original.cast("int64").sum()}
    for metric in TOTAL_COLUMNS[2:]:
        aggregates[metric] = facts[metric].sum()
    rows = backend.to_pyarrow(facts.group_by(["platform", "account_id"]).aggregate(**aggregates)).to_pylist()
    con.execute("DROP TABLE IF EXISTS score_months")
    return {(r["platform"], r["account_id"]): {c: int(r[c] or 0) for c in TOTAL_COLUMNS} for r in rows}
