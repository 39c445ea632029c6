from datetime import date

import openpyxl
import pytest

from govmedia.core.errors import UserError
from govmedia.ingest.accounts import read_accounts
from govmedia.store.accounts import list_accounts, upsert_accounts


def _load(con, path):
    _, rows, rejects = read_accounts(path)
    return upsert_accounts(con, rows), rejects


def test_chinese_and_english_columns_and_values(con, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "platform,account_id,name,category,organization,region,followers,opened_at\n"
        "weibo,1,鼓楼微讯,district,鼓楼区委宣传部,鼓楼区,\"1,234\",2012-05-01\n"
        "抖音,2,南京交警,民生,,,1.2万,\n",
        encoding="utf-8",
    )
    result, rejects = _load(con, path)
    assert (result.inserted, rejects) == (2, [])
    got = {(r["platform"], r["account_id"]): r for r in list_accounts(con)}
    assert got[("weibo", "1")]["organization"] == "鼓楼区委宣传部"
    assert got[("weibo", "1")]["followers"] == 1234
    assert got[("weibo", "1")]["opened_at"] == date(2012, 5, 1)
    assert got[("douyin", "2")]["category"] == "livelihood"
    assert got[("douyin", "2")]["followers"] == 12000
    assert all(r["active"] for r in got.values())


def test_upsert_by_platform_and_account(con, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("平台,账号ID,名称,类别,粉丝数\n微博,1,甲,区级,100\n微信,1,甲,综合,\n", encoding="utf-8")
    _load(con, first)
    second = tmp_path / "b.csv"
    second.write_text("平台,账号ID,名称,类别,粉丝数\n微博,1,甲,民生,\n微信,1,甲,综合,\n", encoding="utf-8")
    result, _ = _load(con, second)
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    weibo = list_accounts(con, platform="weibo")[0]
    assert (weibo["category"], weibo["followers"]) == ("livelihood", 100)  # an empty cell keeps the stored value
    assert len(list_accounts(con)) == 2


def test_bad_registry_rows_are_rejected(con, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "平台,账号ID,名称,类别\n"
        "微博,1,甲,区级\n"
        "推特,2,乙,区级\n"
        "微博,,丙,区级\n"
        "微博,4,,区级\n"
        "微博,5,戊,市级\n"
        "微博,1,甲again,区级\n",
        encoding="utf-8",
    )
    _, rows, rejects = read_accounts(path)
    assert [r.account_id for r in rows] == ["1"]
    assert [(r.line, r.column) for r in rejects] == [(3, "平台"), (4, "账号ID"), (5, "名称"), (6, "类别"), (7, "账号ID")]
    assert "与第 2 行重复" in rejects[-1].reason


def test_xlsx_registry_and_missing_columns(con, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["平台", "账号ID", "名称", "类别", "主办单位"])
    sheet.append(["微博", 1234567890, "鼓楼微讯", "区级", "鼓楼区委宣传部"])
    workbook.save(tmp_path / "a.xlsx")
    result, rejects = _load(con, tmp_path / "a.xlsx")
    assert result.inserted == 1 and not rejects
    assert list_accounts(con)[0]["account_id"] == "1234567890"

    (tmp_path / "b.csv").write_text("平台,名称\n微博,甲\n", encoding="utf-8")
    with pytest.raises(UserError, match="账号ID"):
        read_accounts(tmp_path / "b.csv")
