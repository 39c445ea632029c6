"""The demo: a synthetic Nanjing data set (the account set of the 2020 white paper) written in the
real tools' export formats, registered and imported like a user would, then checked against the
white paper's published totals.

- `generate(directory, seed)` writes DIR/accounts.xlsx and DIR/exports/… (same seed, same bytes).
- `run_demo(con, directory, seed=…, on_step=…)` generates, registers the accounts, imports every
  export file and runs `facts_check` on the store.
- `facts_check(con)` compares the store's 2020-02..11 totals with seed_facts.csv.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from govmedia.demo.accounts import PLATFORM_LABELS, DemoAccount
from govmedia.demo.facts import FactCheck, account_totals, facts_check, platform_totals
from govmedia.demo.generate import FORMAT_LABELS, GeneratedSet, generate

__all__ = ["DemoResult", "FactCheck", "GeneratedSet", "DemoAccount", "account_totals", "facts_check", "generate",
           "platform_totals", "run_demo"]


@dataclass
class DemoResult:
    directory: Path
    database: str | None
    generated: GeneratedSet
    accounts: dict[str, int]  # platform -> accounts in the store
    accounts_rejected: int
    files: int
    accepted: int
    rejected: int
    unchanged: int
    file_errors: list[str]
    posts: dict[str, int]  # platform -> posts in the store
    facts: list[FactCheck]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.accounts_rejected and not self.file_errors and all(
            f.within() for f in self.facts)

    def summary(self) -> str:
        lines = ["演示数据集：南京市政务新媒体（2020年白皮书账号集，账号名单与得分来自公开榜单，内容与数值为模拟生成）"]
        lines.append(f"数据库：{self.database or '（内存）'}")
        lines.append(f"数据文件：{self.directory.resolve()}（账号名录 {self.generated.registry.name}，"
                     f"导出文件 {self.generated.exports.name}/，随机种子 {self.generated.seed}）")
        lines.append("账号：" + "，".join(f"{PLATFORM_LABELS[p]} {self.accounts.get(p, 0)} 个"
                                          for p in ("weibo", "wechat", "douyin")))
        lines.append("导出格式：" + "；".join(
            f"{FORMAT_LABELS[k]} {self.generated.files_per_format.get(k, 0)} 个文件 {n:,} 行"
            for k, n in self.generated.rows.items()))
        lines.append(f"导入：{self.files} 个文件，接受 {self.accepted:,} 行，拒收 {self.rejected} 行，"
                     f"未变化 {self.unchanged:,} 行；内容 " + "，".join(
                         f"{PLATFORM_LABELS[p]} {self.posts.get(p, 0):,} 条" for p in ("weibo", "wechat", "douyin")))
        for error in self.file_errors:
            lines.append(f"  错误：{error}")
        lines.append("校准检查（2020年2月1日至11月30日，按快照规则从数据库统计，对照白皮书）：")
        width = max(_cells(f.label) for f in self.facts) + 2 if self.facts else 20
        lines.append(f"  {_pad('指标', width)}{_pad_left('目标', 14)}{_pad_left('实际', 16)}{_pad_left('偏差', 10)}")
        for f in self.facts:
            if f.unit == "ratio":
                target, actual = f"{f.target:.2f}", f"{f.actual:.2f}"
            elif f.unit == "比例":
                target, actual = f"{f.target:.0%}", f"{f.actual:.0%}"
            else:
                target, actual = f"{f.target:,.0f}", f"{f.actual:,.0f}"
            mark = "" if f.within() else "  ✗"
            detail = f"  {f.detail}" if f.detail else ""
            lines.append(f"  {_pad(f.label, width)}{target:>14}{actual:>16}{f.deviation:>+10.2%}{mark}{detail}")
        s = self.seconds
        lines.append(f"耗时：生成 {s.get('generate', 0):.1f} 秒，登记账号 {s.get('accounts', 0):.1f} 秒，"
                     f"导入 {s.get('import', 0):.1f} 秒，校准检查 {s.get('facts', 0):.1f} 秒，"
                     f"合计 {s.get('total', 0):.1f} 秒")
        return "\n".join(lines)


def _cells(text: str) -> int:
    """Terminal width of text: CJK characters take two cells."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _cells(text))


def _pad_left(text: str, width: int) -> str:
    return " " * max(1, width - _cells(text)) + text


def run_demo(
    con: duckdb.DuckDBPyConnection,
    directory: str | Path,
    *,
    seed: int = 2020,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate the data set in `directory`, register its accounts, import its files, check the facts."""
    from govmedia.ingest import import_path
    from govmedia.ingest.accounts import read_accounts
    from govmedia.store.accounts import upsert_accounts

    step = on_step or (lambda message: None)
    directory = Path(directory)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    step(f"生成演示数据（随机种子 {seed}）……")
    generated = generate(directory, seed, on_step=step)
    seconds["generate"] = generated.seconds

    mark = time.perf_counter()
    step(f"登记账号名录 {generated.registry}")
    _, rows, rejects = read_accounts(generated.registry)
    upsert_accounts(con, rows)
    seconds["accounts"] = time.perf_counter() - mark

    mark = time.perf_counter()
    step(f"导入 {len(generated.files)} 个导出文件……")
    done_files: set[str] = set()

    def progress(name: str, done: int, total: int) -> None:
        if done == total and name not in done_files:
            done_files.add(name)
            if len(done_files) % 50 == 0:
                step(f"已导入 {len(done_files)} 个文件……")

    summary = import_path(con, generated.exports, progress=progress)
    seconds["import"] = time.perf_counter() - mark
    step(f"导入完成：接受 {summary.accepted:,} 行，拒收 {summary.rejected} 行，未变化 {summary.unchanged:,} 行")

    mark = time.perf_counter()
    step("校准检查：按快照规则统计 2020年2—11月 数据……")
    facts = facts_check(con)
    seconds["facts"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started

    database = None
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if row and row[0]:
        database = str(Path(row[0]).resolve())
    accounts = dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall())
    posts = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1").fetchall())
    imported = [f for f in summary.files if not f.skipped]
    return DemoResult(
        directory=directory, database=database, generated=generated, accounts=accounts,
        accounts_rejected=len(rejects), files=len(imported), accepted=summary.accepted, rejected=summary.rejected,
        unchanged=summary.unchanged, file_errors=[f.error for f in summary.files if f.error], posts=posts,
        facts=facts, seconds=seconds,
    )
