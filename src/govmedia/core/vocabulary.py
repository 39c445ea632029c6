"""The domain's words: platforms (one profile each), metrics, categories, content forms.

Adding a platform is adding one `PlatformProfile` here, a reader in `ingest` and its terms in
the methodology file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- metrics

METRICS = ("reposts", "comments", "likes", "reads", "wows", "shares", "plays", "collects", "coins", "danmaku")
METRIC_NAMES = {
    "reposts": "转发", "comments": "评论", "likes": "点赞", "reads": "阅读",
    "wows": "在看", "shares": "分享", "plays": "播放", "collects": "收藏", "coins": "投币", "danmaku": "弹幕",
}

# --------------------------------------------------------------------------- content forms

FORMS = (
    "text", "image", "video", "long_image", "comic", "poster", "h5", "mini_program",
    "live", "animation", "vr", "audio", "article",
)
# Forms that count as innovative products (创新产品) in the white paper's 创新力.
INNOVATIVE_FORMS = ("video", "long_image", "comic", "poster", "h5", "mini_program", "live", "animation", "vr", "audio")
FORM_LABELS = {
    "text": "文字", "image": "图片", "video": "视频", "long_image": "长图", "comic": "漫画", "poster": "海报",
    "h5": "H5", "mini_program": "小程序", "live": "直播", "animation": "动画", "vr": "VR", "audio": "音频", "article": "文章",
}

# --------------------------------------------------------------------------- platforms


@dataclass(frozen=True)
class PlatformProfile:
    code: str
    name: str  # Chinese, as users write it
    aliases: tuple[str, ...]  # lower-case spellings that mean this platform
    metrics: tuple[str, ...]  # the metrics its exports carry
    interactions: tuple[str, ...]  # what the white paper sums as its 互动量
    default_forms: tuple[str, ...]  # what a post is when nothing says otherwise
    hashtag_style: str = "paired"  # "#话题#" (paired) or "#话题 " (open, Douyin)
    noun: str = ""  # how the white paper names the platform's accounts as a whole: 政务微博
    account_noun: str = ""  # one of them: 政务微博账号
    interaction_label: str = ""  # its 互动量 in words
    color: str = "#555555"  # in charts
    excellent: int = 15  # accounts in the report's annex 优秀政务新媒体账号 by default


PROFILES: dict[str, PlatformProfile] = {p.code: p for p in (
    PlatformProfile("weibo", "微博", ("weibo", "微博", "新浪微博", "wb"),
                    ("reposts", "comments", "likes"), ("reposts", "comments"), ("text",),
                    noun="政务微博", account_noun="政务微博账号", interaction_label="转评量", color="#d9534f", excellent=18),
    PlatformProfile("wechat", "微信", ("wechat", "weixin", "微信", "公众号", "微信公众号", "wx", "mp"),
                    ("reads", "likes", "wows", "shares", "comments"), ("likes", "wows"), ("article",),
                    noun="政务微信", account_noun="政务微信账号", interaction_label="点赞+在看量", color="#3c9a5f",
                    excellent=18),
    PlatformProfile("douyin", "抖音", ("douyin", "抖音", "dy", "tiktok"),
                    ("likes", "comments", "shares", "collects", "plays"), ("likes", "comments", "shares"), ("video",),
                    hashtag_style="open", noun="政务抖音号", account_noun="政务抖音号",
                    interaction_label="点赞+评论+分享量", color="#2b2b2b", excellent=15),
    PlatformProfile("xiaohongshu", "小红书", ("xiaohongshu", "小红书", "xhs", "red", "rednote"),
                    ("likes", "comments", "shares", "collects"), ("likes", "comments", "collects", "shares"), ("image",),
                    hashtag_style="open", noun="政务小红书号", account_noun="政务小红书号",
                    interaction_label="点赞+收藏+评论+分享量", color="#ff2442", excellent=10),
    PlatformProfile("bilibili", "哔哩哔哩", ("bilibili", "哔哩哔哩", "b站", "bili", "bilibili网站"),
                    ("plays", "likes", "coins", "collects", "shares", "comments", "danmaku"),
                    ("likes", "coins", "collects", "shares", "comments"), ("video",),
                    noun="政务B站号", account_noun="政务B站号", interaction_label="点赞+投币+收藏+分享+评论量",
                    color="#00a1d6", excellent=10),
    PlatformProfile("kuaishou", "快手", ("kuaishou", "快手", "ks"),
                    ("plays", "likes", "comments"), ("likes", "comments"), ("video",),
                    hashtag_style="open", noun="政务快手号", account_noun="政务快手号", interaction_label="点赞+评论量",
                    color="#ff5000", excellent=10),
    PlatformProfile("toutiao", "头条号", ("toutiao", "头条号", "今日头条", "头条", "tt"),
                    ("reads", "likes", "comments", "shares", "collects"), ("likes", "comments", "shares"), ("article",),
                    noun="政务头条号", account_noun="政务头条号", interaction_label="点赞+评论+转发量",
                    color="#f04142", excellent=10),
)}
PLATFORMS = tuple(PROFILES)
PLATFORM_NAMES = {code: p.name for code, p in PROFILES.items()}
_PLATFORM_ALIASES = {alias: p.code for p in PROFILES.values() for alias in (p.code, *p.aliases)}


def _lookup(value: object, aliases: dict[str, str], what: str, codes: tuple[str, ...], names: dict[str, str]) -> str:
    """The code `value` spells (any alias, any case); ValueError in plain words otherwise."""
    text = "" if value is None else str(value).strip()
    if not text or text.lower() in ("none", "null", "nan"):
        raise ValueError(f"{what}为空")
    code = aliases.get(text.lower())
    if code is None:
        raise ValueError(f"未知{what}「{text}」（应为 {'、'.join(names[c] for c in codes)} 之一）")
    return code


def parse_platform(value: object) -> str:
    return _lookup(value, _PLATFORM_ALIASES, "平台", PLATFORMS, PLATFORM_NAMES)


HASHTAG_RE = re.compile(r"#([^#\r\n]{1,100}?)#")
# Douyin writes topics as "#话题" followed by a space or the next "#": no closing "#".
OPEN_HASHTAG_RE = re.compile(r"#([^#\s]{1,50})")


def extract_hashtags(*texts: str | None, platform: str = "weibo") -> tuple[str, ...]:
    pattern = OPEN_HASHTAG_RE if PROFILES[platform].hashtag_style == "open" else HASHTAG_RE
    found: dict[str, None] = {}
    for text in texts:
        if text:
            for tag in pattern.findall(text):
                if tag and tag == tag.strip():  # "#XX #" is not a topic
                    found[tag] = None
    return tuple(found)


# --------------------------------------------------------------------------- categories

CATEGORIES = ("district", "livelihood", "comprehensive")
CATEGORY_NAMES = {"district": "区级", "livelihood": "民生", "comprehensive": "综合"}
_CATEGORY_ALIASES = {
    "district": "district", "区级": "district", "区县": "district", "区": "district",
    "livelihood": "livelihood", "民生": "livelihood",
    "comprehensive": "comprehensive", "综合": "comprehensive",
}


def parse_category(value: object) -> str:
    return _lookup(value, _CATEGORY_ALIASES, "类别", CATEGORIES, CATEGORY_NAMES)


# --------------------------------------------------------------------------- the four dimensions

DIMENSIONS = ("reach", "engagement", "innovation", "influence")
DIMENSION_NAMES = {"reach": "传播力", "engagement": "互动力", "innovation": "创新力", "influence": "影响力"}

# The white paper's four kinds of innovation case (创新案例).
CASE_CATEGORIES = ("信息发布类", "宣传推广类", "民生服务类", "政务回应类")
