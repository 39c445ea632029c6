"""NanmiCoder/MediaCrawler: `contents` and `comments` files as csv, json (one array) or jsonl, of
Weibo, Douyin, Xiaohongshu, Bilibili and Kuaishou (its Tieba and Zhihu files are refused by name).

Files are named `{search|detail|creator}_{contents|comments}_{date}.{csv|json|jsonl}` under
`data/{weibo|douyin|xhs|bili|kuaishou}/{fmt}/` (Bilibili's csv contents: `…_videos_…`). Each platform
is told by its own columns, never guessed: Xiaohongshu shares `note_id` with Weibo (it has `time`,
`xsec_token`, `tag_list`…), Bilibili and Kuaishou share `video_id` (Bilibili has `video_play_count`,
`video_coin_count`, `video_danmaku`; Kuaishou `viewd_count` — sic — and `video_play_url`). Times:
Xiaohongshu's and Kuaishou's in milliseconds, the others' in seconds. Counts are strings, `last_modify_ts` is the crawl time in
milliseconds (our observation time). Weibo's `shared_count` is the reposts count, and its
`create_time` is eight hours ahead in releases before 2026-07-30, so `create_date_time`
(always right) is preferred. Releases from 2026-07 (9f4f8bf) write `creator_hash` (the first 16 hex
digits of the SHA-256 of the uid) instead of `user_id`, in contents and comments: the registry's
uids identify the account (`_Accounts`); a hash that is no registered account's, or not the one of
the account named for the file, is refused row by row.
`{…}_comments_{date}` files hold comments (comment_id, create_time in unix seconds — weibo's
eight hours ahead like its posts, so `create_date_time` is preferred —, note_id / aweme_id,
user_id of the commenter, douyin also sec_uid, parent_comment_id: weibo's `rootid`, which is the
comment's own id for a top-level comment, douyin's `reply_id`, "0" for a top-level comment);
they are imported into the comments table for the oversight checks (`read_comments`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterator

from govmedia.core.errors import UserError
from govmedia.core.vocabulary import PLATFORM_NAMES
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
XHS_COLUMNS = ("note_id", "type", "title", "desc", "video_url", "time", "last_update_time", "liked_count",
               "collected_count", "comment_count", "share_count", "image_list", "tag_list", "note_url", "xsec_token")
BILIBILI_COLUMNS = ("video_id", "video_type", "title", "desc", "create_time", "liked_count", "disliked_count",
                    "video_play_count", "video_favorite_count", "video_share_count", "video_coin_count",
                    "video_danmaku", "video_comment", "video_url")
KUAISHOU_COLUMNS = ("video_id", "video_type", "title", "desc", "create_time", "liked_count", "viewd_count",
                    "video_url", "video_play_url")
OTHER_COLUMNS = ("tieba_name", "tieba_link", "publish_time", "total_replay_num", "content_id", "content_type",
                 "content_text")
KNOWN_HEADERS = (frozenset(WEIBO_COLUMNS) | frozenset(DOUYIN_COLUMNS) | frozenset(COMMENT_COLUMNS)
                 | frozenset(XHS_COLUMNS) | frozenset(BILIBILI_COLUMNS) | frozenset(KUAISHOU_COLUMNS)
                 | frozenset(OTHER_COLUMNS))
NOT_EVALUATED = {"tieba": "百度贴吧", "zhihu": "知乎"}
POST_COLUMN = {"weibo": "note_id", "xiaohongshu": "note_id", "douyin": "aweme_id", "bilibili": "video_id",
               "kuaishou": "video_id"}

_COUNTS = ("liked_count", "comments_count", "comment_count", "shared_count", "share_count", "collected_count",
           "video_play_count", "viewd_count", "like_count", "sub_comment_count")
_SHIFT_SECONDS = 8 * 3600


def _platform_of(header: set[str]) -> str | None:
    """The platform a MediaCrawler file is of, by the columns only that platform writes (a file
    mixing rows of two platforms is of the first named here; the other rows are refused)."""
    if "note_id" in header:
        if header & {"tieba_name", "tieba_link", "total_replay_num"}:
            return "tieba"
        if header & {"xsec_token", "last_update_time", "tag_list", "image_list"} or (
                "type" in header and "time" in header):
            return "xiaohongshu"
        if "comment_id" in header and not header & {"create_date_time", "comment_like_count"}:
            return "xiaohongshu"  # Xiaohongshu's comments; Weibo's have create_date_time
        return "weibo"
    if "aweme_id" in header:
        return "douyin"
    if "video_id" in header:
        if header & {"video_play_count", "video_coin_count", "video_danmaku", "disliked_count", "video_favorite_count"}:
            return "bilibili"
        if header & {"viewd_count", "video_play_url"}:
            return "kuaishou"
        if "comment_id" in header:  # comments: Bilibili's carry parent ids and likes, Kuaishou's neither
            return "bilibili" if header & {"parent_comment_id", "like_count"} else "kuaishou"
        return None
    if header & {"tieba_name", "tieba_link", "total_replay_num"}:
        return "tieba"
    if header & {"content_id", "content_type"}:
        return "zhihu"
    return None


def detect(table: Table) -> bool:
    header = set(table.header)
    platform = _platform_of(header)
    if platform in NOT_EVALUATED:
        return True  # refused by name in read()
    if "comment_id" in header and platform is not None:
        return True
    return platform is not None and bool(header & set(_COUNTS))


def _refuse_other(table: Table, platform: str | None) -> None:
    if platform in NOT_EVALUATED:
        raise UserError(f"{table.path}: 这是 MediaCrawler 的{NOT_EVALUATED[platform]}文件；govmedia 不评估"
                        f"{NOT_EVALUATED[platform]}，未导入")


def is_comments(table: Table) -> bool:
    return "comment_id" in table.header


def read_comments(table: Table, ctx: Context | None = None) -> tuple[str, Iterator[Record]]:
    """(platform, records) of a comments file; records map onto the canonical comment fields."""
    platform = _platform_of(set(table.header))
    _refuse_other(table, platform)
    if platform is None:
        raise UserError(f"{table.path}: 不是 MediaCrawler 的评论文件（缺少 note_id、aweme_id 或 video_id 列）")
    if "user_id" not in table.header and "creator_hash" not in table.header:
        raise UserError(f"{table.path}: 评论文件缺少 user_id 列（评论者ID），无法统计账号的回复")
    return platform, _comment_records(table, platform, ctx)


def _comment_records(table: Table, platform: str, ctx: Context | None) -> Iterator[Record]:
    post_column = POST_COLUMN[platform]
    # Newer releases hash the commenter's id too: a registered account's hash is that account
    # (its replies count); another commenter is kept as "hash:<creator_hash>".
    hashes = {creator_hash(uid): uid for p, uid in (ctx.registered if ctx else ()) if p == platform}
    by_hash = "user_id" not in table.header
    for line, row in table.rows:
        error = row.get("__error__") or _other_platform(row, platform)
        if platform == "weibo":
            commented, time_column = _weibo_published(row)
        else:
            commented, time_column = row.get("create_time"), "create_time"
        values = {
            "comment_id": row.get("comment_id"), "post_id": row.get(post_column), "author_id": _author(row, by_hash, hashes),
            "author_sec_uid": row.get("sec_uid"), "parent_comment_id": row.get("parent_comment_id"),
            "commented_at": commented, "observed_at": row.get("last_modify_ts"), "text": row.get("content"),
        }
        columns = {"comment_id": "comment_id", "post_id": post_column, "author_id": "creator_hash" if by_hash else "user_id",
                   "author_sec_uid": "sec_uid", "parent_comment_id": "parent_comment_id",
                   "commented_at": time_column, "observed_at": "last_modify_ts", "text": "content"}
        yield Record(line, row, values, columns, error=error)


def creator_hash(uid: str) -> str:
    """What MediaCrawler writes for a uid since 2026-07: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(str(uid).strip().encode("utf-8")).hexdigest()[:16]


class _Accounts:
    """Whose rows these are: the `user_id` column, else `creator_hash` through the registry's uids."""

    def __init__(self, table: Table, ctx: Context, platform: str):
        header = set(table.header)
        self.platform = platform
        self.by_id = "user_id" in header
        self.by_hash = not self.by_id and "creator_hash" in header
        self.forced = ctx.forced[1] if ctx.forced and ctx.forced[0] == platform else None
        self.hashes = {creator_hash(uid): uid for p, uid in ctx.registered if p == platform} if self.by_hash else {}
        if not self.by_id and not self.by_hash and ctx.forced is None:
            raise UserError(f"{table.path}: 缺少 user_id 列，无法确定账号；请指明文件所属的账号（{platform}:账号ID）")

    def __call__(self, row: dict) -> tuple[object, str, str | None]:
        """(account id, the column it came from, or the reason the row cannot be attributed)."""
        if self.by_id:
            return row.get("user_id"), "user_id", None
        if not self.by_hash:
            return None, "user_id", None  # the account named for the file decides (validate)
        value = str(row.get("creator_hash") or "").strip()
        if self.forced is not None:
            if value and value != creator_hash(self.forced):
                return None, "creator_hash", (f"creator_hash {value} 不是指定账号 {self.platform}:{self.forced} 的"
                                              f"（该账号应为 {creator_hash(self.forced)}），该行属于其他账号")
            return self.forced, "creator_hash", None
        if not value:
            return None, "creator_hash", "creator_hash 为空，无法确定账号"
        uid = self.hashes.get(value)
        if uid is None:
            return None, "creator_hash", (f"creator_hash {value} 不对应账号名录中任何{PLATFORM_NAMES[self.platform]}"
                                          f"账号；请先在名录中登记该账号（新版 MediaCrawler 只写账号ID的哈希）")
        return uid, "creator_hash", None


def _author(row: dict, by_hash: bool, hashes: dict[str, str]) -> object:
    if not by_hash:
        return row.get("user_id")
    value = str(row.get("creator_hash") or "").strip()
    return hashes.get(value, f"hash:{value}") if value else None


def read(table: Table, ctx: Context) -> Source:
    header = set(table.header)
    platform = _platform_of(header)
    _refuse_other(table, platform)
    if platform is None:
        raise UserError(f"{table.path}: 不是 MediaCrawler 的 contents 文件（缺少 note_id、aweme_id 或 video_id 列）")
    if ctx.forced and ctx.forced[0] != platform:
        raise UserError(f"{table.path}: 这是{PLATFORM_NAMES[platform]}的文件，不能归入{PLATFORM_NAMES[ctx.forced[0]]}"
                        f"账号 {ctx.forced[1]}")
    accounts = _Accounts(table, ctx, platform)
    readers = {"weibo": _weibo_records, "douyin": _douyin_records, "xiaohongshu": _xhs_records,
               "bilibili": _bilibili_records, "kuaishou": _kuaishou_records}
    return Source(NAME, platform, readers[platform](table, accounts))


def _other_platform(row: dict, platform: str) -> str | None:
    if platform == "weibo" and not _filled(row.get("note_id")) and _filled(row.get("aweme_id")):
        return "该行是抖音内容（有 aweme_id），而文件是微博内容"
    if platform == "douyin" and not _filled(row.get("aweme_id")) and _filled(row.get("note_id")):
        return "该行是微博内容（有 note_id），而文件是抖音内容"
    return None


def _weibo_records(table: Table, accounts: _Accounts) -> Iterator[Record]:
    for line, row in table.rows:
        account_id, account_column, unknown = accounts(row)
        error = row.get("__error__") or _other_platform(row, "weibo") or unknown
        published, column = _weibo_published(row)
        text = row.get("content")
        forms = ("video",) if isinstance(text, str) and "的微博视频" in text else ()
        values = {
            "account_id": account_id,
            "post_id": row.get("note_id"),
            "published_at": published,
            "observed_at": row.get("last_modify_ts"),
            "text": text,
            "url": row.get("note_url"),
            "reposts": row.get("shared_count"),
            "comments": row.get("comments_count"),
            "likes": row.get("liked_count"),
        }
        columns = {"account_id": account_column, "post_id": "note_id", "published_at": column,
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


def _douyin_records(table: Table, accounts: _Accounts) -> Iterator[Record]:
    for line, row in table.rows:
        account_id, account_column, unknown = accounts(row)
        error = row.get("__error__") or _other_platform(row, "douyin") or unknown
        desc = row.get("desc")
        title = row.get("title")
        if title == desc:
            title = None
        image_note = str(row.get("aweme_type") or "").strip() == "68" or _filled(row.get("note_download_url"))
        values = {
            "account_id": account_id,
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
        columns = {"account_id": account_column, "post_id": "aweme_id", "published_at": "create_time",
                   "observed_at": "last_modify_ts", "title": "title", "text": "desc", "url": "aweme_url",
                   "likes": "liked_count", "comments": "comment_count", "shares": "share_count",
                   "collects": "collected_count"}
        forms = ("image",) if image_note else ("video",)
        yield Record(line, row, values, columns, forms=forms, error=error)


def _filled(value) -> bool:
    return value is not None and str(value).strip() not in ("", "None")


def _own_record(line: int, row: dict, accounts: _Accounts, fields: dict[str, str],
                forms: tuple[str, ...], hashtags: tuple[str, ...] = ()) -> Record:
    """A row of a platform where every post is the account's own work; `fields` maps canonical
    fields to the file's columns."""
    account_id, account_column, unknown = accounts(row)
    error = row.get("__error__") or unknown
    values = {name: row.get(column) for name, column in fields.items()}
    title, text = values.get("title"), values.get("text")
    if isinstance(title, str) and isinstance(text, str) and title.strip() == text.strip():
        values["title"] = None  # the tool fills the title with the text when a post has none
    values.update(account_id=account_id, is_original=True)
    return Record(line, row, values, {"account_id": account_column, **fields}, forms=forms, hashtags=hashtags,
                  error=error)


_XHS_TOPIC = re.compile(r"#([^#\[\]\r\n]{1,50})\[话题\]#")


def _xhs_text(value: object) -> object:
    """Xiaohongshu marks a topic in a note's text as `#南京[话题]#` (the app shows `#南京`): kept as `#南京#`."""
    return _XHS_TOPIC.sub(r"#\1#", value) if isinstance(value, str) else value


def _xhs_records(table: Table, accounts: _Accounts) -> Iterator[Record]:
    fields = {"post_id": "note_id", "published_at": "time", "observed_at": "last_modify_ts", "title": "title",
              "text": "desc", "url": "note_url", "likes": "liked_count", "collects": "collected_count",
              "comments": "comment_count", "shares": "share_count"}
    for line, row in table.rows:
        kind = str(row.get("type") or "").strip()
        tags = tuple(t.strip() for t in str(row.get("tag_list") or "").split(",") if t.strip() and t.strip() != "None")
        record = _own_record(line, row, accounts, fields, ("video",) if kind == "video" else ("image",), tags)
        record.values.update(title=_xhs_text(record.values.get("title")), text=_xhs_text(record.values.get("text")))
        yield record


def _bilibili_records(table: Table, accounts: _Accounts) -> Iterator[Record]:
    fields = {"post_id": "video_id", "published_at": "create_time", "observed_at": "last_modify_ts", "title": "title",
              "text": "desc", "url": "video_url", "plays": "video_play_count", "likes": "liked_count",
              "coins": "video_coin_count", "collects": "video_favorite_count", "shares": "video_share_count",
              "comments": "video_comment", "danmaku": "video_danmaku"}
    for line, row in table.rows:
        yield _own_record(line, row, accounts, fields, ("video",))


def _kuaishou_records(table: Table, accounts: _Accounts) -> Iterator[Record]:
    fields = {"post_id": "video_id", "published_at": "create_time", "observed_at": "last_modify_ts", "title": "title",
              "text": "desc", "url": "video_url", "plays": "viewd_count", "likes": "liked_count"}
    for line, row in table.rows:
        yield _own_record(line, row, accounts, fields, ("video",))
