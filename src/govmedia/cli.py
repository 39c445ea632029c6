"""The `govmedia` command: a thin Typer layer over the library.

User errors print one line and exit 2 (or the code they carry); they never show a traceback.
"""

from __future__ import annotations

import json
import difflib
import re
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional

import typer
from typer._click import exceptions as click  # Typer vendors Click: its usage errors are these
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from govmedia.core.vocabulary import PLATFORMS
from govmedia.core.errors import FieldError, UserError, fill, store_write_failed, write_failed

# How the command line names the fields library errors are about.
OPTION_NAMES = {
    "period.start": "--from", "period.end": "--to", "period": "--from/--to", "month": "--month",
    "platform": "--platform", "category": "--category", "account": "--account", "methodology": "--methodology",
    "excellent": "--excellent", "check_at": "--at", "quarter": "--quarter", "alert_days": "--alert-days",
    "format": "--format", "settings": "报告设置", "weights": "--weights",
}
# The commands that take the steps library errors ask for (core.errors.STEP_LABELS).
CLI_STEPS = {"score": "运行 govmedia score", "register": "用 govmedia accounts import 登记该账号",
             "check": "运行 govmedia check"}

app = typer.Typer(
    help="政务新媒体传播影响力评估系统 govmedia — 导入、评估、排名、检查、发布。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
accounts_app = typer.Typer(help="账号名录：导入与查看。", no_args_is_help=True)
db_app = typer.Typer(help="数据库：整表导出/导入（Parquet）与概况。", no_args_is_help=True)
scores_app = typer.Typer(help="月度分数：导出。", no_args_is_help=True)
cases_app = typer.Typer(help="创新案例：导入与查看。", no_args_is_help=True)
campaigns_app = typer.Typer(help="联动宣传：导入与查看。", no_args_is_help=True)
participations_app = typer.Typer(help="联动宣传的参与记录。", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(db_app, name="db")
app.add_typer(scores_app, name="scores")
app.add_typer(cases_app, name="cases")
app.add_typer(campaigns_app, name="campaigns")
campaigns_app.add_typer(participations_app, name="participations")

# Piped output is not cut to 80 columns: names and ids must stay whole.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)


class State:
    db: Path | None = None


state = State()


@app.callback()
def _global(
    db: Optional[Path] = typer.Option(
        None, "--db", envvar="GOVMEDIA_DB", help="DuckDB 数据库文件（默认 ./govmedia.duckdb，或环境变量 GOVMEDIA_DB）"
    ),
) -> None:
    state.db = db


def _path() -> Path:
    from govmedia.store import default_db_path

    return Path(state.db) if state.db else default_db_path()


_access_of: dict[Path, object] = {}


def _access():
    """This process's way into the store: units of work that wait (one line said) for other
    processes (the site, a watcher, another command) instead of failing."""
    from govmedia.store.access import Access

    path = _path()
    if path not in _access_of:
        _access_of[path] = Access(path, on_wait=lambda words: err.print(words, highlight=False))
    return _access_of[path]


def _require_store() -> Path:
    """The store's path; a store that does not exist is an error for reading (a typo in --db), never created."""
    path = _path()
    if not path.exists():
        raise UserError(f"数据库文件不存在: {path}（请检查 --db 或环境变量 GOVMEDIA_DB）")
    return path


@contextmanager
def _reading():
    """A read unit of an existing store."""
    from govmedia.store import SchemaOutdated

    _require_store()
    access = _access()
    try:
        with access.read() as con:
            yield con
            return
    except SchemaOutdated:  # written by an earlier release: upgrade it once, then read
        access.prepare()
    with access.read() as con:
        yield con


@contextmanager
def _writing(data: bool = True, *, declared: bool = False):
    """A write unit, alone on the store; creates the store (saying so) when it does not exist.
    `declared`: see `store.access.Access.write`."""
    path = _path()
    created = not path.exists()
    with _access().write(data, declared=declared) as con:
        if created:
            err.print(f"已新建数据库 {path}", highlight=False)
        yield con


def _warn_stale(con, start: str, end: str | None = None) -> None:
    """One line per read of months whose posts changed after their scores were computed."""
    from govmedia.core.time import Period, local_text
    from govmedia.store.freshness import stale_months

    period = Period.parse(start, end or start)
    stale = stale_months(con, period.months)
    if stale:
        err.print(f"注意：{'、'.join(stale)} 的分数早于其数据（自 {local_text(min(stale.values()), seconds=False)} "
                  f"起有新导入），结果仍是更新前的；请先运行 govmedia score --from {min(stale)} --to {max(stale)}",
                  highlight=False)


def _actor() -> str:
    """Who the audit log names for a command: the operating-system user."""
    import getpass

    try:
        return f"命令行:{getpass.getuser()}"
    except (KeyError, OSError):
        return "命令行"


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )


# --------------------------------------------------------------------------- import


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="文件或目录（目录下的所有 CSV/XLSX/JSON/JSONL 文件）"),
    format: str = typer.Option("auto", "--format", "-f",
                               help="auto | generic | weibo-crawler | mediacrawler | wechat-exporter"),
    account: Optional[str] = typer.Option(None, "--account", help="平台:账号ID，如 weibo:1234567890"),
    rejects_dir: Optional[Path] = typer.Option(None, "--rejects-dir", help="拒收行文件写到此目录（默认在输入文件旁）"),
    forms: Optional[Path] = typer.Option(None, "--forms", help="形式关键词文件（默认内置 forms.toml）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出结果"),
    no_rescore: bool = typer.Option(False, "--no-rescore", help="导入后不自动重新计算受影响月份的分数"),
) -> None:
    """导入发布内容（微博、微信公众号、抖音）及其互动数据。网站运行时也可导入：每个文件单独写入，其间网站照常响应。"""
    from govmedia.ingest import ImportInterrupted, import_path
    from govmedia.scoring import rescore_months

    with _progress() as progress:
        overall = progress.add_task("导入", total=None)

        def on_files(done: int, total: int, name: str) -> None:
            progress.update(overall, total=total, completed=done,
                            description=f"导入 {Path(name).name}" if name else "导入完成")

        def on_rows(name: str, done: int, total: int) -> None:
            progress.update(overall, description=f"导入 {Path(name).name}（{done:,}/{total:,} 行）")

        try:
            summary = import_path(_writing, path, format=format, account=account, rejects_dir=rejects_dir,
                                  forms_path=forms, progress=on_rows, files_progress=on_files, actor=_actor())
        except ImportInterrupted as exc:
            raise _interrupted_import(exc, no_rescore) from exc
        rescored = []
        if summary.months and not no_rescore:
            progress.update(overall, description="重新计算受影响月份的分数")
            with _writing(declared=True) as con:
                rescored = rescore_months(con, summary.months, actor=_actor())
    if as_json:
        out.print_json(data={
            "accepted": summary.accepted, "rejected": summary.rejected, "unchanged": summary.unchanged,
            "files": [{
                "path": str(f.path), "format": f.format, "accepted": f.accepted, "rejected": f.rejected,
                "unchanged": f.unchanged, "batch_id": f.batch_id, "error": f.error, "skipped": f.skipped,
                "rejects_file": str(f.rejects_path) if f.rejects_path else None,
            } for f in summary.files],
            "months": summary.months,
            "rescored": [{"from": r.months[0], "to": r.months[-1], "rows": r.rows} for r in rescored],
        })
    else:
        for f in summary.files:
            if f.error:
                err.print(f"[red]错误[/red] {f.path}: {fill(f.error_template or f.error, OPTION_NAMES, CLI_STEPS)}",
                          highlight=False)
                continue
            if f.skipped:
                out.print(f"跳过 {f.path}: {f.skipped}", highlight=False)
                continue
            out.print(
                f"{f.path} [{f.format}]  接受 accepted {f.accepted}  拒收 rejected {f.rejected}  "
                f"未变化 unchanged {f.unchanged}", highlight=False,
            )
            for reject in f.rejects[:5]:
                where = f"第 {reject.line} 行" + (f" 列「{reject.column}」" if reject.column else "")
                out.print(f"  · {where}: {reject.reason}", highlight=False)
            if f.rejected > 5:
                out.print(f"  · …… 其余 {f.rejected - 5} 行见拒收文件", highlight=False)
            if f.rejects_path:
                out.print(f"  拒收行已写入 {f.rejects_path}", highlight=False)
        if len(summary.files) > 1:
            out.print(
                f"合计: 接受 accepted {summary.accepted}  拒收 rejected {summary.rejected}  "
                f"未变化 unchanged {summary.unchanged}", highlight=False,
            )
        for r in rescored:
            span = r.months[0] if len(r.months) == 1 else f"{r.months[0]} 至 {r.months[-1]}"
            out.print(f"已重新计算 {span} 的分数（{r.methodology.name}，{r.rows} 行）", highlight=False)
        if summary.months and no_rescore:
            out.print(f"未重新计算分数：{summary.months[0]} 至 {summary.months[-1]} 中有变化的月份需运行 govmedia score",
                      highlight=False)
    raise typer.Exit(summary.exit_code)


def _interrupted_import(exc, no_rescore: bool) -> UserError:
    """An import stopped after some files were committed: rescore their months (unless told not
    to) and say what was kept."""
    from govmedia.scoring import rescore_months

    months = exc.summary.months
    later = f"运行 govmedia score --from {months[0]} --to {months[-1]}" if months else ""
    rescored = None if no_rescore else True
    try:
        with _writing(declared=True) as con:
            exc.record(con)  # the audit entry, if the store refused it when the import stopped
            if months and not no_rescore:
                rescore_months(con, months, actor=_actor())
    except Exception:  # noqa: BLE001 - the months stay stale and the line says so
        rescored = None if no_rescore else False
    return UserError(exc.told(rescored, later))


@app.command("watch")
def watch_command(
    directory: Path = typer.Argument(..., help="爬虫的输出目录（如 MediaCrawler 的 data/、weibo-crawler 的 weibo/、微信导出目录）"),
    interval: float = typer.Option(2.0, "--interval", help="每隔多少秒查看一次目录"),
    settle: float = typer.Option(3.0, "--settle", help="文件多少秒不再变化才算写完"),
    once: bool = typer.Option(False, "--once", help="处理目录中现有的文件后退出（不持续监视）"),
    no_rescore: bool = typer.Option(False, "--no-rescore", help="导入后不自动重新计算受影响月份的分数"),
) -> None:
    """监视爬虫输出目录：新的或有变化的导出文件写完后自动导入（拒收行同 govmedia import），并重新计算受影响月份的分数。
    已导入过且内容未变的文件跳过，重启后不会重复导入。按 Ctrl+C 停止。"""
    import logging
    import threading

    from govmedia.ingest.watch import watch
    from govmedia.scoring import rescore_months

    # A file that fails unforeseen is one line below (on_pick_up); its traceback, which the watcher
    # logs for a site's server log, is not for this terminal.
    logging.getLogger("govmedia.ingest.watch").propagate = False
    logging.getLogger("govmedia.ingest.watch").addHandler(logging.NullHandler())

    def on_pick_up(picked) -> None:
        if picked.error:
            err.print(f"错误 {picked.path}: {fill(picked.error_template or picked.error, OPTION_NAMES, CLI_STEPS)}", markup=False,
                      highlight=False)
            return
        if picked.skipped:
            return  # already imported, or not a content file: nothing to say every time
        s = picked.summary
        report = s.files[0]
        out.print(f"{picked.path} [{report.format}]  接受 {s.accepted}  拒收 {s.rejected}  未变化 {s.unchanged}",
                  highlight=False)
        if report.rejects_path:
            out.print(f"  拒收行已写入 {report.rejects_path}", highlight=False)
        if s.months and not no_rescore:
            try:
                with _writing(declared=True) as con:
                    for r in rescore_months(con, s.months, actor=_actor()):
                        out.print(f"  已重新计算 {r.months[0]} 至 {r.months[-1]} 的分数（{r.rows} 行）", highlight=False)
            except Exception as exc:  # noqa: BLE001 - the watcher goes on; the months stay stale
                words = exc.render(OPTION_NAMES, CLI_STEPS) if isinstance(exc, UserError) else "数据库或文件写入出错"
                err.print(f"  未能重新计算 {s.months[0]} 至 {s.months[-1]} 的分数：{words}；"
                          f"稍后请运行 govmedia score --from {s.months[0]} --to {s.months[-1]}", markup=False,
                          highlight=False)

    if not directory.is_dir():
        raise UserError(f"{directory}: 目录不存在（请检查要监视的爬虫输出目录）")
    if not once:
        out.print(f"监视 {directory}（每 {interval:g} 秒查看；按 Ctrl+C 停止）", highlight=False)
    watch(_writing, directory, actor=_actor(), on_pick_up=on_pick_up, stop=threading.Event(), interval=interval,
          settle=settle, once=once)


# --------------------------------------------------------------------------- accounts


@accounts_app.command("import")
def accounts_import(
    file: Path = typer.Argument(..., help="账号名录 CSV 或 XLSX"),
    rejects_dir: Optional[Path] = typer.Option(None, "--rejects-dir"),
) -> None:
    """导入/更新账号名录（按 平台+账号ID 更新）。"""
    from govmedia.ingest.accounts import import_accounts
    from govmedia.ingest.rejects import write_rejects

    with _writing() as con:
        table, result, rejects = import_accounts(con, file, _actor())
    path = write_rejects(table.path, table, rejects, rejects_dir)
    out.print(
        f"{file}: 新增 {result.inserted}  更新 {result.updated}  未变化 {result.unchanged}  拒收 {len(rejects)}",
        highlight=False,
    )
    for reject in rejects[:10]:
        out.print(f"  · 第 {reject.line} 行 列「{reject.column}」: {reject.reason}", highlight=False)
    if path:
        out.print(f"  拒收行已写入 {path}", highlight=False)
    raise typer.Exit(1 if rejects else 0)


def _set_active(account: str, active: bool, on: Optional[str]) -> None:
    from govmedia.core.vocabulary import PLATFORM_NAMES
    from govmedia.ingest.accounts import set_account_active
    from govmedia.store.accounts import resolve_account

    with _writing() as con:
        platform, account_id = resolve_account(con, account)
        after, result = set_account_active(con, platform, account_id, active, _actor(), on)
    who = f"账号 {after['name']}（{PLATFORM_NAMES[platform]} {account_id}）"
    if not result.updated:
        out.print(f"{who}没有变化", highlight=False)
    elif active:
        out.print(f"{who}已启用", highlight=False)
    else:
        out.print(f"{who}已停用，停用日期 {after['deactivated_on']}：此日之后开始的期间不再排名、计数", highlight=False)


@accounts_app.command("deactivate")
def accounts_deactivate(
    account: str = typer.Argument(..., help="名录中的名称，或 平台:账号ID（如 weibo:1234567890）"),
    on: Optional[str] = typer.Option(None, "--date", help="停用日期 YYYY-MM-DD（默认今天，北京时间）"),
) -> None:
    """停用账号：停用日期之后开始的期间不再排名、不计入账号数；之前的期间不变。"""
    _set_active(account, False, on)


@accounts_app.command("activate")
def accounts_activate(
    account: str = typer.Argument(..., help="名录中的名称，或 平台:账号ID（如 weibo:1234567890）"),
) -> None:
    """重新启用已停用的账号（清除停用日期）。"""
    _set_active(account, True, None)


@accounts_app.command("list")
def accounts_list(
    platform: Optional[str] = typer.Option(None, "--platform", help=" | ".join(PLATFORMS)),
    category: Optional[str] = typer.Option(None, "--category", help="district | livelihood | comprehensive"),
    format: str = typer.Option("table", "--format", help="table | csv | json"),
) -> None:
    """列出已登记的账号。"""
    from govmedia.core.vocabulary import CATEGORY_NAMES, parse_category
    from govmedia.core.vocabulary import PLATFORM_NAMES, parse_platform
    from govmedia.store.accounts import list_accounts

    try:
        platform = parse_platform(platform) if platform else None
    except ValueError as exc:
        raise FieldError("platform", platform, str(exc)) from exc
    try:
        category = parse_category(category) if category else None
    except ValueError as exc:
        raise FieldError("category", category, str(exc)) from exc
    with _reading() as con:
        rows = list_accounts(con, platform=platform, category=category)
    if format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=2) + "\n")
        return
    if format == "csv":
        _write_csv(rows, ["platform", "account_id", "name", "category", "organization", "region", "followers",
                          "active", "opened_at", "deactivated_on", "posts"])
        return
    if format != "table":
        raise UserError(f"未知输出格式 {format!r}（可用: table、csv、json）")
    table = RichTable(title=f"账号名录（{len(rows)} 个）")
    for column in ("平台", "账号ID", "名称", "类别", "主办单位", "地区", "粉丝数", "状态", "内容数"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(PLATFORM_NAMES[r["platform"]], r["account_id"], r["name"], CATEGORY_NAMES[r["category"]],
                      r["organization"] or "", r["region"] or "",
                      "" if r["followers"] is None else f"{r['followers']:,}",
                      "启用" if r["active"] else f"停用 {r['deactivated_on'] or ''}".strip(), f"{r['posts']:,}")
    out.print(table)


def _write_csv(rows: list[dict], columns: list[str]) -> None:
    from govmedia.export import to_csv

    sys.stdout.write(to_csv(rows, columns))  # inert cells, like every CSV we write


# --------------------------------------------------------------------------- db


@db_app.command("export")
def db_export(directory: Path = typer.Argument(..., help="目标目录")) -> None:
    """把每张表导出为 DIR/<表名>.parquet（供 Spark 等引擎使用）。"""
    from govmedia.store import export_tables

    with _reading() as con:
        counts = export_tables(con, directory)
    for table, count in counts.items():
        out.print(f"{table}: {count:,} 行 -> {directory / (table + '.parquet')}", highlight=False)


@db_app.command("import")
def db_import(directory: Path = typer.Argument(..., help="含 <表名>.parquet 的目录")) -> None:
    """用 DIR 中的 Parquet 文件整体替换数据库内容（一个事务）。"""
    from govmedia.store import import_tables

    with _writing() as con:
        counts = import_tables(con, directory)
    for table, count in counts.items():
        out.print(f"{table}: {count:,} 行", highlight=False)


@db_app.command("info")
def db_info() -> None:
    """数据库概况：结构版本、各表行数、最近的导入批次。"""
    from govmedia.store import schema_version
    from govmedia.store.reads import recent_batches, table_counts
    from govmedia.store.settings import methodology_summary

    with _reading() as con:
        out.print(f"数据库: {state.db or 'govmedia.duckdb'}  结构版本 {schema_version(con)}", highlight=False)
        in_force = methodology_summary(con)
        if in_force:
            out.print(f"现行方法: {in_force['name']}（{in_force['source']}，sha256 {in_force['sha256']}）", highlight=False)
        else:
            out.print("现行方法: 内置 GMI-1（尚未用其他方法计算分数）", highlight=False)
        for table, count in table_counts(con).items():
            out.print(f"  {table}: {count:,}", highlight=False)
        batches = [(b["batch_id"], b["file_name"], b["format"], b["imported_at"], b["accepted"], b["rejected"],
                    b["unchanged"]) for b in recent_batches(con, 10)]
    if batches:
        table = RichTable(title="最近的导入批次")
        for column in ("批次", "文件", "格式", "时间(UTC)", "接受", "拒收", "未变化"):
            table.add_column(column)
        for b in batches:
            table.add_row(str(b[0]), b[1], b[2], b[3].strftime("%Y-%m-%d %H:%M"), str(b[4]), str(b[5]), str(b[6]))
        out.print(table)


# --------------------------------------------------------------------------- evaluation inputs

FROM_OPTION = typer.Option(..., "--from", help="起始月份 YYYY-MM")
TO_OPTION = typer.Option(..., "--to", help="结束月份 YYYY-MM（含）")


def _report_small_import(file: Path, table, saved: int, rejects, rejects_dir, what: str) -> None:
    from govmedia.ingest.rejects import write_rejects

    path = write_rejects(table.path, table, rejects, rejects_dir)
    out.print(f"{file}: {what} 保存 {saved}  拒收 {len(rejects)}", highlight=False)
    for reject in rejects[:10]:
        out.print(f"  · 第 {reject.line} 行 列「{reject.column}」: {reject.reason}", highlight=False)
    if path:
        out.print(f"  拒收行已写入 {path}", highlight=False)
    raise typer.Exit(1 if rejects else 0)


@cases_app.command("import")
def cases_import(file: Path = typer.Argument(..., help="案例表 CSV/XLSX"),
                 rejects_dir: Optional[Path] = typer.Option(None, "--rejects-dir")) -> None:
    """导入创新案例（按案例编号新增或修改）。列: case_id, title, month, category, unit, score, platform, account_ids,
    text, post_ids, hashtags。修改已有案例时，空白单元格保留已存的值（文件不会清空任何值；要清空请在网站「编辑」中勾选「清空」）。"""
    from govmedia.ingest.evaluation import import_cases

    with _writing() as con:
        table, saved, rejects = import_cases(con, file, _actor())
    _report_small_import(file, table, saved, rejects, rejects_dir, "案例")


@cases_app.command("list")
def cases_list(format: str = typer.Option("table", "--format", help="table | csv | json")) -> None:
    """列出创新案例。"""
    from govmedia.store.evaluation import list_cases

    with _reading() as con:
        rows = list_cases(con)
    columns = ["case_id", "title", "month", "category", "unit", "score", "platform", "account_ids", "post_ids", "hashtags"]
    _emit(rows, columns, format, None, ("编号", "标题", "月份", "类别", "单位", "得分", "平台", "账号", "相关内容", "话题"),
          "创新案例")


@campaigns_app.command("import")
def campaigns_import(file: Path = typer.Argument(..., help="联动宣传表 CSV/XLSX"),
                     rejects_dir: Optional[Path] = typer.Option(None, "--rejects-dir")) -> None:
    """导入联动宣传（按编号新增或修改）。列: campaign_id, name, start, end, hashtags（以 ; 分隔，不带 #）。
    修改已有联动宣传时，空白的话题单元格保留已存的话题。"""
    from govmedia.ingest.evaluation import import_campaigns

    with _writing() as con:
        table, saved, rejects = import_campaigns(con, file, _actor())
    _report_small_import(file, table, saved, rejects, rejects_dir, "联动宣传")


@campaigns_app.command("list")
def campaigns_list(format: str = typer.Option("table", "--format", help="table | csv | json")) -> None:
    """列出联动宣传。"""
    from govmedia.store.evaluation import list_campaigns

    with _reading() as con:
        rows = list_campaigns(con)
    _emit(rows, ["campaign_id", "name", "start", "end", "hashtags"], format, None,
          ("编号", "名称", "开始", "结束", "话题"), "联动宣传")


@participations_app.command("import")
def participations_import(file: Path = typer.Argument(..., help="参与记录 CSV/XLSX"),
                          rejects_dir: Optional[Path] = typer.Option(None, "--rejects-dir")) -> None:
    """导入明确登记的参与记录。列: campaign_id, platform, account_id, month。"""
    from govmedia.ingest.evaluation import import_participations

    with _writing() as con:
        table, saved, rejects = import_participations(con, file, _actor())
    _report_small_import(file, table, saved, rejects, rejects_dir, "参与记录")


# --------------------------------------------------------------------------- scoring and rankings


def _emit(rows, columns, format, target, headers, title, digits: dict[str, int] | None = None) -> None:
    from govmedia.export import write_rows

    from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES

    names = {"platform": PLATFORM_NAMES, "category": CATEGORY_NAMES}

    def render(rows):
        table = RichTable(title=f"{title}（{len(rows)} 行）")
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            cells = []
            for column in columns:
                value = row.get(column)
                if isinstance(value, float):
                    value = f"{value:.{(digits or {}).get(column, 2)}f}"
                elif column in names:  # people read 微博 and 区级; the csv and json keep the codes
                    value = names[column].get(value, value)
                cells.append("" if value is None else str(value))
            table.add_row(*cells)
        out.print(table)

    write_rows(rows, columns, format, target, render_table=render)
    if target is not None:
        err.print(f"已写入 {target}", highlight=False)


@app.command("score")
def score_command(
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="方法文件（默认库中现行的方法，初始为内置 gmi-1.toml）"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb | spark"),
    parquet: Optional[Path] = typer.Option(None, "--parquet", help="Spark: govmedia db export 写出的目录"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Spark: 分数写入的 Parquet 目录（默认 DIR/spark_scores）"),
) -> None:
    """计算并保存每个已登记账号的月度分数（默认用库中现行的方法；--methodology 指定的方法从此成为现行方法）。"""
    from govmedia.scoring import score

    # Declared: the scorer says which months it changed (everything when the methodology changes).
    with (_writing(declared=True) if engine == "duckdb" else nullcontext()) as con, _progress() as progress:
        progress.add_task(f"计算 {start} … {end}（{engine}）", total=None)
        result = score(con, start, end, methodology=methodology, engine=engine, parquet_dir=parquet, out=out_dir,
                       actor=_actor())
    where = f"，写入 {result.output}" if result.output else ""
    out.print(
        f"已计算 {len(result.months)} 个月、{result.rows} 行分数（{result.methodology.name}，sha256 "
        f"{result.methodology.sha256[:12]}…，引擎 {result.engine}）{where}", highlight=False,
    )
    if result.undefined:
        from govmedia.core.vocabulary import PLATFORM_NAMES

        names = "、".join(PLATFORM_NAMES[p] for p in result.undefined)
        err.print(f"注意：方法文件 {result.methodology.source} 未定义{names}的计算项，这些账号均得 0 分；"
                  f"请用新版方法文件重新计算：govmedia score --methodology 方法文件 --from … --to …", highlight=False)


@scores_app.command("export")
def scores_export(
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    format: str = typer.Option("csv", "--format", help="csv | json | parquet"),
    output: Optional[Path] = typer.Option(None, "--out", help="输出文件（parquet 必需）"),
) -> None:
    """导出月度分数（未取整）。"""
    from govmedia.ranking import SCORE_EXPORT_COLUMNS, export_scores

    if format not in ("csv", "json", "parquet"):
        raise UserError(f"未知输出格式 {format!r}（可用: csv、json、parquet）")
    with _reading() as con:
        rows = export_scores(con, start, end)
        _warn_stale(con, start, end)
    _emit(rows, SCORE_EXPORT_COLUMNS, format, output, (), "")


@app.command("rank")
def rank_command(
    platform: str = typer.Option(..., "--platform", help=" | ".join(PLATFORMS)),
    category: str = typer.Option(..., "--category", help="district | livelihood | comprehensive"),
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    top: Optional[int] = typer.Option(None, "--top", help="只列前 N 名（并列者一并列出）"),
    intervals: bool = typer.Option(False, "--intervals", help="加 90% 自助法区间：得分上下限、名次上下限"),
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out", help="输出文件（xlsx 必需）"),
) -> None:
    """分类榜单：按期间总分排名（竞争排名 1,2,2,4；同分按名称）。⚠ 标出含疑似刷量内容的账号。"""
    from govmedia.core.time import Period
    from govmedia.ranking import (FLAG_COLUMNS, FLAG_HEADERS, INTERVAL_COLUMNS, INTERVAL_HEADERS, NOTE_HEADERS,
                                  RANK_COLUMNS, RANK_HEADERS, rank)

    period = Period.parse(start, end)
    with _reading() as con:
        rows = rank(con, platform, category, start, end, top, intervals=intervals)
        _warn_stale(con, start, end)
    # Accounts without a post in the period follow the ranked ones: empty rank and figures, 备注 本期无数据.
    columns = [*RANK_COLUMNS, *FLAG_COLUMNS, *(INTERVAL_COLUMNS if intervals else ()), "note"]
    headers = {**RANK_HEADERS, **FLAG_HEADERS, **INTERVAL_HEADERS, **NOTE_HEADERS, "score": period.column}
    if format == "table":
        from govmedia.core.text import share

        for row in rows:  # the table says it in words; csv/json keep the numbers
            row["flagged_share"] = f"⚠ {share(row['flagged_share'])}" if row["flagged_posts"] else ""
        if intervals:  # the table says it beside the rank interval
            columns.remove("same_as")
            for row in rows:
                if row.get("same_as"):
                    row["rank_high"] = f"{row['rank_high']}（与第 {row['same_as']} 名无显著差别）"
        if not rows:
            from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES
            from govmedia.ranking import _category, _platform

            err.print(f"账号名录中没有{PLATFORM_NAMES[_platform(platform)]}{CATEGORY_NAMES[_category(category)]}账号；"
                      "请先用 govmedia accounts import 登记", highlight=False, markup=False)
    _emit(rows, columns, format, output, tuple(headers[c] for c in columns), "榜单")


@app.command("index")
def index_command(
    index: str = typer.Argument(..., help="wci | bci"),
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out"),
) -> None:
    """同行指数：WCI V14.2（微信）或 BCI（微博）。"""
    from govmedia.scoring.indices import INDEX_COLUMNS, compute_index

    index = index.lower()
    if index not in ("wci", "bci"):
        raise UserError(f"未知指数 {index!r}（可用: wci、bci）")
    with _reading() as con:
        rows = compute_index(con, index, start, end)
        _warn_stale(con, start, end)
    _emit(rows, [*INDEX_COLUMNS, index], format, output, ("平台", "账号ID", "名称", index.upper()), index.upper())


@app.command("explain")
def explain_command(
    account: str = typer.Argument(..., metavar="账号", help="名录中的名称，或 平台:账号ID（如 weibo:1234567890）"),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="方法文件（TOML）；默认用库中现行的方法"),
) -> None:
    """解释某账号某月的分数：每个原始数值、变换、归一化最大值与加权贡献。"""
    from govmedia.core.time import Month
    from govmedia.scoring.explain import explain
    from govmedia.store.accounts import resolve_account

    Month.parse(month)
    with _reading() as con:
        try:
            platform, account_id = resolve_account(con, account)
        except FieldError as exc:  # the account is this command's argument, not an option
            raise UserError(exc.render({**OPTION_NAMES, "account": "账号"}), exc.exit_code) from exc
        explanation = explain(con, platform, account_id, month, methodology)
        _warn_stale(con, month)
    for line in explanation.lines():
        out.print(line, highlight=False)


@app.command("anomalies")
def anomalies_command(
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    platform: Optional[str] = typer.Option(None, "--platform", help=" | ".join(PLATFORMS)),
    category: Optional[str] = typer.Option(None, "--category", help="district | livelihood | comprehensive"),
    summary: bool = typer.Option(False, "--summary", help="按账号和月份汇总：异常内容数及其占比"),
    thresholds: Optional[Path] = typer.Option(None, "--thresholds", help="刷量阈值文件（默认现行方法的，初始为内置 anomalies.toml）"),
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="方法文件；默认用库中现行的方法"),
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out", help="输出文件（xlsx 必需）"),
) -> None:
    """疑似刷量：阅读/播放与互动不成比例、转发猛增而无评论点赞、两次观测之间猛增的内容，附依据。"""
    from govmedia.ranking.anomalies import (ANOMALY_COLUMNS, ANOMALY_HEADERS, SUMMARY_COLUMNS, SUMMARY_HEADERS,
                                              anomaly_summary, find_anomalies)

    with _reading() as con:
        if summary:
            rows = anomaly_summary(con, start, end, platform=platform, category=category, thresholds=thresholds,
                                   methodology=methodology)
            columns, headers, title = SUMMARY_COLUMNS, SUMMARY_HEADERS, "疑似刷量（按账号和月份）"
        else:
            rows = find_anomalies(con, start, end, platform=platform, category=category, thresholds=thresholds,
                                  methodology=methodology)
            columns, headers, title = ANOMALY_COLUMNS, ANOMALY_HEADERS, "疑似刷量内容"
    if format == "table":
        from govmedia.core.vocabulary import METRIC_NAMES

        for row in rows:  # people read 阅读 and 转发突增无评论; the csv and json keep the codes
            row["kind"] = row.get("kind_name", row.get("kind"))
            if "metric" in row:
                row["metric"] = METRIC_NAMES.get(row["metric"], row["metric"])
            if "flagged_share" in row:
                row["flagged_share"] = f"{row['flagged_share']:.1%}"
    if format == "table" and not rows:
        err.print("本期间没有内容被判为疑似刷量。", highlight=False)
    _emit(rows, list(columns), format, output, tuple(headers[c] for c in columns), title, {"severity": 3})


@app.command("whatif")
def whatif_command(
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    weights: Optional[str] = typer.Option(None, "--weights", help="传播力,互动力,创新力,影响力 的权重，和为 1，如 0.4,0.3,0.15,0.15"),
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="另一个方法文件（与现行方法比较）"),
    platform: Optional[str] = typer.Option(None, "--platform", help=" | ".join(PLATFORMS)),
    category: Optional[str] = typer.Option(None, "--category", help="district | livelihood | comprehensive"),
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out", help="输出文件（xlsx 必需）"),
) -> None:
    """换一组权重或另一个方法文件，各类榜单的名次会怎样变（不保存任何分数）。"""
    from govmedia.core.vocabulary import CATEGORY_NAMES, PLATFORM_NAMES
    from govmedia.ranking import _category, _platform
    from govmedia.ranking.whatif import WHATIF_COLUMNS, WHATIF_HEADERS, parse_weights, whatif

    if (weights is None) == (methodology is None):
        raise UserError("请给出 --weights（四个权重）或 --methodology（另一个方法文件）之一")
    with _reading() as con:
        rows = whatif(con, start, end, weights=parse_weights(weights) if weights is not None else None,
                      methodology=methodology,
                      platform=_platform(platform) if platform else None,
                      category=_category(category) if category else None)
        _warn_stale(con, start, end)
    if format != "table":
        _emit(rows, list(WHATIF_COLUMNS), format, output, (), "")
        return
    boards: dict[tuple, list] = {}
    for row in rows:
        boards.setdefault((row["platform"], row["category"]), []).append(row)
    for (p, c), board in boards.items():
        moved = [r for r in board if r["change"]]
        top_now = [r["name"] for r in sorted(board, key=lambda r: r["rank"])[:3]]
        top_then = [r["name"] for r in board[:3]]
        out.print(f"{PLATFORM_NAMES[p]}·{CATEGORY_NAMES[c]}：{len(board)} 个账号中 {len(moved)} 个名次变化，"
                  f"前三名{'不变' if top_now == top_then else '变为 ' + '、'.join(top_then)}", highlight=False)
    changed = [dict(r, change=f"{'↑' if r['change'] > 0 else '↓'}{abs(r['change'])}") for r in rows if r["change"]]
    if changed:
        _emit(changed, list(WHATIF_COLUMNS), format, output, tuple(WHATIF_HEADERS[c] for c in WHATIF_COLUMNS),
              "名次变化的账号")


@app.command("city-index")
def city_index_command(
    file: Path = typer.Argument(..., help="含 城市、传播力、服务力、互动力 列的表（可有 榜单 列）"),
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out"),
) -> None:
    """人民日报·政务指数 城市竞争力：0.30×传播力 + 0.35×服务力 + 0.35×互动力。"""
    from govmedia.ingest.city import read_city_table
    from govmedia.ranking.city import CITY_COLUMNS, city_index

    components, rejects = read_city_table(file)
    rows = city_index(components)
    for reject in rejects:
        err.print(f"第 {reject.line} 行 列「{reject.column}」: {reject.reason}", highlight=False)
    _emit(rows, CITY_COLUMNS, format, output, ("榜单", "排名", "城市", "传播力", "服务力", "互动力", "竞争力指数"),
          "城市政务微博竞争力")
    if rejects:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- reports

REPORT_FORMATS_OPTION = typer.Option("docx,pdf,html,xlsx", "--format", help="docx,pdf,html,xlsx 中的一个或几个，逗号分隔")


def _write_report(model, out_dir: Path, formats: list[str], began: float) -> None:
    """Write the formats; `began` is when gathering the data started, for the total time."""
    import time

    from govmedia.reports import write_report

    timings: dict[str, float] = {}
    with _progress() as progress:
        progress.add_task(f"写出 {', '.join(formats)}", total=None)
        started = time.perf_counter()
        paths = write_report(model, out_dir, formats, timings)
    for fmt, path in paths.items():
        out.print(f"已写入 {path}（{timings[fmt]:.1f} 秒）", highlight=False)
    err.print(f"写出 {time.perf_counter() - started:.1f} 秒，合计 {time.perf_counter() - began:.1f} 秒", highlight=False)


@app.command("report")
def report_command(
    start: str = FROM_OPTION,
    end: str = TO_OPTION,
    out_dir: Path = typer.Option(..., "--out", help="输出目录：report.docx、report.pdf、report.html、rankings.xlsx"),
    format: str = REPORT_FORMATS_OPTION,
    title: Optional[str] = typer.Option(None, "--title", help="报告标题（默认「YYYY年政务新媒体传播影响力报告」）"),
    compare_previous_year: bool = typer.Option(False, "--compare-previous-year",
                                               help="发展概况列出上年同期数与同比（上年数据已导入时）"),
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="计算分数时使用的方法文件（默认库中现行的方法）"),
    awards: Optional[Path] = typer.Option(None, "--awards", help="获奖名单 CSV/XLSX（列：奖项、名称），列入附件"),
    excellent: Optional[str] = typer.Option(None, "--excellent",
                                            help="附件「优秀政务新媒体账号」每个平台的个数：微博,微信,抖音（默认 18,18,15）"),
    settings_file: Optional[Path] = typer.Option(None, "--settings",
                                                 help="报告设置 TOML（城市、单位、自撰章节…）；默认用库中保存的设置"),
) -> None:
    """年度报告（白皮书）：发展概况、指标说明、榜单与点评、优秀传播范例、附件；Word、PDF、HTML 与 Excel。"""
    import time

    from govmedia.reports import build_report, parse_formats, prepare_out_dir
    from govmedia.ingest.awards import read_awards
    from govmedia.reports.model import parse_excellent
    from govmedia.reports.settings import load_settings, stored_settings

    formats = parse_formats(format)
    counts = parse_excellent(excellent) if excellent else None
    award_lists = read_awards(awards) if awards else []
    settings = load_settings(settings_file) if settings_file else None
    _require_store()
    prepare_out_dir(out_dir)
    with _reading() as con:
        started = time.perf_counter()
        model = build_report(con, start, end, title=title, compare_previous_year=compare_previous_year,
                             methodology=methodology, awards=award_lists, excellent=counts,
                             settings=settings or stored_settings(con))
        _warn_stale(con, start, end)
    err.print(f"数据与图表 {time.perf_counter() - started:.1f} 秒", highlight=False)
    _write_report(model, out_dir, formats, started)


@app.command("bulletin")
def bulletin_command(
    month: str = typer.Option(..., "--month", help="月份 YYYY-MM"),
    out_dir: Path = typer.Option(..., "--out", help="输出目录"),
    format: str = REPORT_FORMATS_OPTION,
    title: Optional[str] = typer.Option(None, "--title"),
    compare_previous_year: bool = typer.Option(False, "--compare-previous-year"),
    methodology: Optional[Path] = typer.Option(None, "--methodology"),
    awards: Optional[Path] = typer.Option(None, "--awards"),
    settings_file: Optional[Path] = typer.Option(None, "--settings", help="报告设置 TOML；默认用库中保存的设置"),
) -> None:
    """月榜：一个月的概况、各类榜单与点评、当月案例；Word、PDF、HTML 与 Excel。"""
    import time

    from govmedia.reports import build_bulletin, parse_formats, prepare_out_dir
    from govmedia.ingest.awards import read_awards
    from govmedia.reports.settings import load_settings, stored_settings

    formats = parse_formats(format)
    award_lists = read_awards(awards) if awards else []
    settings = load_settings(settings_file) if settings_file else None
    _require_store()
    prepare_out_dir(out_dir)
    with _reading() as con:
        started = time.perf_counter()
        model = build_bulletin(con, month, title=title, methodology=methodology, awards=award_lists,
                               compare_previous_year=compare_previous_year, settings=settings or stored_settings(con))
        _warn_stale(con, month)
    _write_report(model, out_dir, formats, started)


report_settings_app = typer.Typer(help="报告设置：城市、标题、指导与出品单位、发布月份、自撰章节。", no_args_is_help=True)
app.add_typer(report_settings_app, name="report-settings")


@report_settings_app.command("import")
def report_settings_import(file: Path = typer.Argument(..., metavar="设置文件", help="报告设置 TOML（章节文件相对于它）")) -> None:
    """检查并保存报告设置：之后 govmedia report 与网站生成报告都用它。"""
    from govmedia.reports.settings import load_settings, save_settings

    settings = load_settings(file)
    with _writing() as con:
        save_settings(con, settings, _actor())
    chapters = "、".join(f"{c.title}（{c.file}）" for c in settings.chapters) or "无"
    out.print(f"已保存报告设置：城市 {settings.city or '（未设）'}，自撰章节 {chapters}", highlight=False)


@report_settings_app.command("show")
def report_settings_show() -> None:
    """显示库中保存的报告设置（TOML）。"""
    from govmedia.reports.settings import EXAMPLE, stored_settings

    with _reading() as con:
        settings = stored_settings(con)
    if not settings.text:
        out.print("尚未保存报告设置，生成报告时使用默认设置。示例：", highlight=False)
        out.print(EXAMPLE, highlight=False, markup=False)
        return
    out.print(settings.text, highlight=False, markup=False)
    for c in settings.chapters:
        out.print(f"# 章节 {c.file}：{c.title}（{len(c.markdown):,} 字符）", highlight=False, markup=False)


# --------------------------------------------------------------------------- web


users_app = typer.Typer(help="网站用户：viewer（查看）、editor（编辑）、admin（管理员）。", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("密码: ")
        if getpass.getpass("再输入一次: ") != password:
            raise UserError("两次输入的密码不一致")
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option("viewer", "--role", help="viewer | editor | admin"),
) -> None:
    """新增用户或重设其密码与角色（其已登录的会话随之失效）；密码从标准输入读取（终端中会提示输入）。"""
    from govmedia.store.users import add_user, check_password

    password = _read_password()
    check_password(password, name)  # before waiting for the store
    with _writing(data=False) as con:
        add_user(con, name, password, role, actor=_actor())
    out.print(f"用户 {name}（{role}）已保存", highlight=False)


def _change_user(door, said: str, *args) -> None:
    """A user's record changed through its store door (which audits it), then said in one line."""
    with _writing(data=False) as con:
        door(con, *args, actor=_actor())
    out.print(said, highlight=False)


@users_app.command("role")
def users_role(name: str = typer.Argument(..., help="用户名"),
               role: str = typer.Option(..., "--role", help="viewer | editor | admin")) -> None:
    """修改用户的角色；该用户已登录的会话随之失效，需重新登录。"""
    from govmedia.store.users import ROLE_NAMES, set_role

    _change_user(set_role, f"用户 {name} 的角色已改为{ROLE_NAMES.get(role, role)}；其已登录的会话已失效", name, role)


@users_app.command("password")
def users_password(name: str = typer.Argument(..., help="用户名")) -> None:
    """重设用户的密码（从标准输入读取）；该用户已登录的会话随之失效。"""
    from govmedia.store.users import check_password, set_password

    password = _read_password()
    check_password(password, name)
    with _writing(data=False) as con:
        set_password(con, name, password, actor=_actor())
    out.print(f"用户 {name} 的密码已重设；其已登录的会话已失效", highlight=False)


@users_app.command("deactivate")
def users_deactivate(name: str = typer.Argument(..., help="用户名")) -> None:
    """停用用户：不能再登录，已登录的会话立即失效。"""
    from govmedia.store.users import set_active

    _change_user(set_active, f"用户 {name} 已停用；其已登录的会话已失效", name, False)


@users_app.command("activate")
def users_activate(name: str = typer.Argument(..., help="用户名")) -> None:
    """重新启用已停用的用户。"""
    from govmedia.store.users import set_active

    _change_user(set_active, f"用户 {name} 已启用", name, True)


@users_app.command("end-sessions")
def users_end_sessions(name: str = typer.Argument(..., help="用户名")) -> None:
    """结束该用户的所有会话：其所有浏览器中的登录立即失效（密码与角色不变）。"""
    from govmedia.store.users import end_sessions

    _change_user(end_sessions, f"已结束用户 {name} 的所有会话", name)


@users_app.command("list")
def users_list() -> None:
    """列出用户。"""
    from govmedia.store.users import list_users

    with _reading() as con:
        rows = list_users(con)
    _emit(rows, ["username", "role", "active", "created_at"], "table", None, ("用户名", "角色", "启用", "创建时间"), "用户")


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    private: bool = typer.Option(False, "--private", help="只读页面也要求登录（默认公开，榜单本就是公开发布的）"),
    methodology: Optional[Path] = typer.Option(None, "--methodology", help="网站显示与重新计算分数时使用的方法文件（默认库中现行的方法）"),
    create: bool = typer.Option(False, "--create", help="数据库不存在时新建一个空库（新的安装）"),
    watch: Optional[Path] = typer.Option(None, "--watch", help="同时监视爬虫输出目录，新的或有变化的导出文件写完后自动导入并更新分数"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, max=32,
                                          help="网站进程数（默认为 CPU 核数，最多 4；环境变量 GOVMEDIA_WORKERS）"),
) -> None:
    """启动网站（中文界面与 REST API /api/v1）。命令行、爬虫导入可与网站同时使用同一数据库。"""
    from govmedia.web import serve

    path = _path()
    if not path.exists():
        if not create:
            raise UserError(f"数据库文件不存在: {path}（请检查 --db 或环境变量 GOVMEDIA_DB；新建空库请加 --create）")
        err.print(f"已新建数据库 {path}", highlight=False)
    out.print(f"网站: http://{host}:{port}/  （数据库 {path}；按 Ctrl+C 停止）", highlight=False)
    if watch is not None:
        out.print(f"监视目录: {watch}", highlight=False)
    serve(path, host, port, workers=_workers(workers), require_login=private or None, methodology=methodology,
          watch=watch)


def _workers(given: int | None) -> int:
    """How many site processes: as given, else GOVMEDIA_WORKERS, else one per CPU up to 4."""
    import os

    if given is not None:
        return given
    value = os.environ.get("GOVMEDIA_WORKERS", "").strip()
    if value:
        if not value.isdigit() or not 1 <= int(value) <= 32:
            raise UserError(f"环境变量 GOVMEDIA_WORKERS 应为 1 到 32 的整数，而不是 {value!r}")
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo_command(
    directory: Path = typer.Option(Path("demo-output"), "--dir", help="演示数据与结果的目录"),
    no_serve: bool = typer.Option(False, "--no-serve", help="结束后不启动网站"),
    seed: int = typer.Option(2020, "--seed", help="随机种子（同一种子生成同一份数据）"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """生成南京演示数据集（真实导出格式），登记账号、导入、评分、写出 2020年2-11月 报告（DIR/report/），然后启动网站。"""
    from govmedia.demo import run_demo

    with _writing() as con:
        with _progress() as progress:
            task = progress.add_task("演示", total=None)

            def step(message: str) -> None:
                progress.update(task, description=message)
                err.print(f"· {message}", highlight=False)

            result = run_demo(con, directory, seed=seed, on_step=step, report_dir=directory / "report")
    out.print(result.summary(), highlight=False)
    if not no_serve:
        from govmedia.web import serve

        path = _path()
        out.print(f"网站: http://{host}:{port}/  （按 Ctrl+C 停止；只生成数据不启动网站请用 --no-serve）", highlight=False)
        serve(path, host, port)


# --------------------------------------------------------------------------- oversight (合规检查)

CHECK_COLUMNS = ["platform", "account_id", "name", "region", "category", "last_post_at", "days_without_update",
                 "status", "verdict", "reasons", "alert", "alert_date", "alert_message", "opened_at", "posts_window",
                 "original_share", "user_comments", "answered", "response_share", "median_response_hours",
                 "serious_errors", "sensitive_words", "check_at"]
CHECK_FINDING_COLUMNS = ["platform", "account_id", "post_id", "published_at", "kind", "field", "matched",
                         "correction", "category", "note", "excerpt", "start_offset", "check_at"]


@app.command("check")
def check_command(
    at: Optional[str] = typer.Option(None, "--at", help="检查点 YYYY-MM-DD（当日 0 时，北京时间）；默认为数据覆盖的最后一天之后一日"),
    quarter: Optional[str] = typer.Option(None, "--quarter", help="季度 YYYYQn：在季度末（下季度第一天 0 时）检查"),
    format: str = typer.Option("table", "--format", help="table | csv | json | xlsx"),
    output: Optional[Path] = typer.Option(None, "--out", help="输出文件（xlsx 必需）"),
    rules: Optional[Path] = typer.Option(None, "--rules", help="规则文件（默认内置 rules.toml）"),
    alert_days: Optional[int] = typer.Option(None, "--alert-days", help="预警天数 N（默认取规则文件）"),
    summary: bool = typer.Option(False, "--summary", help="输出各地区 × 类别的合格率"),
    findings: bool = typer.Option(False, "--findings", help="输出内容问题（严重表述错误、敏感词）明细"),
    stored: bool = typer.Option(False, "--stored", help="不重新检查，读取已保存的检查结果"),
    yes: bool = typer.Option(False, "--yes", help="检查点晚于数据覆盖的最后一天时不再询问，仍然检查"),
    delete: bool = typer.Option(False, "--delete", help="删除该检查点已保存的检查结果（记入审计日志）"),
) -> None:
    """合规检查：更新（睡眠、僵尸）、原创、互动回应、内容错误，逐账号结论与合格率；结果保存在数据库中。"""
    from govmedia.oversight import (
        PASS_RATE_COLUMNS, alert_message, check_findings, coverage_warning, data_end, delete_check, load_rules,
        parse_check_point, quarter_check_point, run_check, stored_check, summarize,
    )

    if at is not None and quarter is not None:
        raise UserError("--at 与 --quarter 只能用一个")
    if format not in ("table", "csv", "json", "xlsx"):
        raise UserError(f"未知输出格式 {format!r}（可用: table、csv、json、xlsx）")
    if at is None and quarter is None:
        with _reading() as con:
            end = data_end(con)
        if end is None:
            raise UserError("库中还没有内容数据；先导入数据，或用 --at YYYY-MM-DD 指定检查点")
        at = end.isoformat()
        err.print(f"检查点 {at}（数据覆盖的最后一天之后一日；可用 --at 指定）", highlight=False)
    point = quarter_check_point(quarter) if quarter else parse_check_point(at)
    if delete:
        with _writing() as con:
            delete_check(con, point, actor=_actor())
        err.print(f"已删除 {point.isoformat()} 的检查结果", highlight=False)
        return
    if stored:
        with _reading() as con:
            run, rows = stored_check(con, point)
            found = check_findings(con, point)
        counts = (run["inspected"], run["passed"], run["inactive"], run["not_open"])
        rules_name = run["rules_name"]
    else:
        loaded = load_rules(rules, alert_days=alert_days)
        with _reading() as con:
            warning = coverage_warning(con, point)
        if warning and not yes:  # a false pass rate is one command away: ask first
            if not sys.stdin.isatty():
                raise UserError(f"{warning}确需在此日期检查，请加 --yes")
            err.print(warning, highlight=False)
            if not typer.confirm("仍然在此日期检查？", default=False):
                raise typer.Exit(1)
        with _writing() as con:
            with _progress() as progress:
                progress.add_task(f"检查 {point.isoformat()}", total=None)
                result = run_check(con, point, loaded, actor=_actor())
        rows, found = result.rows, result.findings
        counts = (result.inspected, result.passed, result.inactive, result.not_open)
        rules_name = loaded.name
    for row in rows:
        row["alert_message"] = alert_message(row)
        row["last_post_at"] = _local_time(row["last_post_at"])
    for item in found:
        item["published_at"] = _local_time(item["published_at"])
    rates = summarize(rows, ("region", "category"), point)
    inspected, passed, inactive, not_open = counts
    label = f"{point.isoformat()}" + (f"（{quarter}）" if quarter else "")
    headline = (f"检查点 {label} 0时（北京时间），规则 {rules_name}：检查 {inspected} 个账号，合格 {passed} 个，"
                f"合格率 {f'{passed / inspected:.1%}' if inspected else '—'}；预警 {sum(1 for r in rows if r['alert'])} 个；"
                f"停用未检查 {inactive} 个，检查点时尚未开通 {not_open} 个")
    if format == "xlsx":
        if output is None:
            raise UserError("xlsx 格式需要用 --out 指定输出文件")
        _check_workbook(output, rows, rates, found)
        err.print(f"{headline}\n已写入 {output}", highlight=False)
        return
    if summary:
        if format == "table":  # what people read: Chinese category names and percentages
            from govmedia.core.vocabulary import CATEGORY_NAMES

            rates = [{**r, "category": CATEGORY_NAMES.get(r["category"], r["category"]),
                      "pass_rate": "—" if r["pass_rate"] is None else f"{r['pass_rate']:.1%}"} for r in rates]
        _emit(rates, PASS_RATE_COLUMNS, format, output,
              ("检查点", "地区", "类别", "检查数", "合格数", "合格率", "睡眠", "僵尸", "从未更新", "预警"), "合格率",
              digits={"pass_rate": 3})
    elif findings:
        _emit(found, CHECK_FINDING_COLUMNS, format, output,
              ("平台", "账号ID", "内容ID", "发布时间", "类型", "位置", "匹配", "建议", "类别", "说明", "上下文",
               "偏移", "检查点"), "内容问题")
    elif format == "table":
        from govmedia.core.vocabulary import CATEGORY_NAMES
        from govmedia.core.vocabulary import PLATFORM_NAMES
        from govmedia.oversight import STATUS_NAMES

        table = RichTable(title=f"合规检查 {label}（{len(rows)} 个账号，预警在前）")
        for column in ("平台", "账号ID", "名称", "地区", "类别", "上次更新", "未更新天数", "状态", "结论", "原因 / 预警"):
            table.add_column(column, overflow="fold")
        for r in rows:
            why = "；".join(x for x in (r["alert_message"], r["reasons"]) if x)
            table.add_row(PLATFORM_NAMES.get(r["platform"], r["platform"]), r["account_id"], r["name"],
                          r["region"] or "", CATEGORY_NAMES.get(r["category"], r["category"]),
                          (r["last_post_at"] or "")[:16].replace("T", " "),
                          "" if r["days_without_update"] is None else str(r["days_without_update"]),
                          STATUS_NAMES[r["status"]], r["verdict"], why)
        out.print(table)
    else:
        _emit(rows, CHECK_COLUMNS, format, output, (), "")
    if format == "table":
        out.print(headline, highlight=False)


def _local_time(value):
    """Stored UTC -> ISO-8601 in Beijing time with its offset (what users read)."""
    from datetime import datetime

    from govmedia.core.time import local_iso

    if not isinstance(value, datetime):
        return value
    return local_iso(value)


def _check_workbook(path: Path, rows, rates, found) -> None:
    from govmedia.export import to_xlsx_sheets
    from govmedia.oversight import PASS_RATE_COLUMNS

    to_xlsx_sheets([("检查结果", rows, CHECK_COLUMNS), ("合格率", rates, PASS_RATE_COLUMNS),
                    ("内容问题", found, CHECK_FINDING_COLUMNS)], path)


def usage_message(exc: click.UsageError) -> str:
    """Click's English usage errors as one Chinese line, naming the option as typed on the command line."""
    ctx = exc.ctx
    names, here = [], ctx
    while here is not None and here.parent is not None:  # the root's name is however it was started
        names.append(here.info_name)
        here = here.parent
    command = " ".join(["govmedia", *reversed(names)])
    help_hint = f"（用 {command} --help 查看用法）"
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        names = "/".join(exc.param.opts) if exc.param.param_type_name == "option" else exc.param.name.upper()
        what = "选项" if exc.param.param_type_name == "option" else "参数"
        return f"缺少{what} {names}{help_hint}"
    if isinstance(exc, click.NoSuchOption):
        hint = f"；是不是 {'、'.join(sorted(exc.possibilities))}？" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{hint}{help_hint}"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        names = "/".join(exc.param.opts) if exc.param.opts else exc.param.name
        return f"{names} 的值不正确：{_click_detail(exc.message)}{help_hint}"
    text = exc.message
    unknown = re.match(r"No such command '(.+?)'", text)
    if unknown:
        commands = sorted(ctx.command.list_commands(ctx)) if ctx and hasattr(ctx.command, "list_commands") else []
        close = difflib.get_close_matches(unknown[1], commands, n=1)
        hint = f"；是不是 {close[0]}？" if close else f"；可用命令：{'、'.join(commands)}"
        return f"没有命令 {unknown[1]}{hint}"
    extra = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", text)
    if extra:
        return f"多余的参数：{extra[1]}{help_hint}"
    if text.startswith("Option '") and "requires an argument" in text:
        return f"选项 {text.split(chr(39))[1]} 后面要写一个值{help_hint}"
    return f"命令用法不正确：{_click_detail(text)}{help_hint}"


def _click_detail(message: str) -> str:
    """The value part of a Click message, in Chinese where Click said it in English."""
    match = re.match(r"'(.*)' is not a valid (integer|float|boolean)", message)
    if match:
        kinds = {"integer": "整数", "float": "数字", "boolean": "是/否（true/false）"}
        return f"{match[1]!r} 不是{kinds[match[2]]}"
    match = re.match(r"'(.*)' is not one of (.+)\.", message)
    if match:
        return f"{match[1]!r} 不在可选值 {match[2]} 之中"
    match = re.match(r"(?:File|Path|Directory) '(.*)' does not exist", message)
    if match:
        return f"{match[1]} 不存在"
    return message


# Typer's help speaks English: its panel titles and markers are module settings, set here; the
# rest (the usage line, the help option's text, type tags) is translated as it is written.
HELP_SETTINGS = {"OPTIONS_PANEL_TITLE": "选项", "COMMANDS_PANEL_TITLE": "命令", "ARGUMENTS_PANEL_TITLE": "参数",
                 "ERRORS_PANEL_TITLE": "错误", "REQUIRED_LONG_STRING": "[必填]", "DEFAULT_STRING": "[默认: {}]",
                 "ENVVAR_STRING": "[环境变量: {}]", "ABORTED_TEXT": "已取消。", "DEPRECATED_STRING": "(已弃用) "}
HELP_WORDS = (("Show this message and exit.", "显示本帮助并退出。"),)
_TYPE_TAG = re.compile(r"<(?:str|int|float|bool|path|text|integer|choice|datetime|file|uuid|filename)>|"
                       r"\b(?:TEXT|INTEGER|FLOAT|PATH|BOOLEAN|FILENAME|DIRECTORY)\b(?= |$)")


def translate_help(text: str) -> str:
    """Help text in Chinese, each line as wide on screen as before (the panels' borders stay put)."""
    from rich.cells import cell_len

    if "Usage: " not in text and not any(en in text for en, _ in HELP_WORDS) and not _TYPE_TAG.search(text):
        return text
    text = re.sub(r"^(\s*)Usage: (.*)$", lambda m: m[1] + "用法：" + m[2].replace("[OPTIONS]", "[选项]").replace(
        "COMMAND", "命令").replace("[ARGS]", "[参数]"), text, flags=re.M)
    for en, zh in HELP_WORDS:
        text = text.replace(en, zh + " " * max(0, cell_len(en) - cell_len(zh)))
    return _TYPE_TAG.sub(lambda m: " " * len(m.group(0)), text)


class _ChineseHelp:
    """stdout, with Typer's help translated on its way out (everything else passes unchanged)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(translate_help(text) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _help_in_chinese() -> None:
    from typer import rich_utils

    for name, value in HELP_SETTINGS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, value)
    if not isinstance(sys.stdout, _ChineseHelp):
        sys.stdout = _ChineseHelp(sys.stdout)


def main() -> None:
    _help_in_chinese()
    try:
        result = app(prog_name="govmedia", standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except click.NoArgsIsHelpError as exc:  # the help is shown already
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        err.print(f"错误: {usage_message(exc)}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        err.print("已取消。", highlight=False)
        sys.exit(1)
    except click.ClickException as exc:
        err.print(f"错误: {_click_detail(exc.format_message())}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except UserError as exc:  # FieldError too: the field named as its option
        err.print(f"错误: {exc.render(OPTION_NAMES, CLI_STEPS)}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("已中断；数据库保持中断前的状态。", highlight=False)
        sys.exit(130)
    except BrokenPipeError:  # `govmedia rank … | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when stdout is flushed at exit
        sys.exit(1)
    except OSError as exc:  # a full disk, no permission: one line, not a traceback
        failed = write_failed(exc, "操作未完成")
        where = f"（{exc.filename}）" if getattr(exc, "filename", None) else ""
        err.print(f"错误: {failed}{where}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(failed.exit_code)
    except Exception as exc:
        duckdb = sys.modules.get("duckdb")  # not imported for --help: the CLI starts fast
        if duckdb is None or not isinstance(exc, duckdb.Error):
            raise
        err.print(f"错误: {store_write_failed(exc)}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
