"""Monthly targets per account, calibrated to the white paper's totals.

Each account's activity follows its level (from its published score) through a monotone
mapping, times a shared seasonal factor (the epidemic months 2020-02/03 stand out) and a small
per-month noise. The raw values are then scaled so that the totals of the statistics window
2020-02..11 hit the targets, and those of 2019-02..11 the year-on-year ratios; the two months in
between are interpolated. Integer rounding keeps every window total exact.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from govmedia.demo.accounts import DemoAccount

MONTHS: tuple[tuple[int, int], ...] = tuple(
    [(2019, m) for m in range(2, 13)] + [(2020, m) for m in range(1, 12)])
WINDOW_2020 = tuple((2020, m) for m in range(2, 12))
WINDOW_2019 = tuple((2019, m) for m in range(2, 12))
BETWEEN = ((2019, 12), (2020, 1))

# Targets for 2020-02..11 (the white paper: 超23.4万篇, 19.2万余篇 original, 转评 1268.8万; 4.6万余篇,
# 阅读 1.3亿, 点赞在看 241.4万), and the 2020/2019 ratios.
WEIBO_POSTS = 236_000
WEIBO_ORIGINALS = 192_500
WEIBO_REPOSTS_COMMENTS = 12_688_000
WEIBO_YOY = 4.0
WECHAT_ARTICLES = 46_500
WECHAT_READS = 130_000_000
WECHAT_LIKES_WOWS = 2_414_000
WECHAT_READS_YOY = 4.0
WECHAT_LIKES_WOWS_YOY = 10.0
POSTS_2019_SHARE = 0.9  # 2019 output was about 90% of 2020's

_SEASON_POSTS = {(2019, 2): 0.86, (2019, 10): 1.04, (2020, 1): 0.98, (2020, 2): 1.30, (2020, 3): 1.18,
                 (2020, 4): 1.05, (2020, 7): 1.06}
_SEASON_INTERACTIONS = {(2019, 2): 0.84, (2019, 10): 1.10, (2020, 1): 1.25, (2020, 2): 1.95, (2020, 3): 1.45,
                        (2020, 4): 1.12, (2020, 7): 1.20, (2020, 11): 1.05}

# Category weight of output and of attention; within a category only the level orders accounts.
_POST_WEIGHT = {"weibo": {"district": 1.35, "livelihood": 1.0, "comprehensive": 0.8},
                "wechat": {"district": 1.25, "livelihood": 1.0, "comprehensive": 0.8},
                "douyin": {"district": 1.0, "livelihood": 1.1, "comprehensive": 0.9}}
_ATTENTION_WEIGHT = {"weibo": {"district": 0.8, "livelihood": 1.35, "comprehensive": 0.75},
                     "wechat": {"district": 1.2, "livelihood": 1.1, "comprehensive": 0.7},
                     "douyin": {"district": 0.8, "livelihood": 1.4, "comprehensive": 1.0}}
_POST_SLOPE = {"weibo": 0.9, "wechat": 0.6, "douyin": 0.9}  # posts grow as exp(slope * level)
_ATTENTION_SLOPE = 2.6

MIN_POSTS = {"weibo": 12, "wechat": 6, "douyin": 3}


@dataclass
class MonthPlan:
    posts: int
    reposts: int  # Weibo: posts that are reposts (0 elsewhere)
    attention: int  # Weibo reposts+comments; WeChat reads; Douyin likes
    attention2: int = 0  # WeChat likes+wows


def _interpolated(scale19: float, scale20: float, month: tuple[int, int]) -> float:
    t = 1 / 3 if month == (2019, 12) else 2 / 3
    return math.exp(math.log(scale19) * (1 - t) + math.log(scale20) * t)


def _round_exact(values: dict, total: int) -> dict:
    """Integers summing to `total`, by largest remainder (ties by key order)."""
    floors = {k: int(v) for k, v in values.items()}
    rest = total - sum(floors.values())
    order = sorted(values, key=lambda k: floors[k] - values[k])  # largest fraction first
    for k in order[:max(rest, 0)]:
        floors[k] += 1
    return floors


def calibrate(raw: dict, target20: float, target19: float) -> dict:
    """Scale raw (account, month) values to the window targets and round exactly."""
    sum20 = sum(v for (a, m), v in raw.items() if m in WINDOW_2020)
    sum19 = sum(v for (a, m), v in raw.items() if m in WINDOW_2019)
    s20, s19 = target20 / sum20, target19 / sum19
    out: dict = {}
    w20 = {k: v * s20 for k, v in raw.items() if k[1] in WINDOW_2020}
    w19 = {k: v * s19 for k, v in raw.items() if k[1] in WINDOW_2019}
    out.update(_round_exact(w20, round(target20)))
    out.update(_round_exact(w19, round(target19)))
    for k, v in raw.items():
        if k[1] in BETWEEN:
            out[k] = int(round(v * _interpolated(s19, s20, k[1])))
    return out


def build_plan(accounts: list[DemoAccount], seed: int) -> dict[int, dict[tuple[int, int], MonthPlan]]:
    """account index -> month -> MonthPlan."""
    rng = random.Random(f"{seed}:plan")
    plan: dict[int, dict[tuple[int, int], MonthPlan]] = {a.index: {} for a in accounts}
    for platform in ("weibo", "wechat", "douyin"):
        group = [a for a in accounts if a.platform == platform]
        posts_raw, attention_raw, second_raw, repost_share = {}, {}, {}, {}
        for a in group:
            post_level = _POST_WEIGHT[platform][a.category] * math.exp(_POST_SLOPE[platform] * a.level)
            attention_level = _ATTENTION_WEIGHT[platform][a.category] * math.exp(_ATTENTION_SLOPE * a.level)
            # Reposts: none in MediaCrawler's weibo files (they carry no original flag), fewer for
            # accounts that make more of their own content.
            repost_share[a.index] = (0.0 if a.source == "mediacrawler"
                                     else rng.uniform(0.16, 0.30) * (1.2 - 0.4 * a.level))
            engagement = rng.uniform(0.014, 0.022) * math.exp(0.35 * a.level)  # WeChat likes+wows per read
            for month in MONTHS:
                growth = 1.0 if month[0] == 2020 else (0.55 if platform == "douyin" else 1.0)
                posts_raw[(a.index, month)] = (post_level * _SEASON_POSTS.get(month, 1.0) * growth
                                               * math.exp(rng.gauss(0, 0.06)))
                attention_raw[(a.index, month)] = (attention_level * _SEASON_INTERACTIONS.get(month, 1.0) * growth
                                                   * math.exp(rng.gauss(0, 0.08)))
                second_raw[(a.index, month)] = (attention_raw[(a.index, month)] * engagement
                                                * math.exp(rng.gauss(0, 0.05)))
        if platform == "weibo":
            posts = calibrate(posts_raw, WEIBO_POSTS, WEIBO_POSTS * POSTS_2019_SHARE)
            attention = calibrate(attention_raw, WEIBO_REPOSTS_COMMENTS, WEIBO_REPOSTS_COMMENTS / WEIBO_YOY)
            reposts_raw = {k: posts[k] * repost_share[k[0]] for k in posts}
            want20 = WEIBO_POSTS - WEIBO_ORIGINALS
            reposts = calibrate(reposts_raw, want20, want20 * POSTS_2019_SHARE)
            second = {k: 0 for k in posts}
        elif platform == "wechat":
            posts = calibrate(posts_raw, WECHAT_ARTICLES, WECHAT_ARTICLES * POSTS_2019_SHARE)
            attention = calibrate(attention_raw, WECHAT_READS, WECHAT_READS / WECHAT_READS_YOY)
            second = calibrate(second_raw, WECHAT_LIKES_WOWS, WECHAT_LIKES_WOWS / WECHAT_LIKES_WOWS_YOY)
            reposts = {k: 0 for k in posts}
        else:
            # No published facts for Douyin: 3..40 works a month, likes of a few thousand to ~150k.
            posts = {k: max(MIN_POSTS["douyin"], int(round(v * 14))) for k, v in posts_raw.items()}
            attention = {k: int(v * 9_000) for k, v in attention_raw.items()}
            reposts = {k: 0 for k in posts}
            second = {k: 0 for k in posts}
        for (index, month), n in posts.items():
            n = max(n, MIN_POSTS[platform])
            plan[index][month] = MonthPlan(
                posts=n, reposts=min(reposts[(index, month)], n - 1), attention=attention[(index, month)],
                attention2=second[(index, month)],
            )
    return plan
