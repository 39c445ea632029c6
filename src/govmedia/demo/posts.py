"""Generating one account's posts from its monthly plan.

Everything an account produces depends only on the seed, the account and its plan, so accounts
can be generated in any order (or in parallel) with the same result. Times are integers (unix
seconds); months and days are those of Asia/Shanghai.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta

from govmedia.core.time import BEIJING
from govmedia.demo.accounts import DemoAccount
from govmedia.demo.plan import MONTHS, MonthPlan
from govmedia.demo.texts import CAMPAIGNS, KEYWORD_FORMS, POOLS, TOPICS, Fill, epidemic_share, month_slots

OFFSET = 8 * 3600
DAY = 86400


def local_ts(year: int, month: int, day: int = 1, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=BEIJING).timestamp())


def month_start(month: tuple[int, int]) -> int:
    return local_ts(month[0], month[1])


def month_days(month: tuple[int, int]) -> int:
    y, m = month
    nxt = (y + 1, 1) if m == 12 else (y, m + 1)
    return (month_start(nxt) - month_start(month)) // DAY


_FIRST_DAY = (local_ts(2018, 12, 1) + OFFSET) // DAY
_DAYS = [(datetime(2018, 12, 1) + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(800)]


def day_str(ts: int) -> str:
    return _DAYS[(ts + OFFSET) // DAY - _FIRST_DAY]


def clock_str(ts: int) -> str:
    s = (ts + OFFSET) % DAY
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def local_str(ts: int) -> str:
    return f"{day_str(ts)} {clock_str(ts)}"


# Quarterly inspections: every account must have posted in the 14 days before each of these.
CHECKPOINTS = ((2019, 4, 1), (2019, 7, 1), (2019, 10, 1), (2019, 12, 1), (2020, 1, 1), (2020, 4, 1), (2020, 7, 1),
               (2020, 10, 1), (2020, 12, 1))
WINDOWS: dict[tuple[int, int], tuple[int, int]] = {}
for _y, _m, _d in CHECKPOINTS:
    _end = local_ts(_y, _m, _d)
    _start = _end - 14 * DAY
    _local = datetime.fromtimestamp(_start, BEIJING)
    WINDOWS[(_local.year, _local.month)] = (_start, _end)

# Hours of the day at which government accounts publish (weights sum to 100).
_HOURS_WEIBO = [h for h, w in ((6, 1), (7, 5), (8, 9), (9, 9), (10, 8), (11, 7), (12, 6), (13, 4), (14, 5), (15, 6),
                               (16, 7), (17, 8), (18, 7), (19, 5), (20, 6), (21, 4), (22, 2), (23, 1)) for _ in range(w)]
_HOURS_WECHAT = [h for h, w in ((7, 10), (8, 8), (11, 5), (12, 12), (16, 6), (17, 14), (18, 16), (19, 12), (20, 10),
                                (21, 7)) for _ in range(w)]
_HOURS_DOUYIN = [h for h, w in ((8, 5), (9, 6), (11, 6), (12, 12), (13, 6), (17, 10), (18, 14), (19, 14), (20, 15),
                                (21, 12)) for _ in range(w)]

_TOOLS = ("微博 weibo.com", "微博网页版", "iPhone客户端", "iPhone 11 Pro", "HUAWEI Mate 30 Pro", "iPad客户端", "",
          "微博 weibo.com", "微博网页版")
_REPOST_TEXTS = ("转发微博", "扩散周知！", "转发提醒，请市民朋友们留意。", "关注！", "权威发布，转发周知。", "收到！",
                 "转发，一起为南京加油！")
SOURCE_ACCOUNTS = {name: str(1_600_000_000 + int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 4_000_000_000)
                   for name in POOLS["source"]}

MID_BASE = 4_323_000_000_000_000  # a weibo mid of 2019-01-01
MID_PER_SECOND = 3_800_000
MID_T0 = local_ts(2019, 1, 1)
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mid_to_bid(mid: int) -> str:
    """Weibo's mid -> bid (base62 in 7-digit groups from the right)."""
    s = str(mid)
    parts = []
    while s:
        chunk, s = s[-7:], s[:-7]
        n = int(chunk)
        enc = ""
        while n:
            n, r = divmod(n, 62)
            enc = _B62[r] + enc
        if s:
            enc = enc.rjust(4, "0")
        parts.append(enc or "0")
    return "".join(reversed(parts))


def token(rng: random.Random, length: int) -> str:
    raw = rng.getrandbits(length * 6).to_bytes((length * 6 + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode()[:length]


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (exact sum)."""
    s = sum(weights)
    if s <= 0 or total <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    if rest:
        for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[:rest]:
            out[i] += 1
    return out


def _times(rng: random.Random, n: int, month: tuple[int, int], hours: list[int]) -> list[int]:
    """n distinct publication times in the month; one inside its inspection window if it has one."""
    start = month_start(month)
    days = month_days(month)
    rnd = rng.random
    nh = len(hours)
    seen: set[int] = set()
    out: list[int] = []
    while len(out) < n:
        ts = start + int(rnd() * days) * DAY + hours[int(rnd() * nh)] * 3600 + int(rnd() * 3600)
        if ts not in seen:
            seen.add(ts)
            out.append(ts)
    window = WINDOWS.get(month)
    if window and not any(window[0] <= t < window[1] for t in out):
        while True:
            ts = window[0] + int(rnd() * 14) * DAY + hours[int(rnd() * nh)] * 3600 + int(rnd() * 3600)
            if ts not in seen:
                out[int(rnd() * n)] = ts
                break
    out.sort()
    return out


class _TopicPicker:
    def __init__(self, account: DemoAccount):
        self.names = [t for t, _ in account.topics]
        total = sum(w for _, w in account.topics)
        acc, self.cum = 0.0, []
        for _, w in account.topics:
            acc += w / total
            self.cum.append(acc)

    def pick(self, rnd, ts: int, month: tuple[int, int]) -> str:
        share = epidemic_share(month[0], month[1], int(day_str(ts)[8:]))
        if share and rnd() < share:
            return "epidemic"
        r = rnd()
        for name, c in zip(self.names, self.cum):
            if r <= c:
                return name
        return self.names[-1]


def _hashtags(rng: random.Random, topic: str, month: tuple[int, int]) -> list[str]:
    tags = []
    rnd = rng.random
    for tag, share in CAMPAIGNS.get(month, ()):
        if rnd() < share:
            tags.append(tag)
    own = TOPICS[topic][0]
    if rnd() < 0.7:
        tag = own[int(rnd() * len(own))]
        if tag not in tags:
            tags.append(tag)
    return tags


def _base_fill(account: DemoAccount, month: tuple[int, int]) -> dict[str, str]:
    base = month_slots(*month)
    if account.region not in ("南京市",):
        base["dist"] = account.region
    return base


def _md(ts: int) -> str:
    d = day_str(ts)
    return f"{int(d[5:7])}月{int(d[8:10])}日"


def _innovative_form(rnd) -> str:
    r = rnd()
    if r < 0.40:
        return "video"
    if r < 0.55:
        return "long_image"
    if r < 0.70:
        return "poster"
    if r < 0.80:
        return "live"
    if r < 0.88:
        return "h5"
    return "comic"


# --------------------------------------------------------------------------- Weibo


class WeiboPost:
    __slots__ = ("ts", "mid", "text", "original", "form", "pics", "article", "location", "tool", "reposts",
                 "comments", "likes", "topics", "at", "edits", "source", "later")

    def __init__(self):
        self.later = None  # MediaCrawler: counts of a later crawl (likes, comments, reposts)


def weibo_posts(account: DemoAccount, plan: dict[tuple[int, int], MonthPlan], seed: int) -> list[WeiboPost]:
    rng = random.Random(f"{seed}:weibo:{account.name}")
    rnd = rng.random
    picker = _TopicPicker(account)
    innovative_share = 0.08 + 0.30 * account.level
    slot = account.index * 40_000
    posts: list[WeiboPost] = []
    for month in MONTHS:
        mp = plan[month]
        times = _times(rng, mp.posts, month, _HOURS_WEIBO)
        reposts = set(rng.sample(range(mp.posts), mp.reposts)) if mp.reposts else set()
        base = _base_fill(account, month)
        weights = []
        month_posts = []
        for i, ts in enumerate(times):
            p = WeiboPost()
            p.ts = ts
            p.mid = MID_BASE + (ts - MID_T0) * MID_PER_SECOND + slot + int(rnd() * 40_000)
            p.tool = _TOOLS[int(rnd() * len(_TOOLS))]
            p.at = ""
            p.edits = 1 if rnd() < 0.03 else 0
            p.location = ""
            p.article = ""
            p.pics = 0
            p.form = None
            fill = Fill(rng, base)
            fill["md"] = _md(ts)
            fill["hh"] = str(int(clock_str(ts)[:2]))
            if i in reposts:
                p.original = False
                p.topics = []
                p.text = _REPOST_TEXTS[int(rnd() * len(_REPOST_TEXTS))]
                p.source = _weibo_source(rng, fill, ts, month)
                weights.append(rng.lognormvariate(0, 0.8) * 0.2)
            else:
                p.original = True
                p.source = None
                topic = picker.pick(rnd, ts, month)
                pairs = TOPICS[topic][1]
                tags = _hashtags(rng, topic, month)
                p.topics = tags
                title_t, body_t = pairs[int(rnd() * len(pairs))]
                title, body = title_t.format_map(fill), body_t.format_map(fill)
                lead = "".join(f"#{t}#" for t in tags)
                weight = rng.lognormvariate(0, 1.0)
                if rnd() < innovative_share:
                    form = _innovative_form(rnd)
                    p.form = form
                    weight *= 1.8
                    if form == "video":
                        p.text = f"{lead}【{title}】{body}"
                    else:
                        prefixes = KEYWORD_FORMS[form]
                        p.text = f"{lead}{prefixes[int(rnd() * len(prefixes))]}{title}：{body}"
                        p.pics = 1
                elif rnd() < 0.03:
                    p.article = "http://t.cn/A6" + token(rng, 6)
                    p.text = f"发布了头条文章：《{title}》 {lead}"
                else:
                    p.text = f"{lead}【{title}】{body}" if rnd() < 0.55 else f"{lead}{body}"
                    if rnd() < 0.6:
                        p.pics = 1 + int(rnd() * rnd() * 9)
                if rnd() < 0.05:
                    p.location = "南京·" + fill["place"]
                if rnd() < 0.04:
                    p.at = "南京发布"
                weights.append(weight)
            month_posts.append(p)
        totals = _allocate(mp.attention, weights)
        for p, t in zip(month_posts, totals):
            share = 0.3 + 0.3 * rnd()
            p.reposts = int(t * share)
            p.comments = t - p.reposts
            p.likes = int(t * rng.lognormvariate(0.3, 0.5)) + int(rnd() * 6)
        posts.extend(month_posts)
    return posts


def _weibo_source(rng: random.Random, fill: Fill, ts: int, month: tuple[int, int]) -> tuple:
    rnd = rng.random
    name = POOLS["source"][int(rnd() * len(POOLS["source"]))]
    topic = ("epidemic", "policy", "weather", "traffic", "service", "culture")[int(rnd() * 6)]
    if topic == "epidemic" and not epidemic_share(month[0], month[1], int(day_str(ts)[8:])):
        topic = "policy"
    hashtags, pairs = TOPICS[topic]
    tag = hashtags[int(rnd() * len(hashtags))]
    title_t, body_t = pairs[int(rnd() * len(pairs))]
    text = f"#{tag}#【{title_t.format_map(fill)}】{body_t.format_map(fill)}"
    src_ts = ts - 600 - int(rnd() * 40_000)
    mid = MID_BASE + (src_ts - MID_T0) * MID_PER_SECOND + 3_100_000 + int(rnd() * 600_000)
    likes = int(rng.lognormvariate(7.5, 1.0))
    return (SOURCE_ACCOUNTS[name], name, mid, text, 1 if rnd() < 0.7 else 0, src_ts,
            _TOOLS[int(rnd() * 3)], likes, int(likes * (0.05 + 0.2 * rnd())), int(likes * (0.1 + 0.4 * rnd())), tag)


# --------------------------------------------------------------------------- WeChat


class WechatArticle:
    __slots__ = ("ts", "appmsgid", "idx", "show_type", "title", "digest", "body", "original", "author", "reads",
                 "likes", "wows", "shares", "comments", "link", "cover", "album")


_ALBUMS = {"district": ("民生实事", "基层动态", "政务公开"), "livelihood": ("办事指南", "便民服务", "政务公开"),
           "comprehensive": ("政务公开", "工作动态", "学习园地")}


def wechat_articles(account: DemoAccount, plan: dict[tuple[int, int], MonthPlan], seed: int) -> list[WechatArticle]:
    rng = random.Random(f"{seed}:wechat:{account.name}")
    rnd = rng.random
    picker = _TopicPicker(account)
    per_push = {"district": (2.4, 3.4), "livelihood": (1.5, 2.5), "comprehensive": (1.2, 2.0)}[account.category]
    per_push = rng.uniform(*per_push)
    innovative_share = 0.05 + 0.28 * account.level
    appmsgid = 2_247_483_650 + rng.randint(150, 3000)
    albums = _ALBUMS[account.category]
    articles: list[WechatArticle] = []
    for month in MONTHS:
        mp = plan[month]
        n = mp.posts
        days = month_days(month)
        pushes = max(-(-n // 4), min(n, days, max(1, round(n / per_push))))  # 1–4 articles a push
        sizes = [1] * pushes
        for _ in range(n - pushes):
            while True:
                j = int(rnd() * pushes)
                if sizes[j] < 4:
                    sizes[j] += 1
                    break
        # One push a day; a very busy account sometimes publishes twice a day.
        chosen = sorted(rng.sample(range(days) if pushes <= days else list(range(days)) * 2, pushes))
        start = month_start(month)
        window = WINDOWS.get(month)
        if window:
            first = (window[0] - start) // DAY
            if not any(d >= first for d in chosen):
                # The window closes the month, so this day is not taken yet.
                chosen[int(rnd() * pushes)] = first + int(rnd() * 14)
                chosen.sort()
        base = _base_fill(account, month)
        month_articles: list[WechatArticle] = []
        weights: list[float] = []
        for day, size in zip(chosen, sizes):
            ts = start + day * DAY + _HOURS_WECHAT[int(rnd() * len(_HOURS_WECHAT))] * 3600 + int(rnd() * 3600)
            appmsgid += 1 + int(rnd() * 2)
            md, hh = _md(ts), str(int(clock_str(ts)[:2]))
            for idx in range(1, size + 1):
                fill = Fill(rng, base)
                fill["md"] = md
                fill["hh"] = hh
                a = WechatArticle()
                a.ts = ts
                a.appmsgid = appmsgid
                a.idx = idx
                topic = picker.pick(rnd, ts, month)
                pairs = TOPICS[topic][1]
                title_t, body_t = pairs[int(rnd() * len(pairs))]
                title = title_t.format_map(fill)
                body = body_t.format_map(fill)
                a.show_type = 0
                innovative = rnd() < innovative_share
                if innovative:
                    form = _innovative_form(rnd)
                    if form == "video":
                        a.show_type = 5
                    else:
                        prefixes = KEYWORD_FORMS[form]
                        title = prefixes[int(rnd() * len(prefixes))] + title
                elif rnd() < 0.02:
                    a.show_type = 8  # 图片分享
                a.title = title
                a.digest = body if rnd() < 0.8 else ""
                if a.show_type == 5:
                    a.body = ""  # the exporter's text of a video article is empty
                else:
                    other = pairs[int(rnd() * len(pairs))][1].format_map(fill)
                    a.body = body if other == body else f"{body}\n{other}"
                a.original = rnd() < (0.75 if idx == 1 else 0.45)
                a.author = account.name if a.original and rnd() < 0.6 else ""
                a.link = "https://mp.weixin.qq.com/s/" + token(rng, 22)
                a.cover = token(rng, 40)
                a.album = albums[int(rnd() * len(albums))] if rnd() < 0.3 else None
                weights.append(rng.lognormvariate(0, 0.6) * (1.0 if idx == 1 else 0.22 + 0.2 * rnd())
                               * (1.5 if innovative else 1.0))
                month_articles.append(a)
        reads = _allocate(mp.attention, weights)
        engagement = [r * rng.lognormvariate(0, 0.35) for r in reads]
        liked = _allocate(mp.attention2, engagement)
        for a, r, lw in zip(month_articles, reads, liked):
            a.reads = r
            a.likes = int(lw * (0.45 + 0.2 * rnd()))
            a.wows = lw - a.likes
            a.shares = int(r * (0.006 + 0.024 * rnd()))
            a.comments = int(r * 0.0015 * rnd())
        articles.extend(month_articles)
    return articles


# --------------------------------------------------------------------------- Douyin


class DouyinWork:
    __slots__ = ("ts", "aweme_id", "aweme_type", "desc", "likes", "collects", "comments", "shares", "images")


def douyin_works(account: DemoAccount, plan: dict[tuple[int, int], MonthPlan], seed: int,
                 slot: int) -> list[DouyinWork]:
    rng = random.Random(f"{seed}:douyin:{account.name}")
    rnd = rng.random
    picker = _TopicPicker(account)
    works: list[DouyinWork] = []
    for month in MONTHS:
        mp = plan[month]
        times = _times(rng, mp.posts, month, _HOURS_DOUYIN)
        base = _base_fill(account, month)
        weights = []
        month_works = []
        for ts in times:
            w = DouyinWork()
            w.ts = ts
            w.aweme_id = str((ts << 32) | (slot << 24) | int(rnd() * (1 << 24)))
            fill = Fill(rng, base)
            fill["md"] = _md(ts)
            fill["hh"] = str(int(clock_str(ts)[:2]))
            topic = picker.pick(rnd, ts, month)
            pairs = TOPICS[topic][1]
            tags = _hashtags(rng, topic, month) or [TOPICS[topic][0][0]]
            if rnd() < 0.5:
                tags.append("南京")
            w.images = 2 + int(rnd() * 6) if rnd() < 0.12 else 0
            w.aweme_type = "68" if w.images else "0"
            w.desc = pairs[int(rnd() * len(pairs))][0].format_map(fill) + " " + " ".join(f"#{t}" for t in tags)
            weights.append(rng.lognormvariate(0, 1.3))
            month_works.append(w)
        for w, likes in zip(month_works, _allocate(mp.attention, weights)):
            w.likes = likes
            w.collects = int(likes * (0.02 + 0.08 * rnd()))
            w.comments = int(likes * (0.02 + 0.06 * rnd()))
            w.shares = int(likes * (0.03 + 0.12 * rnd()))
        works.extend(month_works)
    return works


# --------------------------------------------------------------------------- planted inflation

# Two sample accounts carry bought figures, so that the demo shows what `govmedia anomalies`, the
# leaderboards' ⚠ and GMI-1-D make of them: a WeChat account's two October articles with thirty
# times their reads and the interactions unchanged (ratio), and a Weibo account's September post
# with thousands of reposts and next to no comments or likes (repost_burst).
INFLATED_WECHAT = "示例民生公众号18"
INFLATED_WEIBO = "示例综合微博18"


def plant_inflated_reads(articles: list[WechatArticle]) -> None:
    october = [a for a in articles if local_ts(2020, 10) <= a.ts < local_ts(2020, 11)][:2]
    for article in october:
        article.reads *= 30


def plant_repost_burst(posts: list[WeiboPost]) -> None:
    september = [p for p in posts if local_ts(2020, 9) <= p.ts < local_ts(2020, 10)]
    if september:
        post = september[len(september) // 2]
        post.reposts, post.comments, post.likes = max(3000, 80 * post.reposts), 1, 2
