"""The demo account set: the Nanjing accounts of the 2020 white paper, plus clearly synthetic ones.

Named accounts and their published scores come from the package data (seed_rankings.csv,
seed_douyin_accounts.csv). Synthetic accounts ("示例民生微博16" …) fill each platform up to the
number of accounts the white paper evaluated; they get an implied score below the lowest
named score of their category. Ids are derived from the seed and the name.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import math
import random
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

from govmedia.demo.texts import beat_of, topic_mix

ACCOUNTS_PER_PLATFORM = {"weibo": 76, "wechat": 96, "douyin": 15}
CATEGORIES = ("district", "livelihood", "comprehensive")
CATEGORY_LABELS = {"district": "区级", "livelihood": "民生", "comprehensive": "综合"}
PLATFORM_LABELS = {"weibo": "微博", "wechat": "微信", "douyin": "抖音"}
SYNTHETIC_LABEL = {("weibo", "livelihood"): "示例民生微博", ("weibo", "comprehensive"): "示例综合微博",
                   ("wechat", "livelihood"): "示例民生公众号", ("wechat", "comprehensive"): "示例综合公众号"}

# The four Weibo accounts the white paper names as having a million followers or more.
MILLION_FOLLOWERS = {"平安南京": 2_364_000, "南京交警": 1_872_000, "钟山清风": 1_231_000, "南京生态环境": 1_058_000}

# Where each account's posts come from (which tool's export the demo writes for it).
WEIBO_MEDIACRAWLER = ("南京气象", "南京水务", "南京税务", "议政金陵", "南京人防", "六合发布",
                      "示例民生微博18", "示例民生微博22", "示例民生微博27", "示例综合微博17", "示例综合微博24",
                      "示例综合微博30")
WEIBO_GENERIC_2019 = ("溧水发布", "南京司法")
WECHAT_XLSX = ("微溧水", "南京社保", "南京气象", "金陵档案", "南京科普", "南京人大",
               "示例民生公众号20", "示例民生公众号33", "示例综合公众号19", "示例综合公众号38")
WECHAT_GENERIC_2019 = ("南京交通",)

DISTRICT_OF = {
    "鼓楼微讯": "鼓楼区", "浦口发布": "浦口区", "栖霞视点": "栖霞区", "建邺播报": "建邺区", "金陵微雨花": "雨花台区",
    "六合发布": "六合区", "玄武发布": "玄武区", "秦淮发布": "秦淮区", "江宁发布": "江宁区", "溧水发布": "溧水区",
    "南京江北新区发布": "江北新区", "高淳发布": "高淳区", "今日六合": "六合区", "微溧水": "溧水区",
    "南京江北新区": "江北新区", "江北发布": "江北新区", "Hi鼓楼": "鼓楼区", "鼓楼城城": "鼓楼区",
}
ORGANIZATION_OF = {
    "南京交警": "南京市公安局交通管理局", "南京消防": "南京市消防救援支队", "平安南京": "南京市公安局",
    "南京公安": "南京市公安局", "南京市绿化园林局": "南京市绿化园林局", "南京绿化园林": "南京市绿化园林局",
    "南京文旅": "南京市文化和旅游局", "南京气象": "南京市气象局", "南京生态环境": "南京市生态环境局",
    "南京规划资源": "南京市规划和自然资源局", "南京市场监管": "南京市市场监督管理局", "南京城管": "南京市城市管理局",
    "南京市城管局": "南京市城市管理局", "南京地铁": "南京地铁集团有限公司", "南京水务": "南京市水务局",
    "南京税务": "国家税务总局南京市税务局", "南京教育": "南京市教育局", "南京教育发布": "南京市教育局",
    "南京交通发布": "南京市交通运输局", "南京交通": "南京市交通运输局", "钟山清风": "中共南京市纪律检查委员会",
    "侵华日军南京大屠杀遇难同胞纪念馆": "侵华日军南京大屠杀遇难同胞纪念馆", "南京政务服务": "南京市政务服务管理办公室",
    "南京残联": "南京市残疾人联合会", "青春南京": "共青团南京市委员会", "议政金陵": "政协南京市委员会",
    "南京V法院": "南京市中级人民法院", "南京市中级人民法院": "南京市中级人民法院", "南京市总工会": "南京市总工会",
    "南京工会会员": "南京市总工会", "南京妇联": "南京市妇女联合会", "南京司法": "南京市司法局",
    "南京钟山风景名胜区": "钟山风景名胜区管理委员会", "南京钟山风景区": "钟山风景名胜区管理委员会",
    "南京人防": "南京市人民防空办公室", "南京市科学技术局": "南京市科学技术局", "南京晓庄学院": "南京晓庄学院",
    "钟山城建": "南京市城乡建设委员会", "南京建设": "南京市城乡建设委员会", "健康南京": "南京市卫生健康委员会",
    "南京社保": "南京市人力资源和社会保障局", "南京仙林": "仙林大学城管理委员会", "金陵科技学院": "金陵科技学院",
    "南京人大": "南京市人大常委会办公厅", "金陵档案": "南京市档案馆", "南京科普": "南京市科学技术协会",
    "南京禁毒": "南京市禁毒委员会办公室", "鼓楼城城": "鼓楼区城市管理局", "宁有正能量": "中共南京市委网络安全和信息化委员会办公室",
    "中国雨花台": "雨花台烈士陵园管理局", "江北发布": "江北新区党群工作部", "南京江北新区发布": "江北新区党群工作部",
    "南京江北新区": "江北新区党群工作部",
}


@dataclass
class DemoAccount:
    index: int  # position in the whole set (also keeps generated ids apart)
    platform: str
    category: str
    name: str
    account_id: str
    rank: int | None  # published rank in its category (named Weibo/WeChat accounts)
    score: float | None  # published score, 2020-02..11
    implied_score: float | None  # synthetic accounts: below the lowest named score
    synthetic: bool
    organization: str
    region: str
    followers: int
    opened_at: date
    source: str  # weibo-crawler | mediacrawler | wechat-json | wechat-xlsx
    history_generic: bool  # its 2019 posts come as a generic GB18030 table
    level: float  # 0..1, the activity level implied by the score
    beat: str
    topics: tuple[tuple[str, float], ...] = field(default=())
    extra: dict = field(default_factory=dict)


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("govmedia.demo").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def seed_rankings() -> list[dict[str, str]]:
    return _read_csv("seed_rankings.csv")


def seed_douyin_accounts() -> list[dict[str, str]]:
    return _read_csv("seed_douyin_accounts.csv")


def seed_facts() -> list[dict[str, str]]:
    return _read_csv("seed_facts.csv")


def _number(seed: int, platform: str, name: str, digits: int, first: str, salt: int) -> str:
    h = hashlib.sha256(f"{seed}|{platform}|{name}|{salt}".encode("utf-8")).digest()
    value = int.from_bytes(h[:8], "big")
    lead = first[value % len(first)]
    rest = (value // len(first)) % 10 ** (digits - 1)
    return lead + str(rest).zfill(digits - 1)


def _account_id(seed: int, platform: str, name: str, taken: set[str]) -> str:
    for salt in range(1000):
        if platform == "weibo":
            candidate = _number(seed, platform, name, 10, "123567", salt)
        elif platform == "douyin":
            candidate = _number(seed, platform, name, 11, "5689", salt)
        else:  # __biz: base64 of a 10-digit decimal string, like MzA5NDAwMDAwMA==
            candidate = base64.b64encode(_number(seed, platform, name, 10, "23", salt).encode()).decode()
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise RuntimeError("could not derive a unique account id")  # pragma: no cover


def build_accounts(seed: int) -> list[DemoAccount]:
    rng = random.Random(f"{seed}:accounts")
    taken: set[str] = set()
    named: dict[tuple[str, str], list[tuple[int, str, float]]] = {}
    for row in seed_rankings():
        named.setdefault((row["platform"], row["category"]), []).append(
            (int(row["rank"]), row["name"], float(row["score_feb_nov_2020"])))
    accounts: list[DemoAccount] = []
    synthetic_number = 0

    for platform in ("weibo", "wechat"):
        per_category = {c: sorted(named.get((platform, c), [])) for c in CATEGORIES}
        missing = ACCOUNTS_PER_PLATFORM[platform] - sum(len(v) for v in per_category.values())
        extra = {"district": 0, "livelihood": (missing + 1) // 2, "comprehensive": missing // 2}
        for category in CATEGORIES:
            entries = per_category[category]
            lowest = min(score for _, _, score in entries)
            highest = max(score for _, _, score in entries)
            spread = highest - lowest
            rows: list[tuple[int | None, str, float | None, float | None]] = [
                (rank, name, score, None) for rank, name, score in entries]
            for j in range(extra[category]):
                number = len(entries) + 1 + j
                implied = round(lowest - spread * (0.04 + 0.026 * j) - rng.uniform(0, spread * 0.01), 2)
                rows.append((None, f"{SYNTHETIC_LABEL[(platform, category)]}{number}", None, implied))
            floor = min(r[2] if r[2] is not None else r[3] for r in rows)
            for rank, name, score, implied in rows:
                effective = score if score is not None else implied
                level = (effective - floor) / (highest - floor) if highest > floor else 0.5
                synthetic = score is None
                if synthetic:
                    synthetic_number += 1
                accounts.append(_make(seed, rng, taken, len(accounts), platform, category, name, rank, score,
                                      implied, synthetic, synthetic_number, level))

    douyin = seed_douyin_accounts()
    for row in douyin:
        # No published scores: a plausible spread of activity instead.
        level = rng.uniform(0.15, 0.95)
        if row["name"] in ("平安南京", "南京交警", "宁有正能量"):
            level = rng.uniform(0.85, 1.0)
        accounts.append(_make(seed, rng, taken, len(accounts), "douyin", row["category"], row["name"], None, None,
                              None, False, 0, level))
    return accounts


def _make(seed, rng, taken, index, platform, category, name, rank, score, implied, synthetic, synthetic_number,
          level) -> DemoAccount:
    account_id = _account_id(seed, platform, name, taken)
    region = DISTRICT_OF.get(name, "南京市")
    if synthetic:
        organization = f"示例单位{synthetic_number}"
    elif name in ORGANIZATION_OF:
        organization = ORGANIZATION_OF[name]
    elif region != "南京市":
        organization = f"{region}委宣传部" if region != "江北新区" else "江北新区党群工作部"
    else:
        organization = name
    followers = _followers(rng, platform, category, name, level, synthetic)
    if platform == "weibo":
        opened = date(rng.randint(2010, 2014), rng.randint(1, 12), rng.randint(1, 28))
    elif platform == "wechat":
        opened = date(rng.randint(2013, 2016), rng.randint(1, 12), rng.randint(1, 28))
    else:
        opened = date(2018, rng.randint(3, 12), rng.randint(1, 28))
    if platform == "weibo":
        source = "mediacrawler" if name in WEIBO_MEDIACRAWLER else "weibo-crawler"
        history = name in WEIBO_GENERIC_2019
    elif platform == "wechat":
        source = "wechat-xlsx" if name in WECHAT_XLSX else "wechat-json"
        history = name in WECHAT_GENERIC_2019
    else:
        source, history = "mediacrawler", False
    beat = beat_of(name, category, rng)
    return DemoAccount(
        index=index, platform=platform, category=category, name=name, account_id=account_id, rank=rank,
        score=score, implied_score=implied, synthetic=synthetic, organization=organization, region=region,
        followers=followers, opened_at=opened, source=source, history_generic=history, level=level, beat=beat,
        topics=topic_mix(beat, category),
    )


def _followers(rng: random.Random, platform: str, category: str, name: str, level: float, synthetic: bool) -> int:
    if platform == "weibo" and name in MILLION_FOLLOWERS:
        return MILLION_FOLLOWERS[name] + rng.randint(0, 999)
    if platform == "weibo":
        low, high = (3_000, 90_000) if synthetic else {"district": (120_000, 880_000),
                                                        "livelihood": (60_000, 960_000),
                                                        "comprehensive": (25_000, 620_000)}[category]
    elif platform == "wechat":
        low, high = (2_000, 60_000) if synthetic else (20_000, 850_000)
    else:
        low, high = (8_000, 1_600_000)
    mix = 0.6 * level + 0.4 * rng.random()
    value = int(math.exp(math.log(low) + (math.log(high) - math.log(low)) * mix))
    if platform == "weibo":
        value = min(value, 985_000)
    return value - value % 7 + rng.randint(0, 6)
