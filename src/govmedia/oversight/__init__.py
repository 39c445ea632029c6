"""合规检查 Oversight: the inspection of government new media (issue 6).

Library entry points (SQL through DuckDB; the CLI, the web page and the reports call these):

- `load_rules(path=None)` / `load_scanner(rules)` — the rules file and its dictionaries.
- `run_check(con, at, rules=None, *, scanner=None, save=True) -> CheckResult` — judge every
  registered, active account as of the check point `at` (a date: its 00:00 Asia/Shanghai) and
  store the result (replacing an earlier check at the same point, in one transaction).
- `quarter_check_point("2020Q3") -> date(2020, 10, 1)` — a quarter is judged at its end.
- `pass_rates(con, at=… | quarter=…, by=("region", "category"))` — 合格率 of a stored check.
- `latest_summary(con, start, end)` — the stored check points within a period with their pass
  rates and counts (for the annual report's overview).
- `account_history(con, platform, account_id)` — one account across the stored check points.
- `report_overview(con, start, end)` — the overview block for the reports (title, paragraphs, table).
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from typing import Iterable, Sequence

import duckdb

from govmedia.core.errors import FieldError, UserError
from govmedia.core.time import Month, to_local
from govmedia.oversight.check import (
    FAIL, FINDING_COLUMNS, NEVER, OK, PASS, RESULT_COLUMNS, SLEEPING, STATUS_NAMES, ZOMBIE, CheckResult,
    alert_message, check_point_utc, compute_check, evaluate_account, order_key, parse_check_point,
)
from govmedia.oversight.dictionary import KIND_NAMES, SENSITIVE, SERIOUS, Scanner, load_scanner as _load_scanner
from govmedia.oversight.rules import Rules, load_rules
from govmedia.store import transaction
from govmedia.store.users import audit
from govmedia.store.oversight import (
    account_history, check_findings, check_points, check_results, check_run, delete_check as _delete_check,
    newest_data, save_check,
)

__all__ = [
    "data_end", "coverage_warning", "delete_check",
    "CheckResult", "Rules", "Scanner", "load_rules", "load_scanner", "run_check", "quarter_check_point",
    "pass_rates", "latest_summary", "account_history", "stored_check", "check_points", "check_findings",
    "parse_check_point", "alert_message", "STATUS_NAMES", "KIND_NAMES", "RESULT_COLUMNS", "FINDING_COLUMNS",
    "PASS", "FAIL", "OK", "SLEEPING", "ZOMBIE", "NEVER", "SERIOUS", "SENSITIVE", "PASS_RATE_COLUMNS",
    "evaluate_account", "check_point_utc", "report_overview", "REPORT_HEADERS", "filter_results", "STATUSES",
    "VERDICTS",
]

ALL = "全部"
UNKNOWN_REGION = "（未填地区）"
PASS_RATE_COLUMNS = ["check_at", "region", "category", "inspected", "passed", "pass_rate", "sleeping", "zombie",
                     "never", "alerts"]
_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]([1-4])\s*$")


STATUSES = (OK, SLEEPING, ZOMBIE, NEVER)
VERDICTS = (PASS, FAIL)


def filter_results(rows: list[dict], *, platform: str = "", region: str = "", category: str = "",
                   verdict: str = "", status: str = "") -> list[dict]:
    """The rows of a stored check that match every filter given ('' = any); FieldError for a value
    that names nothing (what the 合规检查 page, its downloads and the API filter by)."""
    from govmedia.core.vocabulary import CATEGORIES, PLATFORMS

    for field, value, allowed, words in (("platform", platform, PLATFORMS, "/".join(PLATFORMS)),
                                         ("category", category, CATEGORIES, "/".join(CATEGORIES)),
                                         ("verdict", verdict, VERDICTS, " / ".join(VERDICTS)),
                                         ("status", status, STATUSES, " / ".join(STATUSES))):
        if value and value not in allowed:
            raise FieldError(field, value, f"未知取值 {value!r}（可用: {words}）")

    def keep(r: dict) -> bool:
        return ((not platform or r["platform"] == platform)
                and (not region or (r["region"] or UNKNOWN_REGION) == region)
                and (not category or r["category"] == category) and (not verdict or r["verdict"] == verdict)
                and (not status or r["status"] == status))
    return [r for r in rows if keep(r)]


def load_scanner(rules: Rules) -> Scanner:
    return _load_scanner(rules.serious_errors, rules.sensitive_words, rules.variants)


def quarter_check_point(quarter: str) -> date:
    """'2020Q3' -> 2020-10-01: a quarter is judged at its end (the next quarter's first day, 00:00)."""
    match = _QUARTER_RE.match(str(quarter))
    if not match:
        raise FieldError("quarter", quarter, f"应写成 YYYYQn（如 2020Q3），而不是 {quarter!r}")
    year, q = int(match[1]), int(match[2])
    return date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)


def run_check(con: duckdb.DuckDBPyConnection, at: str | date, rules: Rules | None = None, *,
              scanner: Scanner | None = None, save: bool = True, before_commit=None,
              actor: str | None = None) -> CheckResult:
    """Judge and (with `save`) store the check at `at`, with its audit entry in the same transaction."""
    at = parse_check_point(at)
    rules = rules or load_rules()
    scanner = scanner or load_scanner(rules)
    result = compute_check(con, at, rules, scanner)
    if save:
        with transaction(con):
            save_check(con, result, before_commit=before_commit)
            audit(con, actor, "checks.run", {"at": at.isoformat(), "rules": rules.name, "rules_sha256": rules.sha256,
                                             "inspected": result.inspected, "passed": result.passed})
    return result


def data_end(con: duckdb.DuckDBPyConnection) -> date | None:
    """The check point the data covers up to: the day after the newest post or crawl (Beijing time);
    None when no post is stored. A later check point judges days nobody crawled: every account
    would look silent (睡眠、僵尸) and the pass rate would be false."""
    newest = newest_data(con)
    return None if newest is None else to_local(newest).date() + timedelta(days=1)


def coverage_warning(con: duckdb.DuckDBPyConnection, at: str | date) -> str | None:
    """Why a check at `at` would give false figures, in words; None when the data covers it."""
    at = parse_check_point(at)
    end = data_end(con)
    if end is None:
        return "库中还没有任何内容数据，检查会把所有账号判为未更新；请先导入数据。"
    if at > end:
        last = end - timedelta(days=1)
        return (f"检查点 {at.isoformat()} 晚于数据覆盖的最后一天 {last.isoformat()}：此后没有采集的数据，"
                f"账号会被误判为睡眠或僵尸，合格率失真。建议把检查点设为 {end.isoformat()} 或更早，或先导入新数据。")
    return None


def delete_check(con: duckdb.DuckDBPyConnection, at: str | date, *, actor: str | None = None) -> None:
    """Remove a stored check (a run at a wrong date, say), with its audit entry in the same transaction."""
    at = parse_check_point(at)
    with transaction(con):
        if not _delete_check(con, at):
            raise FieldError("check_at", at.isoformat(), f"没有 {at.isoformat()} 的检查结果，无需删除")
        audit(con, actor, "checks.delete", {"at": at.isoformat()})


def stored_check(con: duckdb.DuckDBPyConnection, at: str | date) -> tuple[dict, list[dict]]:
    """(run, rows in display order) of a stored check; UserError when there is none."""
    at = parse_check_point(at)
    run = check_run(con, at)
    if run is None:
        raise UserError(f"没有 {at.isoformat()} 的检查结果（先{{step:check}}）")
    rows = check_results(con, at)
    rows.sort(key=order_key)
    return run, rows


def summarize(rows: Iterable[dict], by: Sequence[str] = ("region", "category"), check_at: date | None = None
              ) -> list[dict]:
    """Pass rates per group, plus subtotals (全部) over every key and their combinations, and the total."""
    rows = list(rows)
    groups: dict[tuple, list[dict]] = {}

    def key_of(row: dict) -> tuple:
        return tuple((row.get(k) or UNKNOWN_REGION) if k == "region" else row.get(k) for k in by)

    masks = list(itertools.product((False, True), repeat=len(by)))  # which keys are summed over (全部)
    for row in rows:
        full = key_of(row)
        for mask in masks:
            groups.setdefault(tuple(ALL if m else v for v, m in zip(full, mask)), []).append(row)
    result = []
    for key in sorted(groups, key=lambda k: tuple((1 if v == ALL else 0, str(v)) for v in k)):
        members = groups[key]
        passed = sum(1 for r in members if r["verdict"] == PASS)
        item = {"check_at": check_at or (members[0].get("check_at") if members else None)}
        item.update(dict(zip(by, key)))
        item.update(inspected=len(members), passed=passed, pass_rate=passed / len(members),
                    sleeping=sum(1 for r in members if r["status"] == SLEEPING),
                    zombie=sum(1 for r in members if r["status"] == ZOMBIE),
                    never=sum(1 for r in members if r["status"] == NEVER),
                    alerts=sum(1 for r in members if r["alert"]))
        result.append(item)
    return result


def pass_rates(con: duckdb.DuckDBPyConnection, at: str | date | None = None, *, quarter: str | None = None,
               by: Sequence[str] = ("region", "category")) -> list[dict]:
    """合格率 of the stored check at `at` (or at the end of `quarter`), per group of `by`."""
    if (at is None) == (quarter is None):
        raise FieldError("check_at", None, "请给出检查点或季度之一")
    at = quarter_check_point(quarter) if quarter else parse_check_point(at)
    for column in by:
        if column not in ("platform", "region", "category"):
            raise UserError(f"不能按 {column!r} 分组（可用: platform、region、category）")
    _, rows = stored_check(con, at)
    return summarize(rows, by, at)


def _period_bound(value: str | date, *, end: bool) -> date:
    """'2020' / '2020-12' / '2020-12-31' / a date -> the first (or, for `end`, the last) day it names."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 12, 31) if end else date(int(text), 1, 1)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        month = Month.parse(text)
        return date(month.year, month.month, month.days() if end else 1)
    return parse_check_point(text)


def latest_summary(con: duckdb.DuckDBPyConnection, start: str | date, end: str | date) -> list[dict]:
    """Stored check points that close a moment of the period [start, end], oldest first, with their figures.

    `start`/`end` are dates (inclusive) or 'YYYY-MM' / 'YYYY'. A check point D (00:00 of D) judges what came
    before it, so it belongs to the period when start < D ≤ end + 1 day: for 2020, the checks of
    2020-04-01 … 2020-12-01 and 2021-01-01 (the 2020Q4 check), not 2020-01-01 (it closes 2019).

    Each item: check_at, quarter (when the check point is a quarter's end, e.g. '2020Q3'),
    inspected, passed, pass_rate, sleeping, zombie, never, alerts, serious_errors, inactive, not_open,
    rules_name, rules_sha256.
    """
    start, end = _period_bound(start, end=False), _period_bound(end, end=True)
    if end < start:
        raise UserError(f"期间的结束 {end} 早于开始 {start}")
    rows = con.execute(
        """
        SELECT r.check_at, r.inspected, r.passed, r.inactive, r.not_open, r.rules_name, r.rules_sha256,
               count(*) FILTER (WHERE c.status = 'sleeping'), count(*) FILTER (WHERE c.status = 'zombie'),
               count(*) FILTER (WHERE c.status = 'never'), count(*) FILTER (WHERE c.alert),
               coalesce(sum(c.serious_errors), 0)
        FROM check_runs r LEFT JOIN check_results c USING (check_at)
        WHERE r.check_at > ? AND r.check_at <= ? GROUP BY ALL ORDER BY r.check_at
        """,
        [start, end + timedelta(days=1)],
    ).fetchall()
    result = []
    for (at, inspected, passed, inactive, not_open, rules_name, rules_sha, sleeping, zombie, never, alerts,
         serious) in rows:
        result.append({
            "check_at": at, "quarter": _quarter_of(at), "inspected": inspected, "passed": passed,
            "pass_rate": passed / inspected if inspected else None, "sleeping": sleeping, "zombie": zombie,
            "never": never, "alerts": alerts, "serious_errors": int(serious), "inactive": inactive,
            "not_open": not_open, "rules_name": rules_name, "rules_sha256": rules_sha,
        })
    return result


def _quarter_of(at: date) -> str | None:
    """The quarter a check point closes: 2020-10-01 -> '2020Q3'."""
    if at.day != 1 or at.month not in (1, 4, 7, 10):
        return None
    return f"{at.year - 1}Q4" if at.month == 1 else f"{at.year}Q{(at.month - 1) // 3}"


REPORT_HEADERS = ["检查点", "季度", "检查账号", "合格", "合格率", "睡眠", "僵尸", "从未更新", "严重表述错误", "预警"]
_QUARTER_NAMES = {"1": "一", "2": "二", "3": "三", "4": "四"}


def report_overview(con: duckdb.DuckDBPyConnection, start: str | date, end: str | date) -> list[dict]:
    """The oversight block of a report's overview for the period (months 'YYYY-MM' or dates), as plain data:
    [{"title", "paragraphs", "headers", "rows"}] with strings only (the report's Block fields), or []
    when no check point of the period is stored. The reports package wraps it: `Block(**item)`."""
    checks = latest_summary(con, start, end)
    if not checks:
        return []
    rows = [[c["check_at"].isoformat(), c["quarter"] or "", str(c["inspected"]), str(c["passed"]),
             "" if c["pass_rate"] is None else f"{c['pass_rate']:.1%}", str(c["sleeping"]), str(c["zombie"]),
             str(c["never"]), str(c["serious_errors"]), str(c["alerts"])] for c in checks]
    quarters = [c for c in checks if c["quarter"]]
    clean = all(c["pass_rate"] == 1.0 and not (c["sleeping"] or c["zombie"] or c["never"]) for c in checks)
    if quarters:
        names = "、".join(_QUARTER_NAMES[c["quarter"][-1]] for c in quarters)
        years = sorted({c["quarter"].partition("Q")[0] for c in quarters})
        subject = f"{'、'.join(years)}年第{names}季度检查"
    else:
        subject = "各次检查"
    if clean:
        sentence = (f"本期间共有 {len(checks)} 个检查点的合规检查结果（检查点为当日 0 时，北京时间）。{subject}合格率均为 100%，"
                    "无“僵尸”“睡眠”账号，无“监测时间点前 2 周内无更新”问题。")
    else:
        parts = []
        for c in checks:
            bad = [f"{label} {c[key]} 个" for key, label in (("sleeping", "睡眠"), ("zombie", "僵尸"), ("never", "从未更新"))
                   if c[key]]
            rate = "—" if c["pass_rate"] is None else f"{c['pass_rate']:.1%}"
            parts.append(f"{c['check_at']:%Y-%m-%d}{'（' + c['quarter'] + '）' if c['quarter'] else ''}合格率 {rate}"
                         + (f"，{'、'.join(bad)}" if bad else ""))
        sentence = f"本期间共有 {len(checks)} 个检查点的合规检查结果（检查点为当日 0 时，北京时间）：" + "；".join(parts) + "。"
    paragraphs = [sentence]
    serious = sum(c["serious_errors"] for c in checks)
    if serious:
        paragraphs.append(f"各检查点共发现严重表述错误 {serious} 处（单项否决），明细见各账号的合规检查记录。")
    return [{"title": "合规检查", "paragraphs": paragraphs, "headers": list(REPORT_HEADERS), "rows": rows}]
