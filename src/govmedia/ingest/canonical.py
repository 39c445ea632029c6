"""The canonical post row and the one place where every source row is validated.

Format modules only *map* their columns onto canonical field names (and add what their
format says explicitly, such as forms or the headline position); `validate` turns the raw
values into a `Post` or a `Reject` with the line, the column and a reason in plain words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from govmedia.ingest import values as v
from govmedia.ingest.forms import FormClassifier

PLATFORMS = ("weibo", "wechat", "douyin")
PLATFORM_NAMES = {"weibo": "微博", "wechat": "微信", "douyin": "抖音"}
_PLATFORM_ALIASES = {
    "weibo": "weibo", "微博": "weibo", "新浪微博": "weibo", "wb": "weibo",
    "wechat": "wechat", "weixin": "wechat", "微信": "wechat", "公众号": "wechat",
    "微信公众号": "wechat", "wx": "wechat", "mp": "wechat",
    "douyin": "douyin", "抖音": "douyin", "dy": "douyin", "tiktok": "douyin",
}

METRICS = ("reposts", "comments", "likes", "reads", "wows", "shares", "plays", "collects")
METRIC_NAMES = {
    "reposts": "转发", "comments": "评论", "likes": "点赞", "reads": "阅读",
    "wows": "在看", "shares": "分享", "plays": "播放", "collects": "收藏",
}

FIELD_NAMES = {
    "platform": "平台", "account_id": "账号ID", "post_id": "内容ID", "published_at": "发布时间",
    "observed_at": "采集时间", "is_original": "是否原创", "forms": "形式", "title": "标题",
    "text": "正文", "url": "链接", "position": "位置", **METRIC_NAMES,
}

# What a post is when nothing says otherwise: Douyin posts are videos.
PLATFORM_DEFAULT_FORMS = {"weibo": ("text",), "wechat": ("article",), "douyin": ("video",)}

HASHTAG_RE = re.compile(r"#([^#\r\n]{1,100}?)#")
# Douyin writes topics as "#话题" followed by a space or the next "#": no closing "#".
DOUYIN_HASHTAG_RE = re.compile(r"#([^#\s]{1,50})")


def parse_platform(value: object) -> str:
    text = v.clean_text(value)
    if text is None:
        raise ValueError("平台为空")
    platform = _PLATFORM_ALIASES.get(text.lower())
    if platform is None:
        raise ValueError(f"未知平台 {text!r}（应为 weibo/wechat/douyin 或 微博/微信/抖音）")
    return platform


def extract_hashtags(*texts: str | None, platform: str = "weibo") -> tuple[str, ...]:
    pattern = DOUYIN_HASHTAG_RE if platform == "douyin" else HASHTAG_RE
    found: dict[str, None] = {}
    for text in texts:
        if text:
            for tag in pattern.findall(text):
                if tag and tag == tag.strip():  # "#XX #" is not a topic
                    found[tag] = None
    return tuple(found)


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


@dataclass(slots=True)
class Post:
    line: int
    platform: str
    account_id: str
    post_id: str
    published_at: datetime
    observed_at: datetime | None
    is_original: bool | None
    forms: tuple[str, ...]
    title: str | None
    text: str | None
    url: str | None
    position: int | None
    metrics: tuple[int | None, ...]  # in METRICS order
    hashtags: tuple[str, ...]


@dataclass(slots=True)
class Reject:
    line: int
    column: str | None
    reason: str
    raw: Mapping[str, Any]


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
        return reject(None, record.error)

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
                f"该行属于{PLATFORM_NAMES[platform]}({platform})，与 --account 指定的平台 {forced_platform} 不符",
            )
        if account_id is not None and account_id != forced_account:
            return reject("account_id", f"账号ID {account_id} 与 --account 指定的 {forced_account} 不符")
        account_id = forced_account
    if account_id is None:
        return reject("account_id", "缺少账号ID")
    if (platform, account_id) not in who.registered:
        return reject(
            "account_id", f"账号 {platform}:{account_id} 不在账号名录中（先用 govmedia accounts import 登记）"
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
    default_forms = record.default_forms or PLATFORM_DEFAULT_FORMS[platform]
    forms = _merge_forms(explicit_forms, record.forms, classifier.classify(title, text), default_forms)
    hashtags = tuple(dict.fromkeys((*record.hashtags, *extract_hashtags(title, text, platform=platform))))

    return Post(
        line=record.line, platform=platform, account_id=account_id, post_id=post_id,
        published_at=published_at, observed_at=observed_at, is_original=is_original,
        forms=forms, title=title, text=text, url=url, position=position,
        metrics=tuple(metrics), hashtags=hashtags,
    )


def _merge_forms(*groups: Iterable[str]) -> tuple[str, ...]:
    *stated, default = groups
    merged = dict.fromkeys(f for group in stated for f in group)
    if not merged:
        merged = dict.fromkeys(default)
    return tuple(sorted(merged))


def _local(moment: datetime) -> str:
    return (moment + (v.SHANGHAI.utcoffset(None))).strftime("%Y-%m-%d %H:%M:%S")


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
            return reject(field, f"{label} {_local(when)} 晚于采集时间 {_local(observed_at)}")
    return when, observed_at


# --------------------------------------------------------------------------- comments

COMMENT_FIELD_NAMES = {
    "comment_id": "评论ID", "post_id": "内容ID", "author_id": "评论者ID", "author_sec_uid": "评论者sec_uid",
    "parent_comment_id": "上级评论ID", "commented_at": "评论时间", "observed_at": "采集时间", "text": "评论内容",
}


@dataclass(slots=True)
class Comment:
    line: int
    platform: str
    comment_id: str
    post_id: str
    author_id: str
    author_sec_uid: str | None
    parent_comment_id: str | None  # None for a top-level comment
    commented_at: datetime
    observed_at: datetime | None
    text: str | None


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
        return reject(None, record.error)
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
