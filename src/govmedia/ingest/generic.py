"""The generic table: CSV / XLSX / JSON / JSONL with English or Chinese column names."""

from __future__ import annotations

import re
from typing import Iterable

from govmedia.ingest.canonical import METRIC_NAMES
from govmedia.ingest.context import Context, Source
from govmedia.ingest.frame import FIELDS, Frame, raw_of
from govmedia.ingest.tabular import Table

NAME = "generic"

_BASE_ALIASES: dict[str, list[str]] = {
    "platform": ["platform", "平台", "平台名称", "渠道"],
    "account_id": ["account_id", "account", "账号id", "账号ID", "账号编号", "uid", "用户id", "biz", "__biz"],
    "post_id": ["post_id", "内容id", "内容ID", "内容编号", "文章id", "微博id", "作品id", "帖子id", "mid"],
    "published_at": ["published_at", "publish_time", "发布时间", "发布日期", "发表时间", "发文时间"],
    "observed_at": ["observed_at", "collected_at", "crawled_at", "采集时间", "抓取时间", "统计时间", "数据时间"],
    "is_original": ["is_original", "original", "是否原创", "原创"],
    "forms": ["forms", "form", "形式", "内容形式", "类型"],
    "title": ["title", "标题"],
    "text": ["text", "content", "正文", "内容", "文本", "摘要"],
    "url": ["url", "link", "链接", "网址", "地址"],
    "position": ["position", "位置", "发文位置", "条目位置", "头条位置"],
}
_METRIC_EN_VARIANTS = {
    "reposts": ["reposts", "repost", "forwards", "retweets"],
    "comments": ["comments", "comment"],
    "likes": ["likes", "like", "点赞", "赞"],
    "reads": ["reads", "read", "views", "阅读", "浏览"],
    "wows": ["wows", "wow", "在看", "喜欢", "推荐"],
    "shares": ["shares", "share", "分享"],
    "plays": ["plays", "play", "播放"],
    "collects": ["collects", "collect", "favorites", "收藏"],
    "coins": ["coins", "coin", "投币", "硬币"],
    "danmaku": ["danmaku", "danmu", "弹幕"],
}
_SUFFIXES = ("", "数", "量", "次数", "数量", "_count", "count", "_num", "num")


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for field, names in _BASE_ALIASES.items():
        for name in names:
            aliases[_norm(name)] = field
    for field, names in _METRIC_EN_VARIANTS.items():
        for base in [*names, METRIC_NAMES[field]]:
            for suffix in _SUFFIXES:
                aliases.setdefault(_norm(base + suffix), field)
    aliases[_norm("转发")] = "reposts"
    aliases[_norm("评论")] = "comments"
    return aliases


ALIASES = _build_aliases()
KNOWN_HEADERS = frozenset(ALIASES)


def column_map(header: Iterable[str]) -> dict[str, str]:
    """Canonical field -> the header that carries it (the first one wins)."""
    mapping: dict[str, str] = {}
    for name in header:
        field = ALIASES.get(_norm(name))
        if field and field not in mapping:
            mapping[field] = name
    return mapping


def detect(table: Table) -> bool:
    mapping = column_map(table.header)
    return "post_id" in mapping and "published_at" in mapping


def read(table: Table, ctx: Context) -> Source:
    mapping = column_map(table.header)
    missing = [f for f in ("post_id", "published_at") if f not in mapping]
    if missing:
        from govmedia.core.errors import UserError
        from govmedia.ingest.canonical import FIELD_NAMES

        wanted = "、".join(f"{f}（{FIELD_NAMES[f]}）" for f in missing)
        raise UserError(f"{table.path}: 找不到必需的列 {wanted}；现有列: {', '.join(h for h in table.header if h)}")
    if "account_id" not in mapping and ctx.forced is None:
        from govmedia.core.errors import UserError

        raise UserError(f"{table.path}: 没有账号ID列（account_id / 账号ID）；请加上这一列，"
                        "或用 {field:account} 指明整个文件的账号（平台:账号ID）")
    return Source(NAME, None, frame=_frame(table, mapping))


def _frame(table: Table, mapping: dict[str, str]) -> Frame:
    """The mapped columns, as they are: the generic table names its fields itself."""
    n = len(table)
    errors = table.column("__error__") if table.kind == "jsonl" else [None] * n
    values = {f: table.cells(mapping[f]) if f in mapping else [None] * n for f in FIELDS}
    columns = {f: [mapping[f]] * n if f in mapping else [None] * n for f in FIELDS}
    empty: list[tuple[str, ...]] = [()] * n
    return Frame(list(table.lines), values, columns, empty, empty, empty, list(errors), raw_of(table))
