"""A small scored store for the web tests: two Weibo district accounts, a WeChat account."""

from __future__ import annotations

from pathlib import Path

from util import PASSWORD, make_store

ACCOUNTS = """平台,账号ID,名称,类别,粉丝数
微博,A,甲区发布,区级,1200000
微博,B,乙区发布,区级,5000
微博,L,民生一号,民生,
微信,W,微信一,综合,
"""
POSTS = """平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞,阅读,在看,分享,位置
微博,A,a1,2020-02-05 10:00,是,#南京战疫# 通报,10,5,3,,,,
微博,A,a2,2020-03-05 10:00,是,视频发布,20,1,0,,,,
微博,B,b1,2020-02-06 10:00,是,一图读懂,30,10,1,,,,
微博,B,b2,2020-03-06 10:00,否,转发,3,0,1,,,,
微博,L,l1,2020-03-07 10:00,是,民生,3,2,1,,,,
微信,W,w1,2020-02-07 20:00,是,头条,,,4,150000,9,2,1
微信,W,w2,2020-03-07 20:00,是,头条,,,4,1500,9,2,1
"""
# Uploaded in the browser test: C joins district and beats everyone in March.
NEW_POSTS = """平台,账号ID,内容ID,发布时间,是否原创,形式,正文,转发,评论,点赞
微博,C,c1,2020-03-08 10:00,是,视频,新区视频,90000,40000,1
微博,C,c2,2020-02-08 10:00,是,直播,新区直播,90000,40000,1
微博,NOPE,x1,2020-03-08 10:00,是,,未登记账号,1,1,1
"""


def build_store(folder: Path) -> Path:
    """The store, scored for February and March, with viewer1, editor1 and admin1 (PASSWORD)."""
    return make_store(folder / "web.duckdb", accounts=ACCOUNTS, posts=POSTS, score=("2020-02", "2020-03"),
                      users=True, password=PASSWORD)
