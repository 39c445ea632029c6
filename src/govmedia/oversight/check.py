"""One inspection check: every registered, active account as of a check point.

The check point is a date D meaning D 00:00 Asia/Shanghai; posts and comments are stored as
naive UTC, so the check point in the store's terms is D 00:00 − 8 h. Everything published at or
after the check point is ignored, so a check as of a past date sees what an inspector saw then.
See docs/oversight.md for every rule at its boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from govmedia.core.errors import FieldError
from govmedia.core.time import day_start_utc, local_date
from govmedia.oversight.dictionary import SERIOUS, SENSITIVE, Scanner, scan_texts
from govmedia.oversight.rules import Rules
from govmedia.store.oversight import FINDING_COLUMNS, RESULT_COLUMNS  # noqa: F401 (re-exported)

OK, SLEEPING, ZOMBIE, NEVER = "ok", "sleeping", "zombie", "never"
STATUS_NAMES = {OK: "正常", SLEEPING: "睡眠", ZOMBIE: "僵尸", NEVER: "从未更新"}
PASS, FAIL = "合格", "不合格"
VETO = "（单项否决）"



def parse_check_point(value: str | date) -> date:
    """'2020-12-01' -> date. A check point is a calendar day (its 00:00 in Asia/Shanghai)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise FieldError("check_at", value, f"应为日期 YYYY-MM-DD（表示当日 0 时，北京时间），而不是 {value!r}") from exc


def check_point_utc(at: date) -> datetime:
    """A check point (a Beijing date, its 00:00) as stored UTC."""
    return day_start_utc(at)


@dataclass
class CheckResult:
    check_at: date
    rules: Rules
    dictionaries_sha256: str
    rows: list[dict]  # one per inspected account, alerts first
    findings: list[dict]
    inactive: int  # registered but deactivated: not inspected
    not_open: int  # opened after the check point: not inspected
    run_at: datetime = field(default_factory=lambda: datetime.utcnow().replace(microsecond=0))

    @property
    def inspected(self) -> int:
        return len(self.rows)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.rows if r["verdict"] == PASS)

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.inspected if self.rows else None

    @property
    def alerts(self) -> list[dict]:
        return [r for r in self.rows if r["alert"]]


def _account_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute(
        "SELECT platform, account_id, name, region, category, coalesce(active, TRUE), opened_at FROM accounts "
        "ORDER BY platform, account_id"
    )
    keys = ("platform", "account_id", "name", "region", "category", "active", "opened_at")
    return [dict(zip(keys, r)) for r in cursor.fetchall()]


def _post_stats(con, at_utc: datetime, rules: Rules) -> dict[tuple, tuple]:
    since = at_utc - timedelta(days=rules.originality_window_days)
    unknown = "TRUE" if rules.unknown_counts_as_original else "NULL"
    rows = con.execute(
        f"""
        SELECT platform, account_id, max(published_at),
               count(*) FILTER (WHERE published_at >= ?),
               count(*) FILTER (WHERE published_at >= ? AND coalesce(is_original, {unknown}) IS NOT NULL),
               count(*) FILTER (WHERE published_at >= ? AND coalesce(is_original, {unknown}))
        FROM posts WHERE published_at < ? GROUP BY ALL
        """,
        [since, since, since, at_utc],
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def _response_stats(con, at_utc: datetime, rules: Rules) -> dict[tuple, tuple[int, int, float | None]]:
    """(platform, account) -> (user comments, answered, median hours) over the response window."""
    since = at_utc - timedelta(days=rules.response_window_days)
    rows = con.execute(
        """
        WITH own AS (
            SELECT c.* FROM comments c
            WHERE c.commented_at < ?
              AND (c.author_id = c.account_id OR c.author_sec_uid = c.account_id)
        ),
        users AS (
            SELECT c.* FROM comments c
            WHERE c.commented_at >= ? AND c.commented_at < ?
              AND (c.parent_comment_id IS NULL OR c.parent_comment_id IN ('', '0')
                   OR c.parent_comment_id = c.comment_id)
              AND c.author_id <> c.account_id AND coalesce(c.author_sec_uid, '') <> c.account_id
        ),
        answers AS (
            SELECT u.platform, u.account_id, u.comment_id,
                   date_diff('second', any_value(u.commented_at), min(o.commented_at)) AS seconds
            FROM users u LEFT JOIN own o
              ON o.platform = u.platform AND o.account_id = u.account_id AND o.parent_comment_id = u.comment_id
             AND o.comment_id <> u.comment_id AND o.commented_at >= u.commented_at
            GROUP BY ALL
        )
        -- median() interpolates between the two middle values, as statistics.median does
        SELECT platform, account_id, count(*), count(seconds), median(seconds) / 3600
        FROM answers GROUP BY ALL
        """,
        [at_utc, since, at_utc],
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def _findings(con, at_utc: datetime, at: date, rules: Rules, scanner: Scanner) -> list[dict]:
    """Scan title and text of the inspected accounts' posts in the content window."""
    since = at_utc - timedelta(days=rules.content_window_days)
    relation = con.sql(
        """
        SELECT p.platform, p.account_id, p.post_id, p.published_at, p.title, p.text FROM posts p
        JOIN accounts a ON a.platform = p.platform AND a.account_id = p.account_id
        WHERE p.published_at >= ? AND p.published_at < ? AND (p.title IS NOT NULL OR p.text IS NOT NULL)
          AND coalesce(a.active, TRUE) AND (a.opened_at IS NULL OR a.opened_at < ?)
        """,
        params=[since, at_utc, at],
    )
    findings = []
    reader = relation.to_arrow_reader(200_000)
    for batch in reader:
        titles = batch.column("title").to_pylist()
        texts = batch.column("text").to_pylist()
        hits = list(scan_texts(scanner, zip(range(len(texts)), titles, texts)))
        if not hits:
            continue
        platforms, accounts, posts, published = (batch.column(c) for c in
                                                 ("platform", "account_id", "post_id", "published_at"))
        for index, fieldname, match, context in hits:
            e = match.entry
            findings.append({
                "check_at": at, "platform": platforms[index].as_py(), "account_id": accounts[index].as_py(),
                "post_id": posts[index].as_py(), "published_at": published[index].as_py(), "kind": e.kind,
                "field": fieldname, "start_offset": match.start, "matched": match.found or e.word,
                "correction": e.correction,
                "category": e.category, "note": e.note, "excerpt": context,
            })
    findings.sort(key=lambda f: (f["platform"], f["account_id"], f["published_at"], f["post_id"], f["field"],
                                 f["start_offset"]))
    return findings


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def evaluate_account(account: dict, at: date, rules: Rules, post_stats: tuple | None,
                     response: tuple | None, findings: list[dict]) -> dict:
    """The verdict for one account: pure, given the aggregates."""
    last_post_at, posts_window, judged, originals = post_stats or (None, 0, 0, 0)
    opened_at = account["opened_at"]
    reference = local_date(last_post_at) if last_post_at is not None else None
    if opened_at is not None and (reference is None or opened_at > reference):
        reference = opened_at  # the update clock starts when the account was opened
    days = (at - reference).days if reference is not None else None
    reasons: list[str] = []
    veto = False
    last_text = local_date(last_post_at).isoformat() if last_post_at is not None else None
    if last_post_at is None and (days is None or days > rules.sleeping_days):
        status = NEVER
        since = f"（开通于 {opened_at.isoformat()}，已 {days} 天）" if opened_at is not None else ""
        reasons.append(f"从未更新：检查点前没有任何发布内容{since}{VETO}")
        veto = True
    elif days is not None and days > rules.zombie_days:
        status = ZOMBIE
        reasons.append(f"僵尸账号：检查点前 {rules.zombie_days} 天内无更新（上次更新 {last_text}，已 {days} 天）{VETO}")
        veto = True
    elif days is not None and days > rules.sleeping_days:
        status = SLEEPING
        reasons.append(f"睡眠账号：检查点前 {rules.sleeping_days} 天内无更新（上次更新 {last_text}，已 {days} 天）{VETO}")
        veto = True
    else:
        status = OK
    alert = status == OK and days is not None and rules.sleeping_days - days <= rules.alert_days
    alert_date = reference + timedelta(days=rules.sleeping_days + 1) if alert else None

    original_share = originals / judged if judged else None
    if original_share is not None and judged >= rules.originality_min_posts and \
            original_share < rules.originality_min_share:
        reasons.append(f"转发多、原创少：近 {rules.originality_window_days} 天 {judged} 条中原创 {originals} 条"
                       f"（{_percent(original_share)}，低于 {_percent(rules.originality_min_share)}）"
                       + (VETO if rules.originality_veto else ""))
        veto = veto or rules.originality_veto

    user_comments, answered, median = response if response else (None, None, None)
    response_share = answered / user_comments if user_comments else None
    if user_comments is not None and user_comments >= rules.response_min_comments:
        problems = []
        if response_share < rules.response_min_share:
            problems.append(f"回复率 {_percent(response_share)}，低于 {_percent(rules.response_min_share)}")
        if median is not None and median > rules.response_max_median_hours:
            problems.append(f"回复用时中位数 {median:.1f} 小时，超过 {rules.response_max_median_hours:g} 小时")
        if problems:
            reasons.append(f"互动回应不足：近 {rules.response_window_days} 天用户评论 {user_comments} 条、已回复 "
                           f"{answered} 条（{'；'.join(problems)}）" + (VETO if rules.response_veto else ""))
            veto = veto or rules.response_veto

    serious = [f for f in findings if f["kind"] == SERIOUS]
    sensitive = [f for f in findings if f["kind"] == SENSITIVE]
    if serious:
        shown = "、".join(dict.fromkeys(f"「{f['matched']}」应为「{f['correction']}」" for f in serious))
        reasons.append(f"严重表述错误 {len(serious)} 处：{shown}" + (VETO if rules.serious_veto else ""))
        veto = veto or rules.serious_veto
    if sensitive:
        shown = "、".join(dict.fromkeys(f"「{f['matched']}」" for f in sensitive))
        reasons.append(f"禁用/敏感词 {len(sensitive)} 处：{shown}" + (VETO if rules.sensitive_veto else ""))
        veto = veto or rules.sensitive_veto

    return {
        "check_at": at, "platform": account["platform"], "account_id": account["account_id"],
        "name": account["name"], "region": account["region"], "category": account["category"],
        "opened_at": opened_at, "last_post_at": last_post_at, "days_without_update": days, "status": status,
        "alert": alert, "alert_date": alert_date, "posts_window": posts_window, "original_share": original_share,
        "user_comments": user_comments, "answered": answered, "response_share": response_share,
        "median_response_hours": median, "serious_errors": len(serious), "sensitive_words": len(sensitive),
        "verdict": FAIL if veto else PASS, "reasons": "；".join(reasons),
    }


def alert_message(row: dict) -> str:
    if not row.get("alert"):
        return ""
    what = "从未更新" if row.get("last_post_at") is None else "睡眠账号"
    return f"预警：如不更新，将于 {row['alert_date'].isoformat()} 起判为{what}"


def compute_check(con: duckdb.DuckDBPyConnection, at: date, rules: Rules, scanner: Scanner) -> CheckResult:
    """Read the store and judge every account; writes nothing."""
    at_utc = check_point_utc(at)
    accounts = _account_rows(con)
    inactive = [a for a in accounts if not a["active"]]
    not_open = [a for a in accounts if a["active"] and a["opened_at"] is not None and a["opened_at"] >= at]
    inspected = [a for a in accounts if a["active"] and not (a["opened_at"] is not None and a["opened_at"] >= at)]
    posts = _post_stats(con, at_utc, rules)
    responses = _response_stats(con, at_utc, rules)
    findings = _findings(con, at_utc, at, rules, scanner)
    by_account: dict[tuple, list[dict]] = {}
    for f in findings:
        by_account.setdefault((f["platform"], f["account_id"]), []).append(f)
    rows = [evaluate_account(a, at, rules, posts.get((a["platform"], a["account_id"])),
                             responses.get((a["platform"], a["account_id"])),
                             by_account.get((a["platform"], a["account_id"]), []))
            for a in inspected]
    rows.sort(key=order_key)
    return CheckResult(at, rules, scanner.sha256, rows, findings, len(inactive), len(not_open))


def order_key(row: dict) -> tuple[Any, ...]:
    """Alerts first (soonest first), then failures, then the rest; by platform, region, name."""
    group = 0 if row["alert"] else (1 if row["verdict"] == FAIL else 2)
    return (group, row["alert_date"] or date.max, row["platform"], row["region"] or "", row["name"],
            row["account_id"])
