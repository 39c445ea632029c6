"""Why a score is what it is: every raw feature, its transform, the normalising maximum and the
weighted contribution, for one account and month (what `govmedia explain` prints)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import METRIC_NAMES, METRICS, PLATFORM_NAMES
from govmedia.core.time import Month
from govmedia.methodology import (COMPUTED_DIMENSIONS, DIMENSION_NAMES, DIMENSIONS, FEATURE_NAMES, Methodology,
                                  resolve, stored)
from govmedia.scoring import duckdb_tables
from govmedia.methodology.anomalies import KIND_NAMES
from govmedia.scoring.anomalies import discounted, evidence, platform_flags
from govmedia.scoring.expressions import influence_points, monthly_features, post_facts, tagged_posts


@dataclass
class TermExplanation:
    formula: str
    features: list[tuple[str, str, float, float]]  # (feature, Chinese name, value, coefficient)
    inner: float
    value: float  # weight × ln(1 + inner)

    def in_words(self) -> str:
        """The term with its features by name and value: 0.4 × ln(1 + 总转发数 16,321) = 3.8801."""
        weight = self.formula.split(" × ", 1)[0]
        inner = " + ".join(f"{'' if c == 1 else f'{c:g} × '}{name} {value:,.6g}" for _, name, value, c in self.features)
        return f"{weight} × ln(1 + {inner}) = {self.value:.4f}"


@dataclass
class DimensionExplanation:
    dimension: str
    raw: float
    maximum: float
    score: float
    weight: float
    contribution: float
    terms: list[TermExplanation] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    platform: str
    account_id: str
    name: str
    month: str
    methodology: str
    methodology_sha256: str
    stored_sha256: str | None
    stored_differs: bool  # the stored scores were computed by a methodology that scores this platform otherwise
    posts: int
    originals: int
    innovative: int
    total: float
    dimensions: list[DimensionExplanation]
    flagged: list[str] = field(default_factory=list)  # flagged posts in words, with what the discount replaced
    flagged_ids: tuple[str, ...] = ()  # their post ids

    def lines(self) -> list[str]:
        out = [
            f"{PLATFORM_NAMES[self.platform]} {self.name}（{self.account_id}） {self.month}",
            f"方法 {self.methodology}  sha256 {self.methodology_sha256}",
        ]
        if self.stored_differs:
            out.append(f"注意：库中分数由另一方法文件计算（sha256 {self.stored_sha256}），下列数值按当前方法重新计算")
        out.append(f"本月发布 {self.posts} 条，其中原创 {self.originals} 条，原创创新产品 {self.innovative} 条")
        if self.flagged:
            out.append(f"⚠ 疑似刷量 {len(self.flagged)} 条：")
            out.extend(f"  {line}" for line in self.flagged)
        for d in self.dimensions:
            out.append("")
            out.append(f"【{DIMENSION_NAMES[d.dimension]} {d.dimension}】原始值 {d.raw:.6f}")
            for term in d.terms:
                parts = "，".join(f"{name}（{f}）= {value:,.6g}" + ("" if c == 1 else f" × {c:g}")
                                 for f, name, value, c in term.features)
                out.append(f"  {term.formula}：{parts} → {term.value:.6f}")
            out.extend(f"  {line}" for line in d.details)
            if d.maximum > 0:
                out.append(f"  本月本平台最大原始值 {d.maximum:.6f} → 得分 = 原始值 / 最大值 × 100 = {d.score:.4f}")
            else:
                out.append("  本月本平台所有账号原始值均为 0 → 得分 0")
            out.append(f"  权重 {d.weight:g} → 贡献 {d.contribution:.4f}")
        out.append("")
        formula = " + ".join(f"{d.weight:g}×{DIMENSION_NAMES[d.dimension]}" for d in self.dimensions)
        out.append(f"月度总分 = {formula} = {self.total:.4f}")
        return out


def explain(con: duckdb.DuckDBPyConnection, platform: str, account_id: str, month: str,
            methodology: str | Methodology | None = None) -> Explanation:
    """Under the methodology given, else the one in force in the store."""
    month = str(Month.parse(month))
    m = resolve(con, methodology)
    account = con.execute("SELECT name FROM accounts WHERE platform = ? AND account_id = ?",
                          [platform, account_id]).fetchall()
    if not account:
        raise UserError(f"{PLATFORM_NAMES.get(platform, platform)}账号 {account_id} 不在账号名录中")
    maxima = con.execute(
        "SELECT max(reach_raw), max(engagement_raw), max(innovation_raw), max(influence_raw), "
        "any_value(methodology_sha256) FROM monthly_scores WHERE platform = ? AND month = ?",
        [platform, month],
    ).fetchall()[0]
    if maxima[0] is None:
        raise UserError(f"{month} 尚未计算分数：先{{step:score}}")
    stored_sha = maxima[4]
    stored_m = stored(con, stored_sha) if stored_sha else None
    stored_differs = bool(stored_sha) and (stored_m is None and stored_sha != m.sha256
                                           or stored_m is not None and not m.same_scores_as(stored_m, platform))

    backend, tables = duckdb_tables(con, [month])
    facts = post_facts(tables.posts, tables.snapshots, tables.months, m)
    flagged_rows = [r for r in platform_flags(con, platform, m) if r["account_id"] == account_id and r["month"] == month]
    flagged = _flag_lines(flagged_rows, m)
    if m.discount and flagged_rows:
        import ibis

        # The account-month's own flags are all the discount needs here (the store's flags are cached).
        keep = ("platform", "post_id", "kind", "metric", "value", "replacement", "window_us")
        own = ibis.memtable({k: [r[k] for r in flagged_rows] for k in keep},
                            schema={"platform": "string", "post_id": "string", "kind": "string", "metric": "string",
                                    "value": "int64", "replacement": "int64", "window_us": "int64"})
        facts = discounted(facts, own, m, METRICS)
    mine = facts.filter((facts.platform == platform) & (facts.account_id == account_id))
    feature_rows = backend.to_pyarrow(monthly_features(mine, m)).to_pylist()
    own_posts = tables.posts.filter((tables.posts.platform == platform) & (tables.posts.account_id == account_id))
    influence_rows = backend.to_pyarrow(influence_points(tables, tagged_posts(own_posts, tables.months, m), m)).to_pylist()
    con.execute("DROP TABLE IF EXISTS score_months")
    features = feature_rows[0] if feature_rows else {"n": 0, "n_o": 0, "n_i": 0}

    def feature(name: str) -> float:
        if name.startswith("avg_o_"):
            return features.get("sum_o_" + name[6:], 0) / features["n_o"] if features.get("n_o") else 0.0
        if name.startswith("avg_"):
            return features.get("sum_" + name[4:], 0) / features["n"] if features.get("n") else 0.0
        return float(features.get(name, 0) or 0)

    dimensions = []
    for index, dimension in enumerate(DIMENSIONS):
        maximum = float(maxima[index] or 0.0)
        weight = m.total_weights[dimension]
        if dimension in COMPUTED_DIMENSIONS:
            terms = []
            raw = 0.0
            for term in m.dimensions[platform][dimension]:
                parts = [(f, FEATURE_NAMES[f], feature(f), c) for f, c in term.of]
                inner = sum(value * c for _, _, value, c in parts)
                value = term.weight * math.log(1 + inner)
                raw += value
                terms.append(TermExplanation(term.formula(), parts, inner, value))
            details = []
        else:
            # influence_points covers every credited account of the month (cases are not filtered by
            # the posts given): this account's row only.
            row = next((r for r in influence_rows if r["platform"] == platform and r["account_id"] == account_id
                        and r["month"] == month), {"case_points": 0.0, "campaigns": 0})
            raw = row["case_points"] + m.campaign_points * row["campaigns"]
            terms = []
            details = _influence_details(con, platform, account_id, month, m, row)
        score = raw / maximum * m.scale if maximum > 0 else 0.0
        dimensions.append(DimensionExplanation(dimension, raw, maximum, score, weight, weight * score, terms, details))
    return Explanation(
        platform, account_id, account[0][0], month, m.name, m.sha256, stored_sha, stored_differs,
        int(features.get("n") or 0), int(features.get("n_o") or 0), int(features.get("n_i") or 0),
        sum(d.contribution for d in dimensions), dimensions, flagged,
        tuple(dict.fromkeys(r["post_id"] for r in flagged_rows)),
    )


def _flag_lines(rows: list[dict], m: Methodology) -> list[str]:
    """Each flagged post of the account-month in words, and what the discount counted instead."""
    window_us = m.window_us
    lines = []
    for row in rows:
        rule = m.thresholds.rule_for(row["kind"], row["platform"], row["metric"])
        said = f"内容 {row['post_id']}【{KIND_NAMES[row['kind']]}，严重度 {row['severity']:.2f}】{evidence(row, rule.response)}"
        name = METRIC_NAMES[row["metric"]]
        if not m.discount:
            said += "。现行方法不折算，按原数计分"
        elif row["window_us"] is not None and row["window_us"] > window_us:
            said += "。猛增发生在计分窗口之后，不影响分数"
        elif row["kind"] == "jump":
            said += f"。按刷量折算，计分的{name}扣除超出通常增长的 {row['value'] - row['replacement']}"
        else:
            said += f"。按刷量折算，{name} {row['value']} 计为 {row['replacement']}"
        lines.append(said)
    return lines


def _influence_details(con, platform, account_id, month, m: Methodology, row: dict) -> list[str]:
    lines = []
    cases = con.execute(
        "SELECT c.case_id, c.title, c.score FROM cases c JOIN case_accounts a USING (case_id) "
        "WHERE a.platform = ? AND a.account_id = ? AND c.month = ? ORDER BY c.case_id",
        [platform, account_id, month],
    ).fetchall()
    for case_id, title, score in cases:
        lines.append(f"创新案例 {case_id}「{title}」 {score:g} × {m.case_points_factor:g} 分")
    if not cases:
        lines.append("本月无创新案例")
    lines.append(f"参与联动宣传 {row['campaigns']} 项 × {m.campaign_points:g} 分 = {row['campaigns'] * m.campaign_points:g}")
    lines.append(f"影响力原始值 = 案例分 {row['case_points']:g} + 联动分 {row['campaigns'] * m.campaign_points:g}")
    return lines
