"""The report's content, gathered once from the store; every writer (DOCX, HTML, PDF, XLSX) renders
this model and nothing else, so the four formats cannot disagree.

`build_report(con, start, end, …)` is the annual white paper (sections 01, 02 and 05 of the 2020
white paper); `build_bulletin(con, month, …)` the monthly bulletin (月榜). Both call the same
library functions as the CLI and the web (ranking.rank, ranking.overview, store.evaluation); no
scoring SQL lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import duckdb

from govmedia.core.errors import FieldError, UserError
from govmedia.core.vocabulary import (
    CASE_CATEGORIES, CATEGORIES, CATEGORY_NAMES, FORM_LABELS, METRIC_NAMES, PLATFORM_NAMES, PLATFORMS, PROFILES,
)
from govmedia.methodology import (COMPUTED_DIMENSIONS, DIMENSION_NAMES, DIMENSIONS, FEATURE_NAMES, Methodology,
                                  resolve)
from govmedia.methodology import stored as stored_methodology
from govmedia.ranking import NO_DATA, rank, ranked, require_scored
from govmedia.ranking.overview import (INTERACTIONS, account_totals, million_follower_accounts, overview,
                                       comparison_missing, period_column, period_label, previous_period,
                                       scored_months)
from govmedia.reports import charts
from govmedia.reports import markdown as md
from govmedia.reports.fonts import CJK_FAMILY, require_cjk_font
from govmedia.reports.settings import DEFAULT as DEFAULT_SETTINGS
from govmedia.reports.settings import ReportSettings
from govmedia.core.time import Month, Period, local_date, months_between, utcnow
from govmedia.core.text import tight, share
from govmedia.store.evaluation import case_figures, list_cases

DISTRICT = "district"
TOP_OTHERS = 15  # the white paper: every district account, the Top 15 of the other categories
DEFAULT_EXCELLENT = {code: p.excellent for code, p in PROFILES.items()}
PLATFORM_NOUNS = {code: p.noun for code, p in PROFILES.items()}
ACCOUNT_NOUNS = {code: p.account_noun for code, p in PROFILES.items()}
INTERACTION_LABELS = {code: p.interaction_label for code, p in PROFILES.items()}
CHINESE_NUMBERS = "一二三四五六七八九十"


# --------------------------------------------------------------------------- labels


def mention(platform: str, name: str) -> str:
    return f"@{name}" if platform == "weibo" else f"“{name}”"


def pct(value: float) -> str:
    return f"{value:+.1%}"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (chapter numbers)."""
    tens, ones = divmod(n, 10)
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    return (CHINESE_NUMBERS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMBERS[ones - 1] if ones else "")


def amount(value: float, style: str = "chinese") -> str:
    """A count in the report's prose: 1.3亿, 23.6万, 8,370 (style "chinese"), or 130,000,000 ("plain")."""
    if style == "plain" or abs(value) < 10_000:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    unit, size = ("亿", 1e8) if abs(value) >= 1e8 else ("万", 1e4)
    text = f"{value / size:.1f}".rstrip("0").rstrip(".")
    return text + unit


# --------------------------------------------------------------------------- model


@dataclass
class Chart:
    key: str  # file-safe id
    title: str
    png: bytes


@dataclass
class Block:
    """A free block of the overview (title, paragraphs, optional table): other features (the
    oversight summary) add theirs through `build_report(..., overview_blocks=[...])`."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _oversight_blocks(con: duckdb.DuckDBPyConnection, start: str, end: str) -> list[Block]:
    """The stored inspection checks of the period (合规检查), as the white paper's overview reports them."""
    from govmedia.oversight import report_overview

    return [Block(**item) for item in report_overview(con, start, end)]


# Functions (con, start, end) -> list[Block] whose blocks every report's overview includes, after
# the figures and the trend chart — the place for other features' summaries.
OVERVIEW_SOURCES: tuple[Callable[[duckdb.DuckDBPyConnection, str, str], list[Block]], ...] = (_oversight_blocks,)


@dataclass
class Figure:
    label: str
    value: int
    previous: int | None = None

    @property
    def growth(self) -> float | None:
        if not self.previous:
            return None
        return self.value / self.previous - 1


@dataclass
class PlatformOverview:
    platform: str
    name: str
    figures: list[Figure]


@dataclass
class Overview:
    platforms: list[PlatformOverview]
    compare: bool  # year-on-year columns requested
    previous_label: str
    paragraphs: list[str]
    million: list[dict]
    trend: Chart | None
    blocks: list[Block] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return ["平台", "指标", "本期"] + (["上年同期", "同比"] if self.compare else [])

    def table_rows(self) -> list[list[str]]:
        """The overview table as text cells (DOCX, HTML and PDF print the same strings)."""
        rows = []
        for p in self.platforms:
            for f in p.figures:
                cells = [p.name, f.label, f"{f.value:,}"]
                if self.compare:
                    cells.append("—" if f.previous is None else f"{f.previous:,}")
                    cells.append("—" if f.growth is None else pct(f.growth))
                rows.append(cells)
        return rows


@dataclass
class DimensionText:
    dimension: str
    name: str
    weight: float
    paragraphs: list[str]  # in words, for the body
    formulas: list[str] = field(default_factory=list)  # for the appendix (方法附录)


@dataclass
class MethodologyText:
    name: str
    title: str
    sha256: str
    source: str
    intro: list[str]
    dimensions: list[DimensionText]
    rules: list[str]
    appendix: list[str] = field(default_factory=list)  # formulas, normalisation, the file's name and hash

    @property
    def file_name(self) -> str:
        return Path(self.source).name if self.source else self.name


@dataclass
class Ranking:
    platform: str
    category: str
    title: str
    column: str  # "2-11月"
    rows: list[dict]  # the printed cut: `rank(..., top=15)` for non-district categories
    full: list[dict]  # every ranked account (the workbook)
    top: int | None
    commentary: list[str]
    chart: Chart | None
    silent: list[dict] = field(default_factory=list)  # accounts without a post in the period: listed after, unranked

    @property
    def anchor(self) -> str:
        return f"rank-{self.platform}-{self.category}"

    @property
    def sheet(self) -> str:
        return f"{PLATFORM_NAMES[self.platform]}-{CATEGORY_NAMES[self.category]}"

    def table_rows(self) -> list[list[str]]:
        # ⚠: the account's figures in the period include posts flagged as possibly inflated (the commentary says more).
        # Accounts without a post are listed after the ranked ones (the uncut tables only), without rank.
        return [[str(r["rank"]), r["name"] + (" ⚠" if r.get("flagged_posts") else ""), f"{r['score']:.2f}"]
                for r in self.rows] + [["", r["name"], NO_DATA] for r in (self.silent if self.top is None else ())]


@dataclass
class CaseGroup:
    category: str
    cases: list[dict]


@dataclass
class Annex:
    title: str
    groups: list[tuple[str, list[str]]]  # (sub-heading or "", entries)
    numbered: bool = True  # entries as a numbered list; else joined with 、 like the white paper's account lists


@dataclass
class OfficeChapter:
    """A chapter the office wrote (Markdown), rendered once for every writer."""
    key: str  # "office-1"
    title: str
    place: str
    markdown: str
    html: str
    headings: list[md.Heading]


@dataclass
class ReportModel:
    kind: str  # "annual" | "bulletin"
    title: str
    subtitle: str
    start: str
    end: str
    label: str  # "2020年2-11月"
    column: str  # "2-11月"
    generated: str  # ISO date
    font: str
    overview: Overview
    methodology: MethodologyText
    rankings: list[Ranking]
    cases: list[CaseGroup]
    annexes: list[Annex]
    notes: list[str] = field(default_factory=list)
    city: str = ""
    guiding_units: tuple[str, ...] = ()
    producing_units: tuple[str, ...] = ()
    published: str = ""  # "2020年12月"
    cover_color: str = "#b3261e"
    office: list[OfficeChapter] = field(default_factory=list)
    sections: tuple[str, ...] = ("overview", "methodology", "rankings", "cases", "annexes")

    def chapters(self) -> list[tuple[str, str]]:
        """(key, title) in order, generated and office chapters as the settings place them; writers
        dispatch on the key. Chapters are numbered 一、二、… except the office's chapters placed
        before the data (a 绪论 or 前言 stands before the numbered chapters, as in the white paper)."""
        keys: list[tuple[str, str]] = []

        def office(place: str) -> None:
            keys.extend((c.key, c.title) for c in self.office if c.place == place)

        office("before-data")
        leading = len(keys)
        if "overview" in self.sections:
            keys.append(("overview", "发展概况"))
        office("after-overview")
        if "methodology" in self.sections:
            keys.append(("methodology", "指标说明"))
        if "rankings" in self.sections:
            keys.append(("rankings", "榜单与点评"))
        office("after-rankings")
        if "cases" in self.sections and (self.cases or self.kind == "annual"):
            keys.append(("cases", "优秀传播范例"))
        office("after-cases")
        if "annexes" in self.sections and self.annexes:
            keys.append(("annexes", "附件（获奖名单）"))
        office("end")
        if "methodology" in self.sections:
            keys.append(("appendix", "方法附录"))
        return [(k, t if i < leading else f"{chinese_number(i - leading + 1)}、{t}") for i, (k, t) in enumerate(keys)]

    PAGE_BREAK_BEFORE = ("overview", "rankings", "annexes", "appendix")

    def breaks_page(self, key: str) -> bool:
        return key in self.PAGE_BREAK_BEFORE or key.startswith("office-")

    def office_chapter(self, key: str) -> OfficeChapter:
        return next(c for c in self.office if c.key == key)

    def platform_rankings(self) -> list[tuple[str, str, list[Ranking]]]:
        """(platform, numbered sub-heading, its rankings)."""
        out = []
        for i, platform in enumerate(p for p in PLATFORMS if any(r.platform == p for r in self.rankings)):
            noun = PLATFORM_NOUNS[platform]
            out.append((platform, f"（{CHINESE_NUMBERS[i]}）{noun if noun.endswith('号') else noun + '号'}点评",
                        [r for r in self.rankings if r.platform == platform]))
        return out

    def charts(self) -> list[Chart]:
        return ([self.overview.trend] if self.overview.trend else []) + [r.chart for r in self.rankings if r.chart]

    def outline(self) -> list[tuple[int, str, str]]:
        """(level, anchor, text) of every heading, for the tables of contents."""
        out = []
        for key, title in self.chapters():
            out.append((1, f"ch-{key}", title))
            if key.startswith("office-"):
                out.extend((2, h.anchor, h.text) for h in self.office_chapter(key).headings if h.level == 2)
            if key == "rankings":
                for platform, heading, _ in self.platform_rankings():
                    out.append((2, f"rank-{platform}", heading))
            if key == "cases":
                for i, group in enumerate(self.cases, start=1):
                    out.append((2, f"cases-{i}", f"{i}. {group.category}"))
            if key == "annexes":
                for i, annex in enumerate(self.annexes):
                    out.append((2, f"annex-{i + 1}", annex.title))
        return out


# --------------------------------------------------------------------------- gathering


def parse_excellent(value: str | dict | None) -> dict[str, int]:
    """"18,18,15" (微博,微信,抖音, in the order of the platforms; those not named keep their default),
    "weibo=18,wechat=18,douyin=15" or one number for all."""
    if value is None:
        return dict(DEFAULT_EXCELLENT)
    if isinstance(value, dict):
        return {**DEFAULT_EXCELLENT, **value}
    parts = [p.strip() for p in str(value).replace("，", ",").split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            from govmedia.core.vocabulary import parse_platform

            result = dict(DEFAULT_EXCELLENT)
            for p in parts:
                key, _, number = p.partition("=")
                result[parse_platform(key.strip())] = int(number)
            counts = result
        elif len(parts) == 1:
            counts = {p: int(parts[0]) for p in PLATFORMS}
        elif 1 < len(parts) <= len(PLATFORMS):
            counts = {**DEFAULT_EXCELLENT, **dict(zip(PLATFORMS, (int(p) for p in parts)))}
        else:
            raise ValueError
    except ValueError as exc:
        raise FieldError("excellent", value, f"应写成 18,18,15（微博,微信,抖音）或 weibo=18,wechat=18,douyin=15，"
                        f"而不是 {value!r}") from exc
    if any(n < 0 for n in counts.values()):
        raise FieldError("excellent", value, "数目不能为负")
    return counts


def _check_methodology(con: duckdb.DuckDBPyConnection, months: list[str], m: Methodology) -> None:
    """The report describes the methodology that produced the stored scores, or refuses. Scores
    count as produced by `m` when the methodology that computed them scores their platform the
    same way (methodology.platform_sha256)."""
    rows = con.execute(
        "SELECT DISTINCT platform, methodology, methodology_sha256 FROM monthly_scores "
        "WHERE month IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2, 3", [months]).fetchall()
    other = []
    for platform, name, sha in rows:
        if sha == m.sha256:
            continue
        recorded = stored_methodology(con, sha)
        if recorded is None or not m.same_scores_as(recorded, platform):
            other.append((name, sha))
    if other:
        name, sha = other[0]
        raise FieldError(
            "methodology", m.source,
            f"库中这一期间的分数由方法 {name}（sha256 {sha[:12]}…）计算，与方法文件 {m.source}"
            f"（sha256 {m.sha256[:12]}…）不同：请指定计算分数时使用的方法文件（或不指定，使用库中现行的方法），"
            f"或先用该文件重新计算分数")


def _term_text(term) -> str:
    inner = " + ".join(FEATURE_NAMES[f] if c == 1 else f"{c:g} × {FEATURE_NAMES[f]}" for f, c in term.of)
    return f"ln(1 + {inner})" if term.weight == 1 else f"{term.weight:g} × ln(1 + {inner})"


def describe_methodology(m: Methodology) -> MethodologyText:
    """Section 01 指标说明, written from the methodology file itself."""
    names = "、".join(DIMENSION_NAMES[d] for d in DIMENSIONS)
    intro = [
        f"评价指标体系包括四个维度：{names}。各维度先按账号和月份计算原始值，再在同一平台、同一月份内"
        f"以最高者为{m.scale:g}分换算为得分，四个维度按权重相加得到月度总分；各维度的计算公式见方法附录。",
    ]
    dims = []
    for d in DIMENSIONS:
        paragraphs, formulas = [], []
        if d in COMPUTED_DIMENSIONS:
            for platform in PLATFORMS:
                terms = m.dimensions[platform][d]
                if not terms:
                    continue  # a platform this methodology file does not define
                data = list(dict.fromkeys(FEATURE_NAMES[f] for t in terms for f, _ in t.of))
                paragraphs.append(f"{PLATFORM_NOUNS[platform]}：根据{'、'.join(data)}计算。")
                formulas.append(f"{PLATFORM_NOUNS[platform]}{DIMENSION_NAMES[d]}原始值 = "
                                f"{' + '.join(_term_text(t) for t in terms)}")
            if d == "innovation":
                forms = "、".join(FORM_LABELS.get(f, f) for f in m.innovative_forms)
                text = f"创新产品指形式含{forms}之一的原创内容"
                for platform, excluded in m.excluded_forms.items():
                    if excluded:
                        text += f"（{PLATFORM_NAMES.get(platform, platform)}上不含" \
                                f"{'、'.join(FORM_LABELS.get(f, f) for f in excluded)}）"
                paragraphs.insert(0, text + "。")
        else:
            paragraphs.append("包括创新案例和联动宣传：当月记在该账号名下的创新案例得分，加上当月参与联动宣传的加分。"
                              "创新案例原则上只在一个主要平台加分，不重复加分。")
            formulas.append(f"影响力原始值 = 当月创新案例得分 × {m.case_points_factor:g}"
                            f" + {m.campaign_points:g} × 当月参与的不同联动宣传数")
        dims.append(DimensionText(d, DIMENSION_NAMES[d], m.total_weights[d], [tight(p) for p in paragraphs],
                                  formulas))
    weights = "、".join(f"{DIMENSION_NAMES[d]}{m.total_weights[d]:.0%}" for d in DIMENSIONS)
    days = f"（{m.window_hours / 24:g}天）" if m.window_hours % 24 == 0 else ""
    rules = [tight(r) for r in (
        f"内容按发布时间（北京时间）归入月份；互动数取发布后{m.window_hours:g}小时{days}内最后一次采集的数据。",
        f"月度总分由四个维度按权重相加：{weights}，满分{m.scale:g}分；期间得分为期间内各月总分之和。",
        "榜单按平台与类别（区级、民生、综合）分别排名，同分者名次相同，按名称排列。",
    )]
    appendix = [
        "原始值由若干项相加，每一项 = 权重 × ln(1 + 指标)；ln 为自然对数，使少数极高的数值不致压倒其余账号。",
        f"得分 = {m.scale:g} × 原始值 ÷ 当月该平台全部已登记账号原始值的最大值。",
        "月度总分 = " + " + ".join(f"{m.total_weights[d]:g} × {DIMENSION_NAMES[d]}" for d in DIMENSIONS) + "。",
        f"互动数取发布后 {m.window_hours:g} 小时内最后一次采集的快照；没有则取无日期快照，再没有则取最早的一次。",
        "名次为竞争排名（1, 2, 2, 4），同分按名称排列。",
    ]
    return MethodologyText(m.name, m.title, m.sha256, m.source, intro, dims, rules, appendix)


def _figures(platform: str, totals: dict, previous: dict | None, accounts: int) -> list[Figure]:
    def fig(label, keys):
        value = sum(totals[k] for k in keys)
        before = None if previous is None else sum(previous[k] for k in keys)
        return Figure(label, value, before)

    figures = [Figure("账号数", accounts), fig("发布数", ["posts"]), fig("原创数", ["originals"])]
    if platform == "weibo":
        figures.append(fig("转评量（转发+评论）", ["reposts", "comments"]))
    elif platform == "wechat":
        figures += [fig("阅读数", ["reads"]), fig("点赞+在看数", ["likes", "wows"])]
    else:  # what the platform counts as interactions, one by one (Douyin: the white paper's three)
        figures += [fig(f"{METRIC_NAMES[m]}数", [m]) for m in PROFILES[platform].interactions]
    return figures


def _overview(con, start: str, end: str, compare: bool, font: Path, m: Methodology,
              blocks: Sequence[Block | Callable], style: str = "chinese") -> Overview:
    label = period_label(start, end)
    totals = overview(con, start, end, m)
    previous_label = Period.parse(start, end).last_year().label
    platforms, paragraphs = [], []
    for t in totals:  # the platforms the office evaluates (`overview` leaves out the others)
        figures = _figures(t.platform, t.totals, t.previous if compare else None, t.accounts)
        platforms.append(PlatformOverview(t.platform, PLATFORM_NAMES[t.platform], figures))
        parts = [f"{label}，{ACCOUNT_NOUNS[t.platform]}{t.accounts:,}个，发布{amount(t.totals['posts'], style)}条，"
                 f"其中原创{amount(t.totals['originals'], style)}条"]
        for f in figures[3:]:
            text = f"{f.label}{amount(f.value, style)}次"
            if f.growth is not None:
                text += f"，同比{'增长' if f.growth >= 0 else '下降'}{abs(f.growth):.1%}"
            parts.append(text)
        sentence = "，".join(parts) + "。"
        if compare and t.previous is None:
            sentence += f"上年同期（{previous_label}）数据未导入，不计算同比。"
        paragraphs.append(tight(sentence))
    million = sorted(million_follower_accounts(con), key=lambda a: (PLATFORMS.index(a["platform"]), -a["followers"]))
    if million:
        by_platform = {}
        for a in million:
            by_platform.setdefault(a["platform"], []).append(mention(a["platform"], a["name"]))
        paragraphs.append("粉丝数达到百万级别的账号：" + "；".join(
            f"{PLATFORM_NAMES[p]} {'、'.join(names)}" for p, names in by_platform.items()) + "。")
    else:
        paragraphs.append("账号名录中没有粉丝数达到百万级别的账号。")
    trend = None
    if len(totals[0].monthly) > 1:
        panels = [{
            "platform": t.platform, "title": f"{PLATFORM_NOUNS[t.platform]}：月度发布数与{INTERACTION_LABELS[t.platform]}",
            "months": [m["month"] for m in t.monthly], "posts": [m["posts"] for m in t.monthly],
            "interactions": [m["interactions"] for m in t.monthly],
            "interaction_label": INTERACTION_LABELS[t.platform],
        } for t in totals]
        trend = Chart("trend", f"{label} 月度趋势", charts.trend_chart(font, panels))
    extra: list[Block] = []
    for item in (*OVERVIEW_SOURCES, *blocks):
        extra.extend(item(con, start, end) if callable(item) else [item])
    return Overview(platforms, compare, previous_label, paragraphs, million, trend, extra)


def _flag_words(row: dict, metric: str, discount: bool) -> str:
    """What a lead resting on flagged figures must say: 其 3 篇内容疑似刷量（占阅读 38%）…"""
    treated = "分数已按账号通常水平折算" if discount else "分数按原数计算"
    return (f"其{row['flagged_posts']}篇内容疑似刷量（占期间{metric}{share(row['flagged_share'])}），{treated}，"
            f"这一名次应结合核查结果看待")


def _commentary(platform: str, category: str, full: list[dict], previous: dict[str, int] | None,
                previous_label: str, totals: dict, column: str, multi_month: bool = True,
                style: str = "chinese", metric: str = "互动", discount: bool = False) -> list[str]:
    noun = f"{CATEGORY_NAMES[category]}{ACCOUNT_NOUNS[platform]}"
    if not full:
        return [f"{noun}在本期间均无发布内容，本期无数据。"]
    if not any(r["score"] > 0 for r in full):
        return [f"{noun}在本期间均无得分。"]
    out = []
    leaders = [r for r in full if r["rank"] == 1]
    who = "、".join(mention(platform, r["name"]) for r in leaders)
    sentence = f"在{noun}中，{who}{'并列' if len(leaders) > 1 else '位列'}榜首（{column}{leaders[0]['score']:.2f}分"
    leader = leaders[0]
    second = next((r for r in full if r["rank"] > 1), None)
    if second is not None and len(leaders) == 1:
        sentence += f"，领先第二名{mention(platform, second['name'])}{leader['score'] - second['score']:.2f}分"
    sentence += "）"
    summed = "期间合计 " if multi_month else ""
    strong = []
    for d in DIMENSIONS:
        mean = sum(r[d] for r in full) / len(full)
        if mean > 0 and leader[d] >= 1.1 * mean:
            best = max(r[d] for r in full)
            strong.append(f"{DIMENSION_NAMES[d]}（{summed}{leader[d]:.2f}，高于本类平均{leader[d] / mean - 1:.1%}"
                          f"{'，本类最高' if leader[d] >= best else ''}）")
    flagged = [r for r in leaders if r.get("flagged_posts")]
    if flagged:
        # Never praise a lead that rests on flagged figures without saying so.
        named = len(leaders) > 1  # with joint leaders, say whose figures are flagged
        sentence += "；" + "；".join((mention(platform, r["name"]) if named else "") + _flag_words(r, metric, discount)
                                    for r in flagged) + "。"
    elif strong:
        sentence += f"，其{'、'.join(strong)}在本类账号中优势明显。"
    else:
        sentence += "，各维度与本类平均水平相近。"
    out.append(sentence)
    if len(full) >= 3:
        out.append("前三名依次为" + "、".join(mention(platform, r["name"]) for r in full[:3]) + "。")
    if previous is None:  # not scored then: no period to compare with
        out.append(f"{previous_label}，不比较名次变化。")
    else:
        climbs = [(previous[r["account_id"]] - r["rank"], r) for r in full if r["account_id"] in previous]
        climbs = [c for c in climbs if c[0] > 0]
        if climbs:
            best = max(c[0] for c in climbs)
            climbers = [r for c, r in climbs if c == best]
            names = "、".join(f"{mention(platform, r['name'])}（由第{previous[r['account_id']]}名升至第{r['rank']}名"
                              f"{_why_up(r, full) if not r.get('flagged_posts') else '，' + _flag_words(r, metric, discount)}）"
                              for r in climbers[:3])
            more = f"等{len(climbers)}个账号" if len(climbers) > 3 else ""
            out.append(f"与上一期间（{previous_label}）相比，名次上升最多的是{names}{more}，上升{best}位。")
        else:
            out.append(f"与上一期间（{previous_label}）相比，本类没有账号名次上升。")
    marked = [r for r in full if r.get("flagged_posts")]
    if marked:
        listed = "、".join(f"{mention(platform, r['name'])}（{r['flagged_posts']}篇，占{metric}{share(r['flagged_share'])}）"
                          for r in marked[:5])
        more = f"等{len(marked)}个账号" if len(marked) > 5 else ""
        out.append(f"表中标⚠的账号期间有内容疑似刷量（阅读、播放或转发与其他互动明显不成比例，或两次观测之间猛增）："
                   f"{listed}{more}；{'分数已按账号通常水平折算' if discount else '分数按原数计算'}。")
    posts = sum(totals.get(r["account_id"], {}).get("posts", 0) for r in full)
    originals = sum(totals.get(r["account_id"], {}).get("originals", 0) for r in full)
    interactions = sum(sum(totals.get(r["account_id"], {}).get(k, 0) for k in INTERACTIONS[platform]) for r in full)
    out.append(f"本类共{len(full)}个账号，{'期间' if multi_month else '当月'}合计发布{amount(posts, style)}条"
               f"（原创{amount(originals, style)}条），{INTERACTION_LABELS[platform]}{amount(interactions, style)}次。")
    return [tight(p) for p in out]


def _why_up(row: dict, full: list[dict]) -> str:
    """The dimension in which a climber stands out most against its category's average."""
    best, lead = None, 0.0
    for d in DIMENSIONS:
        mean = sum(r[d] for r in full) / len(full)
        if mean > 0 and row[d] / mean - 1 > lead:
            best, lead = d, row[d] / mean - 1
    return f"，{DIMENSION_NAMES[best]}高于本类平均{lead:.1%}" if best and lead >= 0.1 else ""


def _rankings(con, start: str, end: str, font: Path, column: str, m: Methodology,
              settings: ReportSettings = DEFAULT_SETTINGS) -> list[Ranking]:
    before = previous_period(start, end)
    scored = set(scored_months(con))
    has_previous = all(m in scored for m in Period.parse(*before).months)
    before_label = period_label(*before)
    missing = comparison_missing(start, end)
    totals = account_totals(con, start, end, m)
    out = []
    for platform in PLATFORMS:
        mine = {aid: v for (p, aid), v in totals.items() if p == platform}
        for category in CATEGORIES:
            listed = rank(con, platform, category, start, end)
            if not listed:
                continue
            full = ranked(listed)
            silent = listed[len(full):]
            top = None if category == DISTRICT else settings.top
            rows = full if top is None else [r for r in full if r["rank"] <= top]  # as rank(..., top)
            previous = None
            if has_previous:
                previous = {r["account_id"]: r["rank"] for r in ranked(rank(con, platform, category, *before))}
            title = f"{settings.city}{CATEGORY_NAMES[category]}{ACCOUNT_NOUNS[platform]}排行榜"
            if top is not None and len(full) > len(rows):
                title += f"（前{top}名）"
            commentary = _commentary(platform, category, full, previous,
                                     before_label if previous is not None else missing,
                                     mine, column, start != end,
                                     settings.numbers, METRIC_NAMES.get(m.thresholds.volume_metric(platform) or "", "互动"),
                                     m.discount)
            chart = Chart(f"{platform}-{category}", title, charts.ranking_chart(
                font, title, [r["name"] for r in rows], [r["score"] for r in rows], f"{column}得分"))
            out.append(Ranking(platform, category, title, column, rows, full, top, commentary, chart, silent))
    return out


def _names(names: list[str], most: int = 3) -> str:
    shown = "、".join(f"@{n}" for n in names[:most])
    return shown + (f"等 {len(names)} 个账号" if len(names) > most else "")


def _reach(f: dict, style: str) -> list[str]:
    """'阅读量合计 3200万次', '播放量…', '互动量…' for the metrics the store observed."""
    parts = []
    if f["reads"]:
        parts.append(f"阅读量合计{amount(f['reads'], style)}次")
    if f["plays"]:
        parts.append(f"播放量合计{amount(f['plays'], style)}次")
    if f["interactions"]:
        parts.append(f"转发、评论、点赞等互动{amount(f['interactions'], style)}次")
    return parts


def case_figures_text(case: dict, figures: dict, style: str = "chinese") -> str:
    """The sentence the report adds to a case's own description: what the store holds for it (its
    posts and hashtags), or only the accounts credited when nothing is linked."""
    sentences = []
    posts = figures.get("posts")
    if posts and posts["posts"]:
        who = _names(posts["names"]) or case.get("account_names") or ""
        reach = _reach(posts, style)
        sentences.append(f"{who}发布的相关内容{amount(posts['posts'], style)}条" + ("，" + "，".join(reach) if reach else ""))
    for tag in figures.get("hashtags", []):
        if not tag["posts"]:
            sentences.append(f"话题#{tag['hashtag']}#当月在已采集的账号中没有内容")
            continue
        reach = _reach(tag, style)
        sentences.append(f"话题#{tag['hashtag']}#当月有{amount(tag['accounts'], style)}个账号发布"
                         f"{amount(tag['posts'], style)}条内容" + ("，" + "，".join(reach) if reach else ""))
    if not sentences:  # nothing linked: only the credited accounts, which are no statistic
        names = [n for n in (case.get("account_names") or "").split("、") if n]
        return f"加分账号：{_names(names, 5)}。" if names else ""
    return tight("据统计，" + "；".join(sentences) + "。")


def _cases(con, months: list[str], style: str = "chinese") -> list[CaseGroup]:
    """The period's cases grouped by the white paper's four case categories (others after them),
    each with the figures the store holds for it (`case["figures"]`)."""
    wanted = set(months)
    cases = [c for c in list_cases(con) if c["month"] in wanted]
    for c in cases:
        c["text"] = tight(c["text"]) if c["text"] else c["text"]
        c["figures"] = case_figures_text(c, case_figures(con, c), style)
    order = list(CASE_CATEGORIES) + sorted({c["category"] or "其他" for c in cases} - set(CASE_CATEGORIES))
    groups = []
    for category in order:
        mine = sorted((c for c in cases if (c["category"] or "其他") == category),
                      key=lambda c: (-(c["score"] or 0), c["month"], c["case_id"]))
        if mine:
            groups.append(CaseGroup(category, mine))
    return groups


def excellent_accounts(rankings: list[Ranking], counts: dict[str, int]) -> dict[str, list[dict]]:
    """The top of the rankings per platform, shared evenly among the categories (18 = 6 + 6 + 6 as
    in the white paper); a category with fewer ranked accounts leaves its share to the others."""
    out = {}
    for platform in PLATFORMS:
        lists = [[r for r in k.full if r["score"] > 0] for k in rankings if k.platform == platform]
        wanted = counts.get(platform, 0)
        if not lists or wanted <= 0:
            continue
        share = [0] * len(lists)
        remaining = wanted
        while remaining > 0:
            open_ = [i for i in range(len(lists)) if share[i] < len(lists[i])]
            if not open_:
                break
            for i in open_:
                if remaining == 0:
                    break
                share[i] += 1
                remaining -= 1
        out[platform] = [r for i, rows in enumerate(lists) for r in rows[:share[i]]]
    return out


def _annexes(rankings, cases, counts, awards) -> list[Annex]:
    annexes = []
    chosen = excellent_accounts(rankings, counts)
    if chosen:
        annexes.append(Annex("优秀政务新媒体账号",
                             [(PLATFORM_NAMES[p], [r["name"] for r in rows]) for p, rows in chosen.items()],
                             numbered=False))
    if cases:
        annexes.append(Annex("优秀政务新媒体传播范例",
                             [(g.category, [f"{c['unit'] or ''}《{c['title']}》" for c in g.cases]) for g in cases]))
    for award, entries in awards:
        annexes.append(Annex(award, [("", list(entries))]))
    for i, annex in enumerate(annexes):
        annex.title = f"附件{CHINESE_NUMBERS[i]}　{annex.title}"
    return annexes


def build_report(con: duckdb.DuckDBPyConnection, start: str, end: str, *, title: str | None = None,
                 compare_previous_year: bool = False, methodology: str | Path | Methodology | None = None,
                 awards: Sequence[tuple[str, Sequence[str]]] = (), excellent: dict[str, int] | str | None = None,
                 overview_blocks: Sequence[Block | Callable] = (), kind: str = "annual",
                 settings: ReportSettings | None = None) -> ReportModel:
    """Gather the annual report for [start, end] from the store. Raises UserError for an unscored
    period, a methodology other than the one that scored it, or a missing Chinese font.

    `overview_blocks`: extra Blocks for the overview, or functions (con, start, end) -> [Block];
    the functions in OVERVIEW_SOURCES are always called first. `settings`: the office's report
    settings (city, units, chapters, …); the arguments given here win over them."""
    settings = settings or DEFAULT_SETTINGS
    months = months_between(start, end)
    start, end = months[0], months[-1]
    font = require_cjk_font()
    require_scored(con, months)
    if not con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]:
        raise UserError("账号名录为空：先{step:register}，导入数据后再{step:score}")
    m = resolve(con, methodology)
    _check_methodology(con, months, m)
    column = period_column(start, end)
    label = period_label(start, end)
    rankings = _rankings(con, start, end, font, column, m, settings)
    cases = _cases(con, months, settings.numbers)
    if excellent is None and settings.excellent:
        excellent = dict(settings.excellent)
    if not awards and settings.awards:
        awards = settings.awards
    annexes = _annexes(rankings, cases, parse_excellent(excellent), awards) if kind == "annual" else \
        _annexes([], [], {}, awards)
    city = settings.city
    if kind == "annual":
        default_title = settings.title or f"{Month.parse(end).year}年{city}政务新媒体传播影响力报告"
        subtitle = settings.subtitle or f"统计周期 {label}（{start} 至 {end}）"
    else:
        default_title = settings.bulletin_title or f"{city}政务新媒体传播影响力月榜"
        subtitle = f"{label}（统计周期 {start}）"
    generated = local_date(utcnow())
    office = [OfficeChapter(f"office-{i}", c.title, c.place, c.markdown, md.to_html(c.markdown, f"office-{i}"),
                            md.headings(c.markdown, f"office-{i}"))
              for i, c in enumerate(settings.chapters, start=1)] if kind == "annual" else []  # the bulletin: no essays
    return ReportModel(
        kind=kind, title=title or default_title, subtitle=subtitle, start=start, end=end, label=label,
        column=column, generated=generated.isoformat(), font=CJK_FAMILY,
        overview=_overview(con, start, end, compare_previous_year, font, m, overview_blocks, settings.numbers),
        methodology=describe_methodology(m), rankings=rankings, cases=cases, annexes=annexes,
        city=city, guiding_units=settings.guiding_units, producing_units=settings.producing_units,
        published=settings.published_label or f"{generated.year}年{generated.month}月", cover_color=settings.cover_color,
        office=office, sections=settings.sections,
    )


def build_bulletin(con: duckdb.DuckDBPyConnection, month: str, *, title: str | None = None,
                   methodology: str | Path | Methodology | None = None,
                   awards: Sequence[tuple[str, Sequence[str]]] = (), compare_previous_year: bool = False,
                   overview_blocks: Sequence[Block | Callable] = (),
                   settings: ReportSettings | None = None) -> ReportModel:
    """The monthly bulletin (月榜): one month's overview, rankings and cases."""
    month = str(Month.parse(month))
    return build_report(con, month, month, title=title, methodology=methodology, awards=awards,
                        compare_previous_year=compare_previous_year, overview_blocks=overview_blocks,
                        kind="bulletin", settings=settings)
