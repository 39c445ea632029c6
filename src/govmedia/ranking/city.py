"""People's Daily city competitiveness (人民日报·政务指数 竞争力指数) from a table of components.

competitiveness = 0.30 × reach (传播力) + 0.35 × service (服务力) + 0.35 × interaction (互动力);
weights in methodology/peoples-daily.toml. A `table` column (榜单) ranks several tables at once.
The rows come from `ingest.city.read_city_table`.
"""

from __future__ import annotations

from govmedia.methodology import load_peer
from govmedia.ranking import competition_ranks

CITY_COLUMNS = ("table", "rank", "city", "reach", "service", "interaction", "competitiveness")


def city_index(rows: list[dict]) -> list[dict]:
    """Each city's index, ranked within its table (榜单)."""
    weights = load_peer("peoples-daily")["weights"]
    scored = [{**r, "competitiveness": sum(weights[k] * r[k] for k in weights)} for r in rows]
    ranked: list[dict] = []
    for group in dict.fromkeys(r["table"] for r in scored):
        members = [r for r in scored if r["table"] == group]
        ranked.extend(competition_ranks(members, "competitiveness", ("city",)))
    return [{c: r[c] for c in CITY_COLUMNS} for r in ranked]
