"""The demo: a synthetic Nanjing data set (the account set of the 2020 white paper) written in the
real tools' export formats, registered and imported like a user would, then checked against the
white paper's published totals.

- `generate(directory, seed)` writes DIR/accounts.xlsx and DIR/exports/… (same seed, same bytes).
- `run_demo(con, directory, seed=…, on_step=…)` generates, registers the accounts, imports every
  export file and runs `facts_check` on the store.
- `facts_check(con)` compares the store's 2020-02..11 totals with seed_facts.csv.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
from rich.cells import cell_len

from govmedia.demo.accounts import PLATFORM_LABELS, DemoAccount
from govmedia.demo.facts import FactCheck, account_totals, facts_check, platform_totals
from govmedia.demo.generate import FORMAT_LABELS, GeneratedSet, generate

__all__ = ["DemoResult", "FactCheck", "GeneratedSet", "DemoAccount", "account_totals", "facts_check", "generate",
           "platform_totals", "run_demo"]


@dataclass
class DemoResult:
    directory: Path
    database: str | None
    generated: GeneratedSet
    accounts: dict[str, int]  # platform -> accounts in the store
    accounts_rejected: int
    files: int
    accepted: int
    rejected: int
    unchanged: int
    file_errors: list[str]
    posts: dict[str, int]  # platform -> posts in the store
    facts: list[FactCheck]
    seconds: dict[str, float] = field(default_factory=dict)
    cases: int = 0
    campaigns: int = 0
    evaluation_rejected: int = 0
    scored: tuple[str, str] | None = None
    # (platform, category) -> (Spearman of GMI-1 2-11月 vs the published score, our top 3 names)
    agreement: dict[tuple[str, str], tuple[float, list[str]]] = field(default_factory=dict)
    report: dict[str, Path] = field(default_factory=dict)  # format -> file of the 2020-02..11 report
    report_error: str | None = None
    # Oversight: the stored quarterly checks of 2020 (latest_summary items), see CHECK_POINTS.
    checks: list[dict] = field(default_factory=list)
    # The posts of 2020-02..11 flagged as possibly inflated (ranking.anomalies.find_anomalies rows).
    anomalies: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.accounts_rejected and not self.file_errors and \
            not self.evaluation_rejected and all(f.within() for f in self.facts)

    def summary(self) -> str:
        lines = ["演示数据集：南京市政务新媒体（2020年白皮书账号集，账号名单与得分来自公开榜单，内容与数值为模拟生成）"]
        lines.append(f"数据库：{self.database or '（内存）'}")
        lines.append(f"数据文件：{self.directory.resolve()}（账号名录 {self.generated.registry.name}，"
                     f"导出文件 {self.generated.exports.name}/，随机种子 {self.generated.seed}）")
        lines.append("账号：" + "，".join(f"{PLATFORM_LABELS[p]} {self.accounts.get(p, 0)} 个"
                                          for p in ("weibo", "wechat", "douyin")))
        lines.append("导出格式：" + "；".join(
            f"{FORMAT_LABELS[k]} {self.generated.files_per_format.get(k, 0)} 个文件 {n:,} 行"
            for k, n in self.generated.rows.items()))
        lines.append(f"导入：{self.files} 个文件，接受 {self.accepted:,} 行，拒收 {self.rejected} 行，"
                     f"未变化 {self.unchanged:,} 行；内容 " + "，".join(
                         f"{PLATFORM_LABELS[p]} {self.posts.get(p, 0):,} 条" for p in ("weibo", "wechat", "douyin")))
        for error in self.file_errors:
            lines.append(f"  错误：{error}")
        lines.append("校准检查（2020年2月1日至11月30日，按快照规则从数据库统计，对照白皮书）：")
        width = max(cell_len(f.label) for f in self.facts) + 2 if self.facts else 20
        lines.append(f"  {_pad('指标', width)}{_pad_left('目标', 14)}{_pad_left('实际', 16)}{_pad_left('偏差', 10)}")
        for f in self.facts:
            if f.unit == "ratio":
                target, actual = f"{f.target:.2f}", f"{f.actual:.2f}"
            elif f.unit == "比例":
                target, actual = f"{f.target:.0%}", f"{f.actual:.0%}"
            else:
                target, actual = f"{f.target:,.0f}", f"{f.actual:,.0f}"
            mark = "" if f.within() else "  ✗"
            detail = f"  {f.detail}" if f.detail else ""
            lines.append(f"  {_pad(f.label, width)}{target:>14}{actual:>16}{f.deviation:>+10.2%}{mark}{detail}")
        if self.scored:
            lines.append(f"评价：创新案例 {self.cases} 个，联动宣传 {self.campaigns} 项；已按 GMI-1 计算 "
                         f"{self.scored[0]} 至 {self.scored[1]} 的月度分数")
            lines.append("2020年2-11月 GMI-1 榜单与白皮书公布得分的秩相关（Spearman）及前三名：")
            for (platform, category), (rho, top) in self.agreement.items():
                lines.append(f"  {PLATFORM_LABELS[platform]}{CATEGORY_LABELS[category]}  ρ = {rho:.3f}  "
                             f"前三：{'、'.join(top)}")
        if self.scored:
            names: dict[str, list[str]] = {}
            for a in self.anomalies:
                names.setdefault(a["name"], []).append(a["kind_name"])
            said = "、".join(f"{name} {len(kinds)} 篇（{'、'.join(dict.fromkeys(kinds))}）" for name, kinds in names.items())
            lines.append(f"疑似刷量（govmedia anomalies，2020年2-11月）：{len(self.anomalies)} 篇" +
                         (f"——{said}；演示数据中两个示例账号埋有刷量，榜单以 ⚠ 标出，方法 gmi-1-discount 先折算再计分"
                          if self.anomalies else ""))
        if self.report:
            folder = next(iter(self.report.values())).parent.resolve()
            lines.append(f"报告（2020年2-11月，含同比）：{folder}/ — " + "、".join(p.name for p in self.report.values()))
        if self.report_error:
            lines.append(f"报告未生成：{self.report_error}")
        if self.checks:
            lines.append("合规检查（govmedia check，已保存；检查点为当日 0 时）：" + "；".join(
                f"{c['check_at']:%Y-%m-%d}{'（' + c['quarter'] + '）' if c['quarter'] else ''} 检查 {c['inspected']} 个，"
                f"合格率 {c['pass_rate']:.0%}，睡眠 {c['sleeping']}、僵尸 {c['zombie']}"
                for c in self.checks) + f"（{self.seconds.get('check', 0):.1f} 秒）")
        s = self.seconds
        lines.append(f"耗时：生成 {s.get('generate', 0):.1f} 秒，登记账号 {s.get('accounts', 0):.1f} 秒，"
                     f"导入 {s.get('import', 0):.1f} 秒，校准检查 {s.get('facts', 0):.1f} 秒，"
                     f"评分 {s.get('score', 0):.1f} 秒，"
                     + (f"报告 {s['report']:.1f} 秒，" if "report" in s else "") +
                     f"合计 {s.get('total', 0):.1f} 秒")
        return "\n".join(lines)


CATEGORY_LABELS = {"district": "区级", "livelihood": "民生", "comprehensive": "综合"}
SCORED_PERIOD = ("2019-02", "2020-11")
# The white paper's 2020 quarterly inspections (Q1–Q3, checked at each quarter's end) and the
# end of the demo data (2020-12-01).
CHECK_POINTS = ("2020-04-01", "2020-07-01", "2020-10-01", "2020-12-01")


def _oversight(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Run and store the quarterly checks; the white paper found a 100 % pass rate in 2020."""
    from govmedia.oversight import latest_summary, load_rules, load_scanner, run_check

    rules = load_rules()
    scanner = load_scanner(rules)
    for at in CHECK_POINTS:
        run_check(con, at, rules, scanner=scanner)
    return latest_summary(con, "2020-01-01", "2020-12-31")


def _evaluate(con: duckdb.DuckDBPyConnection, generated: GeneratedSet) -> dict:
    """Import the demo's cases and campaigns as a user would, score, compare with the white paper."""
    from govmedia.ingest.evaluation import read_campaigns, read_cases
    from govmedia.ranking import rank, ranked
    from govmedia.scoring import score
    from govmedia.store.evaluation import registry_by_platform, save_campaigns, save_cases

    accounts = generated.accounts
    _, cases, case_rejects = read_cases(generated.cases, registry_by_platform(con))
    save_cases(con, cases)
    _, campaigns, campaign_rejects = read_campaigns(generated.campaigns)
    save_campaigns(con, campaigns)
    score(con, *SCORED_PERIOD)
    published = {(a.platform, a.account_id): a.score for a in accounts if a.score is not None}
    agreement = {}
    for platform in ("weibo", "wechat"):
        for category in ("district", "livelihood", "comprehensive"):
            rows = ranked(rank(con, platform, category, "2020-02", "2020-11"))
            named = [(r["score"], published[(platform, r["account_id"])]) for r in rows
                     if (platform, r["account_id"]) in published]
            agreement[(platform, category)] = (_spearman(named), [r["name"] for r in rows[:3]])
    from govmedia.ranking.anomalies import find_anomalies

    return {"cases": len(cases), "campaigns": len(campaigns),
            "evaluation_rejected": len(case_rejects) + len(campaign_rejects), "scored": SCORED_PERIOD,
            "agreement": agreement, "anomalies": find_anomalies(con, "2020-02", "2020-11")}


def _spearman(pairs: list[tuple[float, float]]) -> float:
    def ranks(values):
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return result

    if len(pairs) < 2:
        return float("nan")
    x, y = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    mx, my = sum(x) / len(x), sum(y) / len(y)
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sx = sum((a - mx) ** 2 for a in x) ** 0.5
    sy = sum((b - my) ** 2 for b in y) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - cell_len(text))


def _pad_left(text: str, width: int) -> str:
    return " " * max(1, width - cell_len(text)) + text


def run_demo(
    con: duckdb.DuckDBPyConnection,
    directory: str | Path,
    *,
    seed: int = 2020,
    on_step: Callable[[str], None] | None = None,
    report_dir: str | Path | None = None,
) -> DemoResult:
    """Generate the data set in `directory`, register its accounts, import its files, check the facts;
    with `report_dir`, also write the 2020-02..2020-11 report (all four formats) there."""
    from govmedia.ingest import import_path
    from govmedia.ingest.accounts import read_accounts
    from govmedia.store.accounts import upsert_accounts

    step = on_step or (lambda message: None)
    directory = Path(directory)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    step(f"生成演示数据（随机种子 {seed}）……")
    generated = generate(directory, seed, on_step=step)
    seconds["generate"] = generated.seconds

    mark = time.perf_counter()
    step(f"登记账号名录 {generated.registry}")
    _, rows, rejects = read_accounts(generated.registry)
    upsert_accounts(con, rows)
    seconds["accounts"] = time.perf_counter() - mark

    mark = time.perf_counter()
    step(f"导入 {len(generated.files)} 个导出文件……")
    done_files: set[str] = set()

    def progress(name: str, done: int, total: int) -> None:
        if done == total and name not in done_files:
            done_files.add(name)
            if len(done_files) % 50 == 0:
                step(f"已导入 {len(done_files)} 个文件……")

    summary = import_path(con, generated.exports, progress=progress)
    seconds["import"] = time.perf_counter() - mark
    step(f"导入完成：接受 {summary.accepted:,} 行，拒收 {summary.rejected} 行，未变化 {summary.unchanged:,} 行")

    mark = time.perf_counter()
    step("校准检查：按快照规则统计 2020年2—11月 数据……")
    facts = facts_check(con)
    seconds["facts"] = time.perf_counter() - mark

    mark = time.perf_counter()
    step("导入创新案例与联动宣传，按 GMI-1 计算 2019年2月至2020年11月 的月度分数……")
    evaluation = _evaluate(con, generated)
    seconds["score"] = time.perf_counter() - mark

    # Oversight (issue 6): the quarterly inspection checks, stored for the web page and reports.
    mark = time.perf_counter()
    step("合规检查：2020年各季度末检查点……")
    checks = _oversight(con)
    seconds["check"] = time.perf_counter() - mark
    step("合规检查合格率：" + "，".join(f"{c['check_at']:%m-%d} {c['pass_rate']:.0%}" for c in checks))

    report, report_error = {}, None
    if report_dir is not None:
        from govmedia.core.errors import UserError
        from govmedia.reports import build_report, write_report

        mark = time.perf_counter()
        step(f"生成 2020年2-11月 报告（Word、PDF、HTML、Excel）到 {report_dir} ……")
        try:
            model = build_report(con, "2020-02", "2020-11", compare_previous_year=True)
            report = write_report(model, Path(report_dir))
        except UserError as exc:  # e.g. no Chinese font: the data and the site still work
            report_error = str(exc)
        seconds["report"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started

    database = None
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if rows and rows[0][0]:
        database = str(Path(rows[0][0]).resolve())
    accounts = dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall())
    posts = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall())
    imported = [f for f in summary.files if not f.skipped]
    return DemoResult(
        directory=directory, database=database, generated=generated, accounts=accounts,
        accounts_rejected=len(rejects), files=len(imported), accepted=summary.accepted, rejected=summary.rejected,
        unchanged=summary.unchanged, file_errors=[f.error for f in summary.files if f.error], posts=posts,
        facts=facts, seconds=seconds, report=report, report_error=report_error, checks=checks, **evaluation,
    )
