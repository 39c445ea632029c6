"""Files exactly as the tools write them (see the format notes in each importer module).

- dataabc/weibo-crawler: `users.csv` + `<昵称>/<用户id>.csv`, UTF-8 with BOM, CRLF, ids with a trailing
  TAB, ragged rows (an original stops after 是否原创, a repost carries the 源… columns), newest first.
- NanmiCoder/MediaCrawler: `data/{weibo,douyin}/{csv,json,jsonl}/creator_contents_<date>.<ext>`, counts
  as strings, `last_modify_ts` in ms, weibo `create_time` eight hours ahead (the release bug) next to
  a correct `create_date_time`.
- wechat-article-exporter: `微信公众号文章.json` (one line, an array of the raw article objects plus
  fakeid/_accountName/readNum …) or `微信公众号文章.xlsx` (Sheet1, the 18 Chinese columns).
- A generic table (统计平台导出): GB18030, Chinese headers.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Iterable

from govmedia.core.time import OFFSET_TEXT
from govmedia.demo.accounts import DemoAccount
from govmedia.demo.posts import (
    DouyinWork, WechatArticle, WeiboPost, clock_str, day_str, local_str, mid_to_bid, token,
)
from govmedia.demo.xlsx import write_xlsx

# --------------------------------------------------------------------------- weibo-crawler

_WB_BASE = ["id", "bid", "正文", "头条文章url", "原始图片url", "视频url", "Live Photo视频url", "位置", "日期", "工具",
            "点赞数", "评论数", "转发数", "话题", "@用户", "完整日期", "是否编辑过", "编辑次数"]
WEIBO_CRAWLER_HEADER = _WB_BASE + ["是否原创", "源用户id", "源用户昵称"] + ["源微博" + h for h in _WB_BASE]
USERS_HEADER = ["用户id", "昵称", "性别", "生日", "所在地", "IP属地", "学习经历", "公司", "注册时间", "阳光信用", "微博数",
                "粉丝数", "关注数", "简介", "主页", "头像", "高清头像", "微博等级", "会员等级", "是否认证", "认证类型",
                "认证信息", "上次记录微博信息"]


def _pic_prefix(uid: str) -> str:
    return f"{int(uid):08x}"[-8:]


def _pics(prefix: str, mid: int, n: int) -> str:
    return ",".join(
        f"https://wx{1 + (mid + j) % 4}.sinaimg.cn/large/{prefix}ly1g{(mid // 7 + j * 131) % 10**11:x}j20u0140.jpg"
        for j in range(n))


def _video(mid: int) -> str:
    return (f"https://f.video.weibocdn.com/o0/{mid:x}{mid % 997:03d}u4Lw0E010.mp4?label=mp4_720p"
            f"&template=1280x720.25.0&media_id={mid // 1000 + 17}&tp=8x8A3El:YTkl0eM8&us=0&ori=1&bf=4&ot=h"
            "&ps=3lckmu&KID=unistore,video")


def weibo_crawler_rows(account: DemoAccount, posts: list[WeiboPost]) -> Iterable[list]:
    prefix = _pic_prefix(account.account_id)
    nick = account.name
    for p in reversed(posts):  # newest first
        text = p.text
        video = ""
        if p.form == "video":
            video = _video(p.mid)
            text = f"{text}\n{nick}的微博视频"
        elif p.article:
            text = f"{text}\n网页链接"
        if p.location:
            text = f"{text}\n{p.location}"
        day, clock = day_str(p.ts), clock_str(p.ts)
        row = [f"{p.mid}\t", mid_to_bid(p.mid), text, p.article, _pics(prefix, p.mid, p.pics) if p.pics else "", video,
               "", p.location, f"{day}T{clock}", p.tool, p.likes, p.comments, p.reposts, ",".join(p.topics), p.at,
               f"{day} {clock}", p.edits > 0, p.edits]
        if p.original:
            row.append(True)
        else:
            uid, name, mid, stext, spics, sts, stool, slikes, scomments, sreposts, stag = p.source
            sday, sclock = day_str(sts), clock_str(sts)
            row += [False, uid, name, f"{mid}\t", mid_to_bid(mid), stext, "",
                    _pics(_pic_prefix(uid), mid, spics) if spics else "", "", "", "", f"{sday}T{sclock}", stool,
                    slikes, scomments, sreposts, stag, "", f"{sday} {sclock}"]
        yield row


def write_weibo_crawler(base: Path, account: DemoAccount, posts: list[WeiboPost]) -> tuple[Path, int]:
    path = base / account.name / f"{account.account_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(WEIBO_CRAWLER_HEADER)
        writer.writerows(weibo_crawler_rows(account, posts))
    return path, len(posts)


def users_row(account: DemoAccount, statuses: int) -> list:
    uid = account.account_id
    avatar = f"{int(uid):08x}"[-8:]
    return [uid, account.name, "m", "", "江苏 南京", "江苏", "", "", account.opened_at.isoformat(), "信用极好", statuses,
            account.followers, 200 + int(uid) % 900, f"{account.organization}官方微博",
            f"https://m.weibo.cn/u/{uid}?uid={uid}&luicode=10000011&lfid=100505{uid}",
            f"https://tvax1.sinaimg.cn/crop.0.0.512.512.180/{avatar}ly8gdemo.jpg?KID=imgbed,tva&Expires=1607140800&ssig=Dm0Sg",
            f"https://wx1.sinaimg.cn/orj480/{avatar}ly8gdemo.jpg", 30 + int(uid) % 18, 0, True, 1,
            f"{account.organization}官方微博", ""]


def write_users(path: Path, rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(USERS_HEADER)
        writer.writerows(rows)


# --------------------------------------------------------------------------- MediaCrawler

BUG_SHIFT = 8 * 3600


def mediacrawler_weibo_row(account: DemoAccount, p: WeiboPost, counts: tuple[int, int, int], observed_ms: int) -> dict:
    uid = account.account_id
    text = p.text
    if p.form == "video":
        text = f"{text}{account.name}的微博视频"
    elif p.article:
        text = f"{text}网页链接"
    likes, comments, reposts = counts
    return {
        "note_id": str(p.mid),
        "content": text,
        "create_time": p.ts + BUG_SHIFT,  # the release's +8 h bug
        "create_date_time": f"{local_str(p.ts)}{OFFSET_TEXT}",
        "liked_count": str(likes),
        "comments_count": str(comments),
        "shared_count": str(reposts),
        "last_modify_ts": observed_ms,
        "note_url": f"https://m.weibo.cn/detail/{p.mid}",
        "ip_location": "",  # posts from before 2022 carry no IP region
        "user_id": uid,
        "nickname": account.name,
        "gender": "m",
        "profile_url": f"https://m.weibo.cn/u/{uid}?uid={uid}&luicode=10000011&lfid=1076{uid}",
        "avatar": f"https://tvax1.sinaimg.cn/crop.0.0.180.180.180/{int(uid):08x}ly8gdemo.jpg?KID=imgbed,tva",
        "source_keyword": "",
    }


def douyin_profile(account: DemoAccount, rng) -> dict:
    return {"sec_uid": "MS4wLjABAAAA" + token(rng, 43), "short_user_id": str(int(account.account_id) // 7 % 10**9),
            "user_unique_id": "", "user_signature": f"{account.organization}官方抖音号\n权威发布 服务市民",
            "avatar": ("https://p3-pc.douyinpic.com/aweme/100x100/aweme-avatar/tos-cn-avt-0015_"
                       f"{int(account.account_id):x}demo.jpeg?from=2956013662")}


def mediacrawler_douyin_row(account: DemoAccount, profile: dict, w: DouyinWork, counts: tuple[int, int, int, int],
                            observed_ms: int) -> dict:
    likes, collects, comments, shares = counts
    aid = w.aweme_id
    images = ",".join(
        f"https://p3-pc-sign.douyinpic.com/tos-cn-i-0813c001/o{aid[-9:]}{k}~tplv-dy-aweme-images:q75.webp"
        for k in range(w.images))
    return {
        "aweme_id": aid,
        "aweme_type": w.aweme_type,
        "title": w.desc,
        "desc": w.desc,
        "create_time": w.ts,
        "user_id": account.account_id,
        "sec_uid": profile["sec_uid"],
        "short_user_id": profile["short_user_id"],
        "user_unique_id": profile["user_unique_id"],
        "user_signature": profile["user_signature"],
        "nickname": account.name,
        "avatar": profile["avatar"],
        "liked_count": str(likes),
        "collected_count": str(collects),
        "comment_count": str(comments),
        "share_count": str(shares),
        "ip_location": "",
        "last_modify_ts": observed_ms,
        "aweme_url": f"https://www.douyin.com/video/{aid}",
        "cover_url": f"https://p3-pc-sign.douyinpic.com/tos-cn-p-0015/o{aid[-10:]}~tplv-dy-resize-origshort-autoq-75:330.jpeg",
        "video_download_url": (f"https://www.douyin.com/aweme/v1/play/?video_id=v0d00fg10000{aid[-12:]}&line=0"
                               "&is_play_url=1&source=PackSourceEnum_AWEME_DETAIL"),
        "music_download_url": f"https://sf5-hl-cdn-tos.douyinstatic.com/obj/ies-music/{aid[-11:]}.mp3",
        "note_download_url": images,
        "source_keyword": "",
    }


def write_mediacrawler(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix
    if kind == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(rows)
    elif kind == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=4), encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# --------------------------------------------------------------------------- wechat-article-exporter

SHOW_TYPES = {0: "普通图文", 5: "视频分享", 6: "音乐分享", 7: "音频分享", 8: "图片分享", 10: "文本分享", 11: "文章分享",
              17: "短文"}
EXCEL_COLUMNS = (("公众号", 20), ("ID", 20), ("链接", 50), ("标题", 80), ("封面", 50), ("摘要", 50), ("创建时间", 20),
                 ("发布时间", 20), ("阅读", 10), ("点赞", 10), ("分享", 10), ("喜欢", 10), ("留言", 10), ("作者", 20),
                 ("是否原创", 10), ("文章类型", 20), ("所属合集", 50), ("文章内容", None))


def _cover(a: WechatArticle) -> str:
    return f"https://mmbiz.qpic.cn/mmbiz_jpg/{a.cover}/0?wx_fmt=jpeg"


def _album(account: DemoAccount, title: str) -> dict:
    number = 3_800_000_000_000_000_000 + int(account.account_id.encode().hex()[-10:], 16) % 10**12 * 1000 + len(title)
    return {"id": str(number), "title": title, "album_id": int(float(number)), "appmsg_album_infos": [], "tagSource": 0}


def wechat_json_object(account: DemoAccount, a: WechatArticle) -> dict:
    aid = f"{a.appmsgid}_{a.idx}"
    albums = [_album(account, a.album)] if a.album else []
    obj = {
        "aid": aid,
        "title": a.title,
        "cover": _cover(a),
        "link": a.link,
        "digest": a.digest,
        "update_time": a.ts,
        "appmsgid": a.appmsgid,
        "itemidx": a.idx,
        "item_show_type": a.show_type,
        "author_name": a.author,
        "tagid": [],
        "create_time": a.ts + 1,
        "is_pay_subscribe": 0,
        "album_id": albums[0]["id"] if albums else "0",
        "media_duration": f"{1 + a.reads % 4}:{a.reads % 60:02d}" if a.show_type == 5 else "0:00",
        "copyright_type": 1 if a.original else 0,
        "appmsg_album_infos": albums,
        "is_deleted": False,
        "pic_cdn_url_235_1": _cover(a) if a.idx == 1 else "",
        "pic_cdn_url_1_1": _cover(a),
        "copyright_stat": 1 if a.original else 0,
        "fakeid": account.account_id,
        "_status": "正常",
        "_accountName": account.name,
        "content": f"{a.title}\n\n{a.body}",
        "readNum": a.reads,
        "oldLikeNum": a.likes,
        "shareNum": a.shares,
        "likeNum": a.wows,
        "commentNum": a.comments,
        "comments": [],
    }
    return obj


def _newest_first(articles: list[WechatArticle]) -> list[WechatArticle]:
    return sorted(articles, key=lambda a: (-a.ts, a.idx))


def write_wechat_json(folder: Path, account: DemoAccount, articles: list[WechatArticle]) -> tuple[Path, int]:
    path = folder / "微信公众号文章.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = [wechat_json_object(account, a) for a in _newest_first(articles)]
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path, len(data)


def write_wechat_xlsx(folder: Path, account: DemoAccount, articles: list[WechatArticle]) -> tuple[Path, int]:
    path = folder / "微信公众号文章.xlsx"
    rows = []
    for a in _newest_first(articles):
        rows.append([
            account.name, f"{a.appmsgid}_{a.idx}", a.link, a.title, _cover(a), a.digest, local_str(a.ts + 1),
            local_str(a.ts), a.reads, a.likes, a.shares, a.wows, a.comments, a.author,
            "原创" if a.original else "", SHOW_TYPES.get(a.show_type, "未识别"), f"#{a.album}" if a.album else "",
            f"{a.title}\n\n{a.body}",
        ])
    write_xlsx(path, [h for h, _ in EXCEL_COLUMNS], rows, widths=[w for _, w in EXCEL_COLUMNS], creator="Unknown")
    return path, len(rows)


# --------------------------------------------------------------------------- generic table

GENERIC_WEIBO_HEADER = ["平台", "账号ID", "内容ID", "发布时间", "是否原创", "正文", "链接", "转发数", "评论数", "点赞数"]
GENERIC_WECHAT_HEADER = ["平台", "账号ID", "内容ID", "发布时间", "标题", "摘要", "是否原创", "位置", "链接", "阅读数",
                         "在看数", "点赞数", "分享数", "评论数"]


def _excel_time(ts: int) -> str:
    """How a spreadsheet saves a datetime cell to CSV: 2019/3/5 8:30 (no seconds)."""
    d = day_str(ts)
    c = clock_str(ts)
    return f"{int(d[:4])}/{int(d[5:7])}/{int(d[8:10])} {int(c[:2])}:{c[3:5]}"


def generic_weibo_rows(account: DemoAccount, posts: list[WeiboPost]) -> list[list]:
    rows = []
    for p in posts:
        rows.append(["微博", account.account_id, str(p.mid), _excel_time(p.ts), "是" if p.original else "否", p.text,
                     f"https://weibo.com/{account.account_id}/{mid_to_bid(p.mid)}", p.reposts, p.comments, p.likes])
    return rows


def generic_wechat_rows(account: DemoAccount, articles: list[WechatArticle]) -> list[list]:
    rows = []
    for a in articles:
        sn = hashlib.md5(f"{account.account_id}{a.appmsgid}{a.idx}".encode()).hexdigest()
        link = f"http://mp.weixin.qq.com/s?__biz={account.account_id}&mid={a.appmsgid}&idx={a.idx}&sn={sn}#rd"
        rows.append(["微信", account.account_id, f"{account.account_id}:{a.appmsgid}_{a.idx}", _excel_time(a.ts),
                     a.title, a.digest, "是" if a.original else "否", a.idx, link, a.reads, a.wows, a.likes, a.shares, a.comments])
    return rows


def write_generic(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# --------------------------------------------------------------------------- the registry

REGISTRY_HEADER = ["平台", "账号ID", "名称", "类别", "主办单位", "地区", "粉丝数", "开通时间"]


def write_registry(path: Path, accounts: list[DemoAccount]) -> int:
    from govmedia.demo.accounts import CATEGORY_LABELS, PLATFORM_LABELS

    rows = [[PLATFORM_LABELS[a.platform], a.account_id, a.name, CATEGORY_LABELS[a.category], a.organization,
             a.region, a.followers, a.opened_at.isoformat()] for a in accounts]
    return write_xlsx(path, REGISTRY_HEADER, rows, sheet="账号名录", widths=[8, 22, 32, 8, 36, 12, 12, 14],
                      creator="govmedia")
