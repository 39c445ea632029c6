"""wechat-article-exporter: its Excel (`微信公众号文章.xlsx`) and JSON (`微信公众号文章.json`) exports.

Excel (2.2+): 公众号, ID, 链接, 标题, 封面, 摘要, 创建时间, 发布时间, 阅读, 点赞, 分享, 喜欢, 留言, 作者,
是否原创, 文章类型, 所属合集, 文章内容 (1.0–2.1 lack 公众号). JSON: the raw WeChat article objects
(aid, appmsgid, itemidx, item_show_type, create_time, update_time, copyright_stat …) plus fakeid
(= __biz), _accountName and readNum / oldLikeNum / shareNum / likeNum / commentNum.

The article id `aid` is `<appmsgid>_<itemidx>`; itemidx 1 is the headline (头条). It is unique only
within an account, so the stored post_id is `<__biz>:<aid>`. 点赞 (oldLikeNum) is likes; 喜欢
(likeNum, formerly 在看/推荐) is wows. Current exports use short links without __biz, so the
account comes from --account, from the JSON's fakeid or a long link's __biz when that account
is registered, or from the 公众号 name when exactly one registered WeChat account has it.
"""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlparse

from govmedia.ingest.canonical import Record
from govmedia.ingest.context import Context, Source
from govmedia.ingest.tabular import Table

NAME = "wechat-exporter"

EXCEL_COLUMNS = ("公众号", "ID", "链接", "标题", "封面", "摘要", "创建时间", "发布时间", "阅读", "点赞", "分享", "喜欢",
                 "留言", "作者", "是否原创", "文章类型", "所属合集", "文章内容", "发布日期", "原文链接")
JSON_KEYS = ("nickname", "total_count", "aid", "appmsgid", "itemidx", "item_show_type", "link", "title", "digest", "create_time",
             "update_time", "copyright_stat", "copyright_type", "fakeid", "_accountName", "readNum",
             "oldLikeNum", "shareNum", "likeNum", "commentNum", "content", "is_deleted")
KNOWN_HEADERS = frozenset(EXCEL_COLUMNS) | frozenset(JSON_KEYS)

# 文章类型 labels and item_show_type codes -> forms.
_TYPE_FORMS = {
    "普通图文": "article", "视频分享": "video", "音乐分享": "audio", "音频分享": "audio", "图片分享": "image",
    "文本分享": "text", "文章分享": "article", "短文": "text",
}
_SHOW_TYPE = {0: "普通图文", 5: "视频分享", 6: "音乐分享", 7: "音频分享", 8: "图片分享", 10: "文本分享", 11: "文章分享",
              17: "短文"}
_AID_RE = re.compile(r"^(\d+)_(\d+)$")


def detect(table: Table) -> bool:
    header = set(table.header)
    if {"aid", "appmsgid"} <= header or {"aid", "link", "itemidx"} <= header:
        return True
    if {"ID", "链接", "标题"} <= header and header & {"阅读", "喜欢", "发布时间"}:
        return True
    if {"fakeid", "nickname", "total_count"} <= header:
        return True  # its account list, skipped
    return {"标题", "发布日期", "原文链接"} <= header  # the exporter's first releases


def skip_reason(table: Table) -> str | None:
    if {"fakeid", "nickname"} <= set(table.header) and "aid" not in table.header:
        return "wechat-article-exporter 的公众号列表（公众号.json），不含文章"
    return None


def read(table: Table, ctx: Context) -> Source:
    json_like = "aid" in table.header
    return Source(NAME, "wechat", _json_records(table, ctx) if json_like else _excel_records(table, ctx))


def biz_of_link(link: object) -> str | None:
    """The __biz of a long article link (https://mp.weixin.qq.com/s?__biz=…&mid=…&idx=…)."""
    if not isinstance(link, str) or "__biz=" not in link:
        return None
    query = urlparse(link.replace("&amp;", "&")).query
    values = parse_qs(query).get("__biz")
    if not values:
        return None
    biz = unquote(values[0]).strip()
    # parse_qs turns '+' into ' ' and base64 ids may end with '=' signs that survive.
    return biz.replace(" ", "+") or None


def _mid_idx(link: object) -> tuple[str, str] | None:
    if not isinstance(link, str) or "mid=" not in link:
        return None
    query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
    if "mid" in query and "idx" in query:
        return query["mid"][0], query["idx"][0]
    return None


def _attribute(ctx: Context, candidates: list[object], name: object) -> tuple[str | None, str | None]:
    """(account_id, error): the account the import names, a registered id the file states, else the unique name."""
    if ctx.forced:
        return ctx.forced[1], None
    for candidate in candidates:
        if isinstance(candidate, str) and ("wechat", candidate) in ctx.registered:
            return candidate, None
    if isinstance(name, str) and name.strip():
        ids = ctx.names.get(("wechat", name.strip()), [])
        if len(ids) == 1:
            return ids[0], None
        if len(ids) > 1:
            return None, f"公众号名称「{name.strip()}」对应多个已登记账号（{', '.join(ids)}），请在导入时指明账号（wechat:__biz）"
        stated = next((c for c in candidates if isinstance(c, str) and c), None)
        if stated:
            return stated, None  # validate() reports it as not registered
        return None, f"公众号「{name.strip()}」不在账号名录中（先在账号名录中登记）"
    stated = next((c for c in candidates if isinstance(c, str) and c), None)
    if stated:
        return stated, None
    return None, "无法确定公众号：文件中没有公众号名称或 __biz，请在导入时指明账号（wechat:__biz）"


def _post_id(account_id: str | None, aid: object, link: object) -> object:
    if aid is None or str(aid).strip() == "":
        pair = _mid_idx(link)
        if pair:
            aid = f"{pair[0]}_{pair[1]}"
        elif isinstance(link, str) and link.strip():
            aid = link.strip().rsplit("/", 1)[-1]  # a short link's token is unique too
        else:
            return None
    return f"{account_id}:{str(aid).strip()}" if account_id else None


def _position(aid: object, itemidx: object = None) -> object:
    if itemidx not in (None, ""):
        return itemidx
    match = _AID_RE.match(str(aid or "").strip())
    return match.group(2) if match else None


PLACEHOLDER = "(unknown)"  # what the exporter writes as the content of messages it cannot read
TEXT_TITLE_UNITS = 20  # a 文本分享's own title: its text, newlines as spaces, cut to 20 UTF-16 units
NO_TITLE = "(无标题)"  # the exporter's title of a 文本分享 without text


def _body(content: object, title: object) -> object:
    """文章内容 is '<T>\n\n<text>' (the exporter's renderTextFromCgiDataNew): keep the text part.

    T is the article's title, except for a 文本分享 (a text message) that has none of its own: then
    the exporter makes one from the text (`_made_title`), which the 标题 column does not hold (there
    the message's first line, or all of it). For 视频分享, 音频分享 and other pages it cannot read it
    writes "(unknown)". The made title is looked for first: 标题 may be only the start of it."""
    if not isinstance(content, str):
        return content
    head, sep, rest = content.partition("\n\n")
    if head.strip() == PLACEHOLDER and not rest.strip():
        return None
    if sep and head and _made_title(head, rest):
        return rest.strip() or None
    if isinstance(title, str) and title and content.startswith(title):
        return content[len(title):].strip() or None
    return content.strip() or None


def _units(text: str) -> int:
    """The length of `text` in UTF-16 code units, as JavaScript counts it (a lone surrogate is one)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _made_title(head: str, rest: str) -> bool:
    """Whether `head` is the title the exporter makes for a 文本分享 whose text is `rest` (trimmed, as
    the exporter writes it after the title).

    The exporter takes the untrimmed text, writes its newlines as spaces and keeps its first 20 UTF-16
    code units (`.slice(0, 20)`), or writes "(无标题)" for none. So `head` is, after any leading white
    space, the start of the text, 20 units long, or the whole text when shorter. A cut through an
    emoji leaves its first half: a lone surrogate in the JSON ("\ud83c", as JSON.stringify writes it),
    U+FFFD in the xlsx (the UTF-8 encoder's replacement)."""
    flat = rest.replace("\n", " ")
    if head == NO_TITLE and not flat.strip():
        return True
    start = head.lstrip()
    if not start:
        return False
    if flat.startswith(start):
        return _units(head) == TEXT_TITLE_UNITS or start.rstrip() == flat.rstrip()
    # Half an emoji at the cut: the text goes on with the whole emoji (two units) there.
    last = start[-1]
    if _units(head) != TEXT_TITLE_UNITS or not (last == "\ufffd" or "\ud800" <= last <= "\udbff"):
        return False
    kept = start[:-1]
    if not flat.startswith(kept) or len(flat) == len(kept) or ord(flat[len(kept)]) <= 0xFFFF:
        return False
    return last == "\ufffd" or flat[len(kept)].encode("utf-16-le")[:2] == last.encode("utf-16-le", "surrogatepass")


def _excel_records(table: Table, ctx: Context) -> Iterator[Record]:
    for line, row in table.rows:
        link = row.get("链接") if "链接" in row else row.get("原文链接")
        account_id, error = _attribute(ctx, [biz_of_link(link)], row.get("公众号"))
        aid = row.get("ID")
        kind = str(row.get("文章类型") or "").strip()
        forms = (_TYPE_FORMS[kind],) if kind in _TYPE_FORMS else ()
        original = row.get("是否原创")
        published_column = "发布时间" if row.get("发布时间") not in (None, "") else (
            "创建时间" if "创建时间" in row else "发布日期")
        values = {
            "account_id": account_id,
            "post_id": _post_id(account_id, aid, link),
            "published_at": row.get(published_column),
            # The exporter writes 原创 or nothing.
            "is_original": original if original not in (None, "") else False,
            "title": row.get("标题"),
            "text": _body(row.get("文章内容"), row.get("标题")) or row.get("摘要"),
            "url": link,
            "position": _position(aid),
            "reads": row.get("阅读"),
            "likes": row.get("点赞"),
            "shares": row.get("分享"),
            "wows": row.get("喜欢"),
            "comments": row.get("留言"),
        }
        columns = {"account_id": "公众号", "post_id": "ID", "published_at": published_column,
                   "is_original": "是否原创", "title": "标题", "url": "链接", "position": "ID", "reads": "阅读",
                   "likes": "点赞", "shares": "分享", "wows": "喜欢", "comments": "留言"}
        yield Record(line, row, values, columns, forms=forms, default_forms=("article",), error=error)


def _json_records(table: Table, ctx: Context) -> Iterator[Record]:
    for line, row in table.rows:
        if "__error__" in row:
            yield Record(line, row, {}, error=row["__error__"])
            continue
        link = row.get("link")
        fakeid = row.get("fakeid")
        if fakeid == "SINGLE_ARTICLE_FAKEID":
            fakeid = None
        account_id, error = _attribute(ctx, [fakeid, biz_of_link(link)], row.get("_accountName"))
        kind = _SHOW_TYPE.get(row.get("item_show_type")) if isinstance(row.get("item_show_type"), int) else None
        forms = (_TYPE_FORMS[kind],) if kind else ()
        stat, ctype = row.get("copyright_stat"), row.get("copyright_type")
        original = (stat == 1 and ctype == 1) or stat == 11  # 11: the older API's "original"
        published_key = "update_time" if row.get("update_time") not in (None, "", 0) else "create_time"
        values = {
            "account_id": account_id,
            "post_id": _post_id(account_id, row.get("aid"), link),
            "published_at": row.get(published_key),
            "is_original": original,
            "title": row.get("title"),
            "text": _body(row.get("content"), row.get("title")) or row.get("digest"),
            "url": link,
            "position": _position(row.get("aid"), row.get("itemidx")),
            "reads": row.get("readNum"),
            "likes": row.get("oldLikeNum"),
            "shares": row.get("shareNum"),
            "wows": row.get("likeNum"),
            "comments": row.get("commentNum"),
        }
        columns = {"account_id": "fakeid", "post_id": "aid", "published_at": published_key,
                   "is_original": "copyright_stat", "title": "title", "url": "link", "position": "itemidx",
                   "reads": "readNum", "likes": "oldLikeNum", "shares": "shareNum", "wows": "likeNum",
                   "comments": "commentNum"}
        yield Record(line, row, values, columns, forms=forms, default_forms=("article",), error=error)
