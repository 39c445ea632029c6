"""The demo's evaluation inputs: innovation cases from the white paper's annex (附件三, with the
accounts that published them) and the linkage campaigns whose hashtags the generated posts carry.
Written as the CSV files a user would import with `govmedia cases import` / `campaigns import`."""

from __future__ import annotations

import csv
from pathlib import Path

from govmedia.demo.accounts import DemoAccount

# (category, unit, title, month, platform, account name, score, text)
CASES = (
    ("信息发布类", "玄武区委网信办", "全媒体助力“四新”行动，玄武首“交作业”", "2020-04", "weibo", "玄武发布", 85,
     "“玄武发布”新媒体矩阵联合中央及省市媒体，以手绘海报、SVG 动画、视频直播等形式报道“四新”行动。"),
    ("信息发布类", "江宁区委网信办", "全媒体联动 唱响时代旋律家国情怀", "2020-10", "wechat", "江宁发布", 82,
     "中秋国庆期间围绕“家”“国”两大主题，推出互动 H5《今天我是升旗手!》和晒图大赛。"),
    ("信息发布类", "南京市公安局", "“3.24 南医大案件告破”系列发布", "2020-02", "weibo", "平安南京", 90,
     "24 小时内连续三次发布权威信息，以图文和视频还原抓捕现场。"),
    ("信息发布类", "中山陵园管理局", "“秋到紫金山”话题挑战赛", "2020-10", "weibo", "南京钟山风景名胜区", 78,
     "借助景区秋景热点开展 #秋到紫金山# 话题挑战赛，向全国展示钟山风景区。"),
    ("信息发布类", "雨花台烈士陵园管理局", "100 期雨花英烈短视频故事", "2020-06", "douyin", "中国雨花台", 80,
     "以 100 期短视频讲述雨花英烈的故事。"),
    ("宣传推广类", "秦淮区委网信办", "“大咖故事荟”引爆全网，打开不一样的“南京创新周”", "2020-06", "weibo", "秦淮发布", 88,
     "桨声灯影里的“大咖故事荟”全程图文及视频直播。"),
    ("宣传推广类", "建邺区委网信办", "#快到建邺来# 微博项目", "2020-07", "weibo", "建邺播报", 86,
     "以系列创意海报、长图和创意宣传短视频运营 #快到建邺来# 微博话题。"),
    ("宣传推广类", "鼓楼区委网信办", "聚焦“新消费”，引发 10.8 亿+“爆款”话题", "2020-04", "weibo", "鼓楼微讯", 92,
     "结合 6000 万消费券发放契机持续开展“新消费”主题网络宣传。"),
    ("宣传推广类", "浦口区委网信办", "深入防汛一线 打造融媒体精品", "2020-07", "wechat", "浦口发布", 84,
     "防汛Ⅰ级响应期间围绕防汛工作、一线故事推出系列融媒体产品。"),
    ("宣传推广类", "溧水区委网信办", "城管小姐姐无人机喊话游客登微博热搜", "2020-05", "weibo", "溧水发布", 80,
     "“踏青户外 打卡溧水”系列网络宣传，推送图文、直播、短视频、H5 等产品近百条。"),
    ("宣传推广类", "江北新区党工委网信办", "“数”说五周年 新区新媒体齐心共话精彩瞬间", "2020-06", "wechat", "南京江北新区", 83,
     "江北新区成立五周年之际推出一系列新媒体产品，大会直播观看量达 400 万。"),
    ("宣传推广类", "南京市人大常委会研究室", "“口述历史话小康”主题宣传活动", "2020-10", "wechat", "南京人大", 75,
     "在“一网双微”平台推送讲述全面建设小康社会进程中的“人大故事”。"),
    ("宣传推广类", "南京市纪委监委", "谁能举报？能举报谁？……这里说得一清二楚→", "2020-08", "weibo", "钟山清风", 80,
     "以图解和短视频讲清信访举报的范围与渠道。"),
    ("宣传推广类", "南京市消防救援支队", "无言的“战友”：沈虎与冰洁", "2020-09", "weibo", "南京消防", 85,
     "讲述消防搜救犬与训导员的故事。"),
    ("民生服务类", "栖霞区委网信办", "栖霞：促进“新消费”，618 玩转直播带货", "2020-06", "weibo", "栖霞视点", 84,
     "618 期间以直播带货促进“新消费”。"),
    ("民生服务类", "南京市公安局", "“警察蜀黍教你防诈骗”系列直播", "2020-09", "douyin", "平安南京", 80,
     "在抖音平台开展防诈骗系列直播。"),
    ("民生服务类", "南京市人力资源和社会保障局", "2021 南京城乡居民医保筹资标准来啦！", "2020-11", "wechat", "南京社保", 70,
     "以问答长图解读新一年城乡居民医保筹资标准。"),
    ("政务回应类", "南京市卫健委", "健康南京及时辟谣，降低舆情热度", "2020-03", "wechat", "健康南京", 86,
     "针对网络谣言及时发布权威信息，降低舆情热度。"),
    ("政务回应类", "六合区委网信办", "重大民生项目选址公示，“今日六合”舆论引导平稳有序", "2020-08", "wechat", "今日六合", 80,
     "重大民生项目选址公示期间及时回应网民关切。"),
)

# The hashtags a case's report paragraph cites (posts of the generated data carry them that month).
CASE_HASHTAGS = {"健康南京及时辟谣，降低舆情热度": "疫情防控", "深入防汛一线 打造融媒体精品": "防汛"}

# (campaign_id, name, start, end, hashtags): the waves in which the generator puts these hashtags.
CAMPAIGNS = (
    ("2019-WM1", "全国文明城市创建联动（2019年5月）", "2019-05-01", "2019-05-31", "全国文明城市"),
    ("2019-GK", "高考加油联动（2019）", "2019-06-01", "2019-06-30", "高考加油"),
    ("2019-GQ", "我和我的祖国（国庆 70 周年）", "2019-09-01", "2019-10-31", "我和我的祖国"),
    ("2019-WM2", "全国文明城市创建联动（2019年10月）", "2019-10-01", "2019-10-31", "全国文明城市"),
    ("2019-XF", "宪法宣传周（2019）", "2019-12-01", "2019-12-31", "宪法宣传周"),
    ("2019-GJ", "国家公祭日", "2019-12-01", "2019-12-31", "国家公祭日"),
    ("2020-ZY", "南京战疫", "2020-02-01", "2020-04-30", "南京战疫;疫情防控"),
    ("2020-WM1", "全国文明城市创建联动（2020年6月）", "2020-06-01", "2020-06-30", "全国文明城市"),
    ("2020-FX", "防汛联动", "2020-07-01", "2020-07-31", "防汛"),
    ("2020-GK", "高考加油联动（2020）", "2020-07-01", "2020-07-31", "高考加油"),
    ("2020-WM2", "全国文明城市创建联动（2020年9月）", "2020-09-01", "2020-09-30", "全国文明城市"),
    ("2020-LJ", "垃圾分类", "2020-11-01", "2020-11-30", "垃圾分类"),
    ("2020-XF", "宪法宣传周（2020）", "2020-11-01", "2020-12-04", "宪法宣传周"),
)


def write_evaluation_inputs(folder: Path, accounts: list[DemoAccount]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = {(a.platform, a.name): a.account_id for a in accounts}
    cases = folder / "cases.csv"
    with cases.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["案例编号", "标题", "月份", "类别", "单位", "得分", "平台", "账号ID", "简介", "话题"])
        for number, (category, unit, title, month, platform, name, points, text) in enumerate(CASES, start=1):
            writer.writerow([f"2020-{number:02d}", title, month, category, unit, points, platform,
                             ids[(platform, name)], text, CASE_HASHTAGS.get(title, "")])
    campaigns = folder / "campaigns.csv"
    with campaigns.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["campaign_id", "name", "start", "end", "hashtags"])
        writer.writerows(CAMPAIGNS)
    return cases, campaigns
