"""NanmiCoder/MediaCrawler: weibo and douyin `contents` files as csv, json (one array) or jsonl.

Files are named `{search|detail|creator}_contents_{date}.{csv|json|jsonl}` under
`data/{weibo|douyin}/{fmt}/`. Counts are strings, `last_modify_ts` is the crawl time in
milliseconds (our observation time). Weibo's `shared_count` is the reposts count, and its
`create_time` is eight hours ahead in releases before 2026-07-30, so `create_date_time`
(always right) is preferred. Releases from 2026-07 write `creator_hash` (sha256 of the uid, 16
hex digits) instead of `user_id`: such a file needs `--account`.
`{…}_comments_{date}` files hold comments (comment_id, create_time in unix seconds — weibo's
eight hours ahead like its posts, so `create_date_time` is preferred —, note_id / aweme_id,
user_id of the commenter, douyin also sec_uid, parent_comment_id: weibo's `rootid`, which is the
comment's own id for a top-level comment, douyin's `reply_id`, "0" for a top-level comment);
they are imported into the comments table for the oversight checks (`read_comments`).
"""

from __future__ import annotations

import hashlib
from typing import Iterator

from govmedia.core.errors import UserError
from govmedia.ingest.canonical import Record
from govmedia.ingest.context import Context, Source
from govmedia.ingest.tabular import Table

NAME = "mediacrawler"

WEIBO_COLUMNS = ("note_id", "content", "create_time", "create_date_time", "liked_count", "comments_count",
                 "shared_count", "last_modify_ts", "note_url", "ip_location", "user_id", "nickname",
                 "creator_hash", "source_keyword")
DOUYIN_COLUMNS = ("aweme_id", "aweme_type", "title", "desc", "create_time", "user_id", "sec_uid", "nickname",
                  "liked_count", "collected_count", "comment_count", "share_count", "last_modify_ts",
                  "aweme_url", "note_download_url", "video_download_url", "creator_hash")
COMMENT_COLUMNS = ("comment_id", "parent_comment_id", "sub_comment_count", "comment_like_count", "like_count",
                   "pictures")
KNOWN_HEADERS = frozenset(WEIBO_COLUMNS) | frozenset(DOUYIN_COLUMNS) | frozenset(COMMENT_COLUMNS)

_COUNTS = ("liked_count", "comments_count", "comment_count", "shared_count", "share_count", "collected_count")
_SHIFT_SECONDS = 8 * 3600


def _platform_of(header: set[str]) -> str | None:
    if "note_id" in header:
        return "weibo"
    if "aweme_id" in header:
        return "douyin"
    return None


def detect(table: Table) -> bool:
    header = set(table.header)
    if "comment_id" in header and ({"note_id", "aweme_id"} & header):
        return True
    return _platform_of(header) is not None and bool(header & set(_COUNTS))


def is_comments(table: Table) -> bool:
    return "comment_id" in table.header


def read_comments(table: Table) -> tuple[str, Iterator[Record]]:
    """(platform, records) of a comments file; records map onto the canonical comment fields."""
    platform = _platform_of(set(table.header))
    if platform is None:
        raise UserError(f"{table.path}: 不是 MediaCrawler 的评论文件（缺少 note_id 或 aweme_id 列）")
    if "user_id" not in table.header:
        raise UserError(f"{table.path}: 评论文件缺少 user_id 列（评论者ID），无法统计账号的回复")
    return platform, _comment_records(table, platform)


def _comment_records(table: Table, platform: str) -> Iterator[Record]:
    post_column = "note_id" if platform == "weibo" else "aweme_id"
    for line, row in table.rows:
        error = row.get("__error__") or _other_platform(row, platform)
        if platform == "weibo":
            commented, time_column = _weibo_published(row)
        else:
            commented, time_column = row.get("create_time"), "create_time"
        values = {
            "comment_id": row.get("comment_id"), "post_id": row.get(post_column), "author_id": row.get("user_id"),
            "author_sec_uid": row.get("sec_uid"), "parent_comment_id": row.get("parent_comment_id"),
            "commented_at": commented, "observed_at": row.get("last_modify_ts"), "text": row.get("content"),
        }
        columns = {"comment_id": "comment_id", "post_id": post_column, "author_id": "user_id",
                   "author_sec_uid": "sec_uid", "parent_comment_id": "parent_comment_id",
                   "commented_at": time_column, "observed_at": "last_modify_ts", "text": "content"}
        yield Record(line, row, values, columns, error=error)


def read(table: Table, ctx: Context) -> Source:
    header = set(table.header)
    platform = _platform_of(header)
    if platform is None:
        raise UserError(f"{table.path}: 不是 MediaCrawler 的 contents 文件（缺少 note_id 或 aweme_id 列）")
    if "user_id" not in header and ctx.forced is None:
        if "creator_hash" in header:
            raise UserError(
                f"{table.path}: 这是新版 MediaCrawler 的文件，只有 creator_hash 没有 user_id，无法确定账号；"
                f"请用 --account {platform}:账号ID 指明"
            )
        raise UserError(f"{table.path}: 缺少 user_id 列，无法确定账号；请用 --account {platform}:账号ID 指明")
    own_hash = None
    if ctx.forced and "creator_hash" in header:
        # A search-mode file mixes creators. When the --account uid's hash is among them, the
        # rows with other hashes belong to other accounts; otherwise we cannot tell.
        candidate = hashlib.sha256(ctx.forced[1].encode()).hexdigest()[:16]
        hashes = {str(r.get("creator_hash") or "") for _, r in table.rows}
        if candidate in hashes and len(hashes) > 1:
            own_hash = candidate
    rows = _weibo_records(table, own_hash) if platform == "weibo" else _douyin_records(table, own_hash)
    return Source(NAME, platform, rows)


def _other_platform(row: dict, platform: str) -> str | None:
    if platform == "weibo" and not _filled(row.get("note_id")) and _filled(row.get("aweme_id")):
        return "该行是抖音内容（有 aweme_id），而文件是微博内容"
    if platform == "douyin" and not _filled(row.get("aweme_id")) and _filled(row.get("note_id")):
        return "该行是微博内容（有 note_id），而文件是抖音内容"
    return None


def _foreign(row: dict, own_hash: str | None) -> str | None:
    if own_hash and str(row.get("creator_hash") or "") != own_hash:
        return f"creator_hash {row.get('creator_hash')} 不是 --account 指定账号的内容"
    return None


def _weibo_records(table: Table, own_hash: str | None) -> Iterator[Record]:
    for line, row in table.rows:
        error = row.get("__error__") or _other_platform(row, "weibo") or _foreign(row, own_hash)
        published, column = _weibo_published(row)
        text = row.get("content")
        forms = ("video",) if isinstance(text, str) and "的微博视频" in text else ()
        values = {
            "account_id": row.get("user_id"),
            "post_id": row.get("note_id"),
            "published_at": published,
            "observed_at": row.get("last_modify_ts"),
            "text": text,
            "url": row.get("note_url"),
            "reposts": row.get("shared_count"),
            "comments": row.get("comments_count"),
            "likes": row.get("liked_count"),
        }
        columns = {"account_id": "user_id", "post_id": "note_id", "published_at": column,
                   "observed_at": "last_modify_ts", "text": "content", "url": "note_url",
                   "reposts": "shared_count", "comments": "comments_count", "likes": "liked_count"}
        yield Record(line, row, values, columns, forms=forms, default_forms=("text",), error=error)


def _weibo_published(row: dict) -> tuple[object, str]:
    if _filled(row.get("create_date_time")):
        return row["create_date_time"], "create_date_time"
    created = row.get("create_time")
    if _filled(created) and "user_id" in row:
        # Releases that still wrote user_id all had the eight-hour create_time bug.
        try:
            return int(float(str(created))) - _SHIFT_SECONDS, "create_time"
        except ValueError:
            pass
    return created, "create_time"


def _douyin_records(table: Table, own_hash: str | None) -> Iterator[Record]:
    for line, row in table.rows:
        error = row.get("__error__") or _other_platform(row, "douyin") or _foreign(row, own_hash)
        desc = row.get("desc")
        title = row.get("title")
        if title == desc:
            title = None
        image_note = str(row.get("aweme_type") or "").strip() == "68" or _filled(row.get("note_download_url"))
        values = {
            "account_id": row.get("user_id"),
            "post_id": row.get("aweme_id"),
            "published_at": row.get("create_time"),
            "observed_at": row.get("last_modify_ts"),
            "is_original": True,  # a Douyin account's own works; the platform has no reposts in a feed
            "title": title,
            "text": desc,
            "url": row.get("aweme_url"),
            "likes": row.get("liked_count"),
            "comments": row.get("comment_count"),
            "shares": row.get("share_count"),
            "collects": row.get("collected_count"),
        }
        columns = {"account_id": "user_id", "post_id": "aweme_id", "published_at": "create_time",
                   "observed_at": "last_modify_ts", "title": "title", "text": "desc", "url": "aweme_url",
                   "likes": "liked_count", "comments": "comment_count", "shares": "share_count",
                   "collects": "collected_count"}
        forms = ("image",) if image_note else ("video",)
        yield Record(line, row, values, columns, forms=forms, error=error)


def _filled(value) -> bool:
    return value is not None and str(value).strip() not in ("", "None")
