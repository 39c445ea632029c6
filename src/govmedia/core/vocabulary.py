"""The domain's words: platforms (one profile each), metrics, categories, content forms.

Adding a platform is adding one `PlatformProfile` here, a reader in `ingest` and its terms in
the methodology file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- metrics

METRICS = ("reposts", "comments", "likes", "reads", "wows", "shares", "plays", "collects")
METRIC_NAMES = {
    "reposts": "转发", "comments": "评论", "likes": "点赞", "reads": "阅读",
    "wows": "在看", "shares": "分享", "plays": "播放", "collects": "收藏",
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


PROFILES: dict[str, PlatformProfile] = {p.code: p for p in (
    PlatformProfile("weibo", "微博", ("weibo", "微博", "新浪微博", "wb"),
                    ("reposts", "comments", "likes"), ("reposts", "comments"), ("text",)),
    PlatformProfile("wechat", "微信", ("wechat", "weixin", "微信", "公众号", "微信公众号", "wx", "mp"),
                    ("reads", "likes", "wows", "shares", "comments"), ("likes", "wows"), ("article",)),
    PlatformProfile("douyin", "抖音", ("douyin", "抖音", "dy", "tiktok"),
                    ("likes", "comments", "shares", "collects", "plays"), ("likes", "comments", "shares"), ("video",),
                    hashtag_style="open"),
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
        raise ValueError(f"未知{what} {text!r}（应为 {'/'.join(codes)} 或 {'/'.join(names[c] for c in codes)}）")
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
