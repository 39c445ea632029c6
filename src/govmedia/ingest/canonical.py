"""The canonical post row and the one place where every source row is validated.

Format modules only *map* their columns onto canonical field names (and add what their
format says explicitly, such as forms or the headline position); `validate` turns the raw
values into a `Post` or a `Reject` with the line, the column and a reason in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from govmedia.core.rows import Comment, Post, Reject
from govmedia.core.time import local_text
from govmedia.core.vocabulary import (
    METRIC_NAMES, METRICS, PLATFORM_NAMES, PROFILES, extract_hashtags, parse_platform,
)
from govmedia.ingest import values as v
from govmedia.ingest.forms import FormClassifier

FIELD_NAMES = {
    "platform": "平台", "account_id": "账号ID", "post_id": "内容ID", "published_at": "发布时间",
    "observed_at": "采集时间", "is_original": "是否原创", "forms": "形式", "title": "标题",
    "text": "正文", "url": "链接", "position": "位置", **METRIC_NAMES,
}


@dataclass(slots=True)
class Record:
    """One source row before validation.

    `values` maps canonical field names to raw cells; `columns` names the source column each
    came from (for messages); `raw` is the row as read, written back to the rejects file.
    """

    line: int
    raw: Mapping[str, Any]
    values: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)
    forms: tuple[str, ...] = ()  # forms the format states explicitly
    hashtags: tuple[str, ...] = ()  # topics from a crawler's own topic column
    default_forms: tuple[str, ...] = ()  # used only when nothing else says anything
    error: str | None = None  # a format-level problem found while mapping
    error_column: str | None = None  # the column the error is about (None: the whole row)


@dataclass(slots=True)
class Attribution:
    """Who the rows belong to: an explicit --account, and the registry to check against."""

    registered: frozenset[tuple[str, str]]
    forced: tuple[str, str] | None = None  # (platform, account_id) from --account
    platform_hint: str | None = None  # what the format implies when rows carry no platform


def validate(record: Record, who: Attribution, classifier: FormClassifier) -> Post | Reject:
    """Turn a mapped source row into a canonical Post, or say precisely why not."""
    vals = record.values
    cols = record.columns

    def reject(fieldname: str | None, reason: str) -> Reject:
        column = cols.get(fieldname, FIELD_NAMES.get(fieldname, fieldname)) if fieldname else None
        return Reject(record.line, column, reason, record.raw)

    if record.error:
        return Reject(record.line, record.error_column, record.error, record.raw)

    # Platform and account.
    try:
        platform = parse_platform(vals["platform"]) if not v.is_missing(vals.get("platform")) else None
    except ValueError as exc:
        return reject("platform", str(exc))
    if platform is None:
        platform = who.forced[0] if who.forced else who.platform_hint
    if platform is None:
        return reject("platform", "缺少平台")
    account_id = v.clean_id(vals.get("account_id"))
    if who.forced:
        forced_platform, forced_account = who.forced
        if platform != forced_platform:
            return reject(
                "platform",
                f"该行属于{PLATFORM_NAMES[platform]}，与指定账号的平台{PLATFORM_NAMES[forced_platform]}不符",
            )
        if account_id is not None and account_id != forced_account:
            return reject("account_id", f"账号ID {account_id} 与指定的账号 {forced_account} 不符")
        account_id = forced_account
    if account_id is None:
        return reject("account_id", "缺少账号ID")
    if (platform, account_id) not in who.registered:
        return reject(
            "account_id", f"{PLATFORM_NAMES[platform]}账号 {account_id} 不在账号名录中（先在账号名录中登记）"
        )

    post_id = v.clean_id(vals.get("post_id"))
    if post_id is None:
        return reject("post_id", "缺少内容ID")

    times = _event_times(vals, "published_at", "发布时间", reject)
    if isinstance(times, Reject):
        return times
    published_at, observed_at = times

    try:
        is_original = v.parse_bool(vals.get("is_original"))
    except ValueError as exc:
        return reject("is_original", str(exc))

    metrics: list[int | None] = []
    for name in METRICS:
        try:
            metrics.append(v.parse_count(vals.get(name)))
        except ValueError as exc:
            return reject(name, str(exc))

    try:
        position = v.parse_int(vals.get("position"))
    except ValueError as exc:
        return reject("position", str(exc))
    if position is not None and position < 1:
        return reject("position", f"位置应为从 1 开始的序号，而不是 {position}")

    try:
        explicit_forms = classifier.parse(vals.get("forms"))
    except ValueError as exc:
        return reject("forms", str(exc))

    title = v.clean_text(vals.get("title"))
    text = v.clean_text(vals.get("text"))
    url = v.clean_text(vals.get("url"))
    default_forms = record.default_forms or PROFILES[platform].default_forms
    forms = _merge_forms(explicit_forms, record.forms, classifier.classify(title, text), default_forms)
    hashtags = tuple(dict.fromkeys((*record.hashtags, *extract_hashtags(title, text, platform=platform))))

    # What the source itself says (a column of its own, or forms its format states), as opposed to
    # what the importer derived: native values win a merge with another source (store/writer.py).
    native = {f for f in ("published_at", "is_original", "title", "text", "url", "position")
              if f in cols and not v.is_missing(vals.get(f))}
    if explicit_forms or record.forms:
        native.add("forms")
    return Post(
        line=record.line, platform=platform, account_id=account_id, post_id=post_id,
        published_at=published_at, observed_at=observed_at, is_original=is_original,
        forms=forms, title=title, text=text, url=url, position=position,
        metrics=tuple(metrics), hashtags=hashtags, native=frozenset(native),
    )


def _merge_forms(*groups: Iterable[str]) -> tuple[str, ...]:
    *stated, default = groups
    merged = dict.fromkeys(f for group in stated for f in group)
    if not merged:
        merged = dict.fromkeys(default)
    return tuple(sorted(merged))


def _event_times(vals: dict, field: str, label: str, reject):
    """(event time, crawl time or None) of a post or comment, or the Reject saying which is wrong:
    the event is required, and a crawl cannot have seen it before it happened."""
    try:
        when = v.parse_time(vals.get(field))
    except ValueError as exc:
        return reject(field, f"缺少{label}" if v.is_missing(vals.get(field)) else str(exc))
    observed_at = None
    if not v.is_missing(vals.get("observed_at")):
        try:
            observed_at = v.parse_time(vals["observed_at"])
        except ValueError as exc:
            return reject("observed_at", str(exc))
        if when > observed_at:
            return reject(field, f"{label} {local_text(when)} 晚于采集时间 {local_text(observed_at)}")
    return when, observed_at


# --------------------------------------------------------------------------- comments

COMMENT_FIELD_NAMES = {
    "comment_id": "评论ID", "post_id": "内容ID", "author_id": "评论者ID", "author_sec_uid": "评论者sec_uid",
    "parent_comment_id": "上级评论ID", "commented_at": "评论时间", "observed_at": "采集时间", "text": "评论内容",
}


def validate_comment(record: Record, platform: str) -> Comment | Reject:
    """Turn a mapped comment row into a Comment, or say precisely why not.

    Whether the commented post is stored (and so which account the comment belongs to) is
    decided by the writer against the store, like a post id stored under another account.
    """
    vals = record.values
    cols = record.columns

    def reject(fieldname: str | None, reason: str) -> Reject:
        column = cols.get(fieldname, COMMENT_FIELD_NAMES.get(fieldname, fieldname)) if fieldname else None
        return Reject(record.line, column, reason, record.raw)

    if record.error:
        return Reject(record.line, record.error_column, record.error, record.raw)
    comment_id = v.clean_id(vals.get("comment_id"))
    if comment_id is None:
        return reject("comment_id", "缺少评论ID")
    post_id = v.clean_id(vals.get("post_id"))
    if post_id is None:
        return reject("post_id", "缺少内容ID")
    author_id = v.clean_id(vals.get("author_id"))
    if author_id is None:
        return reject("author_id", "缺少评论者ID")
    times = _event_times(vals, "commented_at", "评论时间", reject)
    if isinstance(times, Reject):
        return times
    commented_at, observed_at = times
    parent = v.clean_id(vals.get("parent_comment_id"))
    if parent in ("0", comment_id):
        parent = None  # Douyin writes "0", Weibo the comment's own id (rootid) for a top-level comment
    return Comment(
        line=record.line, platform=platform, comment_id=comment_id, post_id=post_id, author_id=author_id,
        author_sec_uid=v.clean_id(vals.get("author_sec_uid")), parent_comment_id=parent,
        commented_at=commented_at, observed_at=observed_at, text=v.clean_text(vals.get("text")),
    )
