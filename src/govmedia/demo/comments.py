"""The demo's MediaCrawler `comments` files: a few accounts' comment threads in the last quarter.

MediaCrawler crawls at most 10 first-level comments per post (CRAWLER_MAX_COMMENTS_COUNT_SINGLENOTES)
plus the replies under them. We write, for four MediaCrawler Weibo accounts and three Douyin
accounts, the comments on their posts of 2020-09-01..2020-11-30 as a December crawl would have
found them: user comments an hour or so after the post, and the account's replies to a share of
them (each account has its own habit: how often and how fast it answers). Weibo comments are a CSV
with the weibo store's fields (create_time with the release's +8 h bug, parent_comment_id = rootid,
the comment's own id for a top-level comment); Douyin comments a JSON array (parent "0").
"""

from __future__ import annotations

import random
from pathlib import Path

from govmedia.core.time import OFFSET_TEXT
from govmedia.demo import writers
from govmedia.demo.accounts import DemoAccount
from govmedia.demo.posts import DAY, local_str, local_ts, token

FROM, TO = local_ts(2020, 9, 1), local_ts(2020, 12, 1)
WEIBO_CRAWL = local_ts(2020, 12, 10, 10)
DOUYIN_CRAWL = local_ts(2020, 12, 12, 15)
MAX_PER_POST = 10

_USER_TEXTS = ("收到，谢谢提醒", "这个消息很及时", "请问具体在哪里办理？", "点赞！辛苦了", "希望能尽快落实",
               "家门口的变化看得见", "周末带孩子去看看", "请问需要预约吗？", "支持！", "已转发给家人",
               "路口的红绿灯时间能不能调整一下？", "小区附近施工噪音有点大", "为南京点赞", "学习了",
               "什么时候开始报名？", "信息很实用，收藏了")
_REPLIES = ("感谢关注，具体办理地点请见原文链接。", "您好，已转交相关部门核实处理，请留意后续通报。",
            "感谢您的支持！", "您好，无需预约，带好身份证即可。", "您反映的问题已记录，我们会持续跟进。",
            "报名时间请关注后续发布。")
# (reply share, median hours to reply) per chosen account, in order.
_HABITS = ((0.6, 2.0), (0.35, 5.0), (0.12, 20.0), (0.5, 1.0))


def _thread(rng: random.Random, posted: int, comments: int, habit: tuple[float, float], crawl: int):
    """(user comments [(ts, text)], replies {index: (ts, text)})."""
    count = min(MAX_PER_POST, comments)
    users = []
    for _ in range(count):
        ts = posted + int(min(3 * DAY, rng.lognormvariate(8.2, 1.0)))  # median ~1 h
        users.append((ts, rng.choice(_USER_TEXTS)))
    users.sort()
    share, median_hours = habit
    replies = {}
    for i, (ts, _) in enumerate(users):
        if rng.random() < share:
            at = ts + int(rng.lognormvariate(0, 0.8) * median_hours * 3600)
            if at < crawl:
                replies[i] = (at, rng.choice(_REPLIES))
    return users, replies


def write_comments(base: Path, weibo: list[tuple[DemoAccount, list]], douyin: list[tuple[DemoAccount, dict, list]],
                   seed: int) -> int:
    rng = random.Random(f"{seed}:mediacrawler:comments")
    rows: list[dict] = []
    ms = WEIBO_CRAWL * 1000
    for (account, posts), habit in zip(weibo[:4], _HABITS):
        for p in posts:
            if not FROM <= p.ts < TO or not p.comments:
                continue
            users, replies = _thread(rng, p.ts, p.comments, habit, WEIBO_CRAWL)
            for i, (ts, text) in enumerate(users):
                cid = str(4_560_000_000_000_000 + p.mid % 10**12 * 1000 + i * 10)
                uid = str(5_000_000_000 + rng.randrange(2_000_000_000))
                ms += 600 + rng.randrange(1500)
                rows.append(_weibo_row(cid, ts, p.mid, text, cid, uid, f"市民{uid[-4:]}", ms))
                if i in replies:
                    at, reply = replies[i]
                    ms += 600 + rng.randrange(1500)
                    rows.append(_weibo_row(str(int(cid) + 1), at, p.mid, f"回复@市民{uid[-4:]}:{reply}", cid,
                                           account.account_id, account.name, ms))
    total = len(rows)
    if rows:
        writers.write_mediacrawler(base / "weibo" / "csv" / "creator_comments_2020-12-10.csv", rows)
    items: list[dict] = []
    ms = DOUYIN_CRAWL * 1000
    for (account, profile, works), habit in zip(douyin[:3], _HABITS):
        for w in works:
            if not FROM <= w.ts < TO or not w.comments:
                continue
            users, replies = _thread(rng, w.ts, w.comments, habit, DOUYIN_CRAWL)
            for i, (ts, text) in enumerate(users):
                cid = str(int(w.aweme_id) + 1000 * (i + 1))
                uid = str(50_000_000_000 + rng.randrange(40_000_000_000))
                ms += 900 + rng.randrange(2400)
                items.append(_douyin_row(cid, ts, w.aweme_id, text, uid, "MS4wLjABAAAA" + token(rng, 43),
                                         f"用户{uid[-5:]}", "0", ms, 1 if i in replies else 0))
                if i in replies:
                    at, reply = replies[i]
                    ms += 900 + rng.randrange(2400)
                    items.append(_douyin_row(str(int(cid) + 1), at, w.aweme_id, reply, account.account_id,
                                             profile["sec_uid"], account.name, cid, ms, 0))
    if items:
        writers.write_mediacrawler(base / "douyin" / "json" / "creator_comments_2020-12-12.json", items)
    return total + len(items)


def _weibo_row(cid: str, ts: int, mid: int, text: str, root: str, uid: str, nickname: str, ms: int) -> dict:
    return {
        "comment_id": cid, "create_time": ts + writers.BUG_SHIFT, "create_date_time": f"{local_str(ts)}{OFFSET_TEXT}",
        "note_id": str(mid), "content": text, "sub_comment_count": "0", "comment_like_count": "0",
        "last_modify_ts": ms, "ip_location": "江苏", "parent_comment_id": root, "user_id": uid, "nickname": nickname,
        "gender": "m", "profile_url": f"https://m.weibo.cn/u/{uid}?uid={uid}&luicode=20000174",
        "avatar": f"https://tvax1.sinaimg.cn/crop.0.0.180.180.180/{int(uid):08x}ly8gdemo.jpg?KID=imgbed,tva",
    }


def _douyin_row(cid: str, ts: int, aweme_id: str, text: str, uid: str, sec_uid: str, nickname: str, parent: str,
                ms: int, replies: int) -> dict:
    return {
        "comment_id": cid, "create_time": ts, "ip_location": "江苏", "aweme_id": aweme_id, "content": text,
        "user_id": uid, "sec_uid": sec_uid, "short_user_id": "0", "user_unique_id": "", "user_signature": "",
        "nickname": nickname, "avatar": "", "sub_comment_count": str(replies), "like_count": 0,
        "last_modify_ts": ms, "parent_comment_id": parent, "pictures": "",
    }
