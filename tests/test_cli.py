"""The command line as a user runs it: exit codes, one-line errors, no tracebacks (in process via
`cli`; a real process where the lock held by another process is the point)."""

import json

import pytest

from util import REGISTRY, cli, run_cli
from govmedia.store import CURRENT_VERSION


def _registry(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def test_accounts_import_and_list(tmp_path):
    db = tmp_path / "x.duckdb"
    result = cli("--db", str(db), "accounts", "import", str(_registry(tmp_path)))
    assert result.exit_code == 0, result.stderr
    assert "新增 5" in result.stdout
    listed = cli("--db", str(db), "accounts", "list", "--format", "json")
    data = json.loads(listed.stdout)
    assert len(data) == 5 and {d["platform"] for d in data} == {"weibo", "wechat", "douyin"}
    csv_out = cli("--db", str(db), "accounts", "list", "--platform", "微博", "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("platform,account_id,name,category")
    assert len(csv_out.stdout.splitlines()) == 3
    table = cli("--db", str(db), "accounts", "list")
    assert "南京测试发布" in table.stdout


def test_env_var_selects_database(tmp_path):
    db = tmp_path / "env.duckdb"
    cli("accounts", "import", str(_registry(tmp_path)), db=db)
    assert db.exists()


def test_import_exit_codes(tmp_path):
    db = tmp_path / "x.duckdb"
    cli("accounts", "import", str(_registry(tmp_path)), db=db)
    good = tmp_path / "good.csv"
    good.write_text("平台,账号ID,内容ID,发布时间\n微博,1234567890,p1,2020-05-01 10:00\n", encoding="utf-8")
    result = cli("import", str(good), db=db)
    assert result.exit_code == 0 and "accepted 1" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("平台,账号ID,内容ID,发布时间\n微博,1234567890,p2,2020-05-01 10:00\n微博,1234567890,p3,不是时间\n",
                   encoding="utf-8")
    result = cli("import", str(bad), db=db)
    assert result.exit_code == 1
    assert "rejected 1" in result.stdout and "第 3 行" in result.stdout
    assert (tmp_path / "bad.csv.rejects.csv").exists()
    for args, code in (
        (["import", str(tmp_path / "missing.csv")], 2),
        (["import", str(good), "--format", "nonsense"], 2),
        (["import", str(good), "--account", "weibo"], 2),
    ):
        result = cli(*args, db=db)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = cli("import", str(empty), db=db)
    assert result.exit_code == 2 and "文件为空" in result.stderr


def test_db_export_import_and_info(tmp_path):
    db = tmp_path / "x.duckdb"
    cli("accounts", "import", str(_registry(tmp_path)), db=db)
    result = cli("db", "export", str(tmp_path / "pq"), db=db)
    assert result.exit_code == 0 and (tmp_path / "pq" / "accounts.parquet").exists()
    other = tmp_path / "y.duckdb"
    result = cli("db", "import", str(tmp_path / "pq"), db=other)
    assert result.exit_code == 0 and "accounts: 5" in result.stdout
    info = cli("db", "info", db=other)
    assert f"结构版本 {CURRENT_VERSION}" in info.stdout and "accounts: 5" in info.stdout


def test_locked_database_is_a_clear_error(tmp_path):
    import duckdb

    db = tmp_path / "x.duckdb"
    cli("accounts", "import", str(_registry(tmp_path)), db=db)
    holder = duckdb.connect(str(db))  # another process holds the write lock (a real process: run_cli)
    try:
        result = run_cli("accounts", "import", str(_registry(tmp_path)), db=db)
    finally:
        holder.close()
    assert result.returncode == 2
    assert "无法打开数据库" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, words", [
    (("rnak",), "没有命令 rnak；是不是 rank"),
    (("rank",), "缺少选项 --platform（用 govmedia rank --help 查看用法）"),
    (("rank", "--platfrom", "weibo"), "没有选项 --platfrom；是不是"),
    (("check", "--at"), "选项 --at 后面要写一个值"),
    (("accounts", "list", "extra"), "多余的参数：extra"),
])
def test_usage_errors_are_chinese_one_liners(args, words):
    from util import cli

    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for english in ("Missing option", "No such", "Usage:", "Try '", "Error", "Got unexpected"):
        assert english not in result.stderr


@pytest.mark.parametrize("args", [("--help",), ("rank", "--help"), ("explain", "--help"), ("accounts",),
                                  ("campaigns", "participations", "--help")])
def test_help_is_chinese_without_type_tags(args):
    result = run_cli(*args)
    assert result.returncode in (0, 2), result.stderr
    text = result.stdout
    assert "用法：govmedia" in text and "显示本帮助并退出" in text
    for english in ("Usage:", "Options", "Commands", "Arguments", "Show this message", "[required]", "[default:",
                    "<str>", "<path>", "<int>", "[OPTIONS]", "COMMAND"):
        assert english not in text, english
    # The translation keeps each panel line as wide as its border.
    from rich.cells import cell_len
    boxed = [line for line in text.splitlines() if line.startswith(("│", "╭", "╰"))]
    assert boxed and len({cell_len(line) for line in boxed}) == 1


def test_explain_takes_an_account_s_name_and_names_its_argument(tmp_path):
    from util import make_store

    db = make_store(tmp_path / "s.duckdb", accounts="平台,账号ID,名称,类别\n微博,A,甲区发布,区级\n微信,A2,甲区发布,区级\n"
                                                     "微博,B,乙区发布,区级\n",
                    posts="平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论\n微博,B,b1,2020-02-06 10:00,是,x,3,1\n",
                    score=("2020-02", "2020-02"))
    by_name = run_cli("explain", "乙区发布", "--month", "2020-02", db=db)
    assert by_name.returncode == 0 and "乙区发布（B） 2020-02" in by_name.stdout
    both = run_cli("explain", "甲区发布", "--month", "2020-02", db=db)
    assert both.returncode == 2 and "账号: 名称「甲区发布」对应多个账号：" in both.stderr and "「甲区发布（微博）」（weibo:A）" in both.stderr
    assert "--account" not in both.stderr
    labelled = run_cli("explain", "甲区发布（微信）", "--month", "2020-02", db=db)
    assert labelled.returncode == 0 and "甲区发布（A2）" in labelled.stdout
    month = run_cli("explain", "乙区发布", "--month", "2020-13", db=db)
    assert month.returncode == 2 and "--month: 应写成 YYYY-MM" in month.stderr and "--from" not in month.stderr
