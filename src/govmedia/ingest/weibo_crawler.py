"""dataabc/weibo-crawler: its output folder, `users.csv` plus `<nickname>/<user_id>.csv`.

The per-user CSV is UTF-8 with BOM, headers in Chinese, rows newest first and *ragged*: an
original stops after 是否原创, a repost carries its source weibo in the 源… columns of the same
row (we store the reposting post only). Releases between 2022-04 and 2024-01 wrote 完整日期
without a header cell, and 2025-04 to 2025-11 did the same with the Live Photo column, so a
row can be one cell longer than its header; such rows are realigned by where 是否原创 sits.
Counts are plain integers; ids carry a trailing tab (so that Excel keeps the digits).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from govmedia.core.errors import UserError
from govmedia.ingest.canonical import Record
from govmedia.ingest.context import Context, Source
from govmedia.ingest.frame import FIELDS, Frame, raw_of
from govmedia.ingest.tabular import Table, read_table

NAME = "weibo-crawler"

POST_COLUMNS = (
    "id", "bid", "正文", "头条文章url", "原始图片url", "视频url", "Live Photo视频url", "位置", "日期", "工具",
    "点赞数", "评论数", "转发数", "话题", "@用户", "完整日期", "是否编辑过", "编辑次数", "是否原创",
    "源用户id", "源用户昵称",
)
USER_COLUMNS = ("用户id", "昵称", "性别", "生日", "所在地", "IP属地", "学习经历", "公司", "注册时间", "阳光信用",
                "微博数", "粉丝数", "关注数", "简介", "主页", "头像", "高清头像", "微博等级", "会员等级",
                "是否认证", "认证类型", "认证信息", "上次记录微博信息")
# Its JSON file `<user_id>.json` is {"user": {...}, "weibo": [...]} with English keys.
JSON_KEYS = ("user_id", "screen_name", "bid", "text", "created_at", "full_created_at", "attitudes_count",
             "comments_count", "reposts_count", "topics", "video_url", "pics", "article_url")
KNOWN_HEADERS = frozenset(POST_COLUMNS) | frozenset(USER_COLUMNS) | frozenset(JSON_KEYS)

_BOOLS = {"True", "False"}


def detect(table: Table) -> bool:
    header = set(table.header)
    if {"用户id", "昵称", "粉丝数"} <= header:
        return True
    if table.kind == "json" and {"bid", "reposts_count", "attitudes_count"} <= header:
        return True
    return {"id", "正文", "是否原创"} <= header or {"id", "bid", "正文", "转发数"} <= header


def skip_reason(table: Table) -> str | None:
    if {"用户id", "昵称"} <= set(table.header):
        return "weibo-crawler 的用户信息文件（users.csv），不含微博内容"
    return None


def read(table: Table, ctx: Context) -> Source:
    if "reposts_count" in table.header:
        return Source(NAME, "weibo", _json_records(table, ctx))
    account_id = _account_of(table.path, ctx)
    if _any_shifted(table):
        return Source(NAME, "weibo", _records(table, account_id))  # realigned row by row
    return Source(NAME, "weibo", frame=_frame(table, account_id))


def _any_shifted(table: Table) -> bool:
    header = list(table.header)
    if "是否原创" not in header:
        return False
    at = header.index("是否原创")
    here = table.column("是否原创")
    if at + 1 < len(header) and header[at + 1]:
        after = table.column(header[at + 1])
    else:
        after = [table.extra.get(line, [None])[0] for line in table.lines]
    return any(h not in _BOOLS and a in _BOOLS for h, a in zip(here, after))


def _frame(table: Table, account_id: str | None) -> Frame:
    """The per-user CSV column by column (no row needs realigning); the same values as `_record`."""
    n = len(table)
    none = [None] * n
    ids = [i.strip() if isinstance(i, str) else i for i in table.column("id")]
    full, short = table.column("完整日期"), table.column("日期")
    full_filled = [_filled(x) for x in full]
    published = [f if ok else s for f, s, ok in zip(full, short, full_filled)]
    published_column = ["完整日期" if ok else "日期" for ok in full_filled]
    video, images, live, article = (table.column(c) for c in ("视频url", "原始图片url", "Live Photo视频url", "头条文章url"))
    forms = [(("video",) if _filled(v) else ()) + (("image",) if _filled(i) or _filled(lp) else ())
             + (("article",) if _filled(a) else ()) for v, i, lp, a in zip(video, images, live, article)]
    topics = [tuple(t.strip() for t in re.split(r"[,，]", x) if t.strip()) if x else () for x in table.column("话题")]
    bids = [(b or "").strip() for b in table.column("bid")]
    urls = [f"https://weibo.com/{account_id}/{b}" if b and account_id else
            (f"https://m.weibo.cn/detail/{i}" if i else None) for b, i in zip(bids, ids)]
    if "是否原创" in table.header:
        original, original_column = table.column("是否原创"), "是否原创"
    else:  # run with only_crawl_original: originals only, no 是否原创 column
        original, original_column = [True] * n, "是否原创（仅爬原创模式，无此列）"
    values = {f: none for f in FIELDS}
    columns = {f: none for f in FIELDS}
    values.update(account_id=[account_id] * n, post_id=ids, published_at=published, is_original=original,
                  text=table.column("正文"), url=urls, reposts=table.column("转发数"),
                  comments=table.column("评论数"), likes=table.column("点赞数"))
    named = {"account_id": "用户id（文件名）", "post_id": "id", "is_original": original_column, "text": "正文",
             "reposts": "转发数", "comments": "评论数", "likes": "点赞数"}
    columns.update({f: [c] * n for f, c in named.items()}, published_at=published_column)
    return Frame(list(table.lines), values, columns, forms, topics, [("text",)] * n, none, raw_of(table))


def _account_of(path: Path, ctx: Context) -> str | None:
    """The uid: the file is named `<user_id>.csv`; else users.csv's row for the folder's nickname."""
    if ctx.forced:
        return None  # --account decides; validate() checks the platform
    if re.fullmatch(r"\d{5,20}", path.stem):
        return path.stem
    for users in (path.parent.parent / "users.csv", path.parent / "users.csv"):
        if users.exists():
            table = read_table(users, USER_COLUMNS)
            matches = [str(r.get("用户id")).strip() for _, r in table.rows if r.get("昵称") == path.parent.name]
            if len(matches) == 1:
                return matches[0]
    raise UserError(
        f"{path}: 无法从文件名确定微博账号（weibo-crawler 的文件名应为 用户id.csv）；请用 {{field:account}} 指明（weibo:用户id）"
    )


def _records(table: Table, account_id: str | None) -> Iterator[Record]:
    header = list(table.header)
    original_at = header.index("是否原创") if "是否原创" in header else None
    for line, row in table.rows:
        cells = [row.get(name) for name in header] + list(row.get("__extra__", []))
        names = header
        if original_at is not None and _shifted(cells, original_at):
            names = _realigned(header, cells)
        values = dict(zip(names, cells))
        record = _record(line, row, values, account_id)
        if original_at is None:
            # Run with only_crawl_original, the crawler writes originals only and no 是否原创 column.
            record.values["is_original"] = True
            record.columns["is_original"] = "是否原创（仅爬原创模式，无此列）"
        yield record


def _json_records(table: Table, ctx: Context) -> Iterator[Record]:
    """The JSON file: same fields under English keys; a repost has a nested "retweet"."""
    for line, row in table.rows:
        account_id = None if ctx.forced else row.get("user_id")
        values = {
            "id": row.get("id"), "bid": row.get("bid"), "正文": row.get("text"),
            "头条文章url": row.get("article_url"), "原始图片url": row.get("pics"), "视频url": row.get("video_url"),
            "Live Photo视频url": row.get("live_photo_url"), "日期": row.get("created_at"),
            "完整日期": row.get("full_created_at"), "点赞数": row.get("attitudes_count"),
            "评论数": row.get("comments_count"), "转发数": row.get("reposts_count"), "话题": row.get("topics"),
            "是否原创": "retweet" not in row,
        }
        record = _record(line, row, values, None if account_id is None else str(account_id))
        record.columns.update({"account_id": "user_id", "post_id": "id", "text": "text", "reposts": "reposts_count",
                               "comments": "comments_count", "likes": "attitudes_count", "is_original": "retweet",
                               "published_at": "full_created_at" if values["完整日期"] else "created_at"})
        yield record


def _shifted(cells: list, original_at: int) -> bool:
    here = cells[original_at] if original_at < len(cells) else None
    after = cells[original_at + 1] if original_at + 1 < len(cells) else None
    return here not in _BOOLS and after in _BOOLS


def _realigned(header: list[str], cells: list) -> list[str]:
    """Insert the column that the release wrote without a header cell."""
    names = list(header)
    if "完整日期" not in names:
        names.insert(names.index("@用户") + 1 if "@用户" in names else len(names), "完整日期")
    elif "Live Photo视频url" not in names and "视频url" in names:
        names.insert(names.index("视频url") + 1, "Live Photo视频url")
    else:  # an llm_analysis cell after @用户 (crawler run with llm_config)
        names.insert(names.index("@用户") + 1 if "@用户" in names else len(names), "__llm__")
    return names


def _record(line: int, raw: dict, row: dict, account_id: str | None) -> Record:
    post_id = row.get("id")
    if isinstance(post_id, str):
        post_id = post_id.strip()
    published_column = "完整日期" if _filled(row.get("完整日期")) else "日期"
    forms: list[str] = []
    if _filled(row.get("视频url")):
        forms.append("video")
    if _filled(row.get("原始图片url")) or _filled(row.get("Live Photo视频url")):
        forms.append("image")
    if _filled(row.get("头条文章url")):
        forms.append("article")
    topics = tuple(t.strip() for t in re.split(r"[,，]", row.get("话题") or "") if t.strip())
    bid = (row.get("bid") or "").strip()
    url = f"https://weibo.com/{account_id}/{bid}" if bid and account_id else (
        f"https://m.weibo.cn/detail/{post_id}" if post_id else None)
    values = {
        "account_id": account_id,
        "post_id": post_id,
        "published_at": row.get(published_column),
        "is_original": row.get("是否原创"),
        "text": row.get("正文"),
        "url": url,
        "reposts": row.get("转发数"),
        "comments": row.get("评论数"),
        "likes": row.get("点赞数"),
    }
    columns = {
        "account_id": "用户id（文件名）", "post_id": "id", "published_at": published_column, "is_original": "是否原创",
        "text": "正文", "reposts": "转发数", "comments": "评论数", "likes": "点赞数",
    }
    return Record(line, raw, values, columns, forms=tuple(forms), hashtags=topics, default_forms=("text",))


def _filled(value) -> bool:
    return value is not None and str(value).strip() not in ("", "None")
