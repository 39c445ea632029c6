"""Reports (issue 5): the annual report and the monthly bulletin in four formats, checked for
content — ranking tables equal `govmedia rank`, overview figures equal the store's totals, the
PDF's text holds every ranked name with a CJK font, charts are not blank."""

from __future__ import annotations

import csv
import io
import re
import shutil
import statistics
import subprocess
import tempfile
import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
import openpyxl
import pytest
from PIL import Image
from typer.testing import CliRunner

from govmedia.cli import app
from govmedia.core.vocabulary import CATEGORIES
from govmedia.core.vocabulary import PLATFORMS as ALL_PLATFORMS

PLATFORMS = tuple(p for p in ALL_PLATFORMS if p in ('weibo', 'wechat', 'douyin'))  # the test store's
from govmedia.methodology import load_methodology
from govmedia.ranking import RANK_COLUMNS, rank
from govmedia.reports import Block, build_report, office, write_report
from govmedia.reports.model import excellent_accounts, period_column
from govmedia.store import open_store

from util import make_store, run_cli

START, END = "2020-02", "2020-03"
LONG_NAME = "侵华日军南京大屠杀遇难同胞纪念馆"
PLATFORM_CN = {"weibo": "微博", "wechat": "微信", "douyin": "抖音"}
CATEGORY_CN = {"district": "区级", "livelihood": "民生", "comprehensive": "综合"}
# (platform, category) -> number of accounts; 17 Weibo livelihood accounts exercise the Top-15 cut.
LAYOUT = {("weibo", "district"): 4, ("weibo", "livelihood"): 17, ("weibo", "comprehensive"): 3,
          ("wechat", "district"): 2, ("wechat", "livelihood"): 3, ("wechat", "comprehensive"): 2,
          ("douyin", "district"): 2, ("douyin", "livelihood"): 1, ("douyin", "comprehensive"): 1}
MONTHS = ("2019-02", "2019-03", "2020-02", "2020-03")


def _accounts() -> list[tuple[str, str, str, str, int | None]]:
    rows = []
    for (platform, category), count in LAYOUT.items():
        for i in range(count):
            account_id = f"{platform[:2]}{category[:3]}{i:02d}"
            name = f"测试{CATEGORY_CN[category]}{PLATFORM_CN[platform]}{i + 1}号"
            if (platform, category, i) == ("weibo", "comprehensive", 0):
                name = LONG_NAME
            followers = 1_500_000 if (platform, category, i) == ("weibo", "livelihood", 0) else 1000 + i
            rows.append((platform, account_id, name, category, followers))
    return rows


def _posts() -> str:
    lines = ["平台,账号ID,内容ID,发布时间,是否原创,形式,正文,转发,评论,点赞,阅读,在看,分享"]
    for index, (platform, account_id, _, _, _) in enumerate(_accounts()):
        for m, month in enumerate(MONTHS):
            # The order of the accounts changes between the years, so some climb.
            strength = (index * 7 + (3 if month < "2020" else 11) * index + m) % 23 + 1
            for k in range(2 + strength % 3):
                n = strength * (k + 2)
                form = "视频" if (k + index) % 2 else ""
                post_id = f"{account_id}-{month}-{k}"
                text = "#垃圾分类# 内容" if platform == "wechat" and month == "2020-03" and k == 0 and index % 2 else "内容"
                when = f"{month}-{10 + k:02d} 10:00"
                if platform == "weibo":
                    lines.append(f"微博,{account_id},{post_id},{when},{'是' if k % 4 else '否'},{form},内容,{n * 3},{n},{n * 2},,,")
                elif platform == "wechat":
                    lines.append(f"微信,{account_id},{post_id},{when},是,{form},{text},,,{n},{n * 100},{n // 2},{n}")
                else:
                    lines.append(f"抖音,{account_id},{post_id},{when},是,直播,内容,,{n},{n * 20},,,{n * 2}")
    return "\n".join(lines) + "\n"


CASES = """case_id,title,month,category,unit,score,platform,account_ids,text,post_ids,hashtags
C1,“谐音梗”通报疫情系列短视频,2020-02,信息发布类,测试发布工作室,90,weibo,wedis00,连续 31 天新增为 0 的通报。,wedis00-2020-02-0;wedis00-2020-02-1,
C2,垃圾分类小程序,2020-03,民生服务类,测试城管局,80,wechat,weliv00,小程序上线。,,垃圾分类
C3,去年的案例,2019-03,宣传推广类,测试单位,70,weibo,wedis01,不在本期间。,,
"""


def build_store(folder: Path, methodology: Path | None = None) -> Path:
    registry = "平台,账号ID,名称,类别,粉丝数\n" + "".join(
        f"{PLATFORM_CN[p]},{a},{n},{CATEGORY_CN[c]},{f}\n" for p, a, n, c, f in _accounts())
    return make_store(folder / "reports.duckdb", accounts=registry, posts=_posts(), cases=CASES,
                      score=("2019-02", "2020-03"), methodology=methodology)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("reports-store"))


@pytest.fixture(scope="module")
def report(store, tmp_path_factory):
    """The annual report of the fixture store, written by the CLI in all four formats."""
    out = tmp_path_factory.mktemp("report")
    awards = out.parent / "awards.csv"
    awards.write_text("奖项,名称\n2020 战疫传播贡献奖,测试发布工作室《抗疫海报系列》\n"
                      "2020 战疫传播贡献奖,测试区委网信办《守护家园》\n新媒体展赛优秀作品,测试局《网络直播》\n",
                      encoding="utf-8")
    result = run_cli("report", "--from", START, "--to", END, "--compare-previous-year", "--out", str(out),
                     "--awards", str(awards), db=store)
    assert result.returncode == 0, result.stderr
    return out


def cli_rank_csv(store: Path, platform: str, category: str, start: str, end: str, top: int | None = None):
    args = ["--db", str(store), "rank", "--platform", platform, "--category", category, "--from", start,
            "--to", end, "--format", "csv"]
    if top is not None:
        args += ["--top", str(top)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return list(csv.reader(io.StringIO(result.stdout)))


def printed_cut(category: str) -> int | None:
    return None if category == "district" else 15


def docx_ranking_tables(path: Path, column: str) -> list[list[list[str]]]:
    document = docx.Document(str(path))
    tables = []
    for table in document.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and rows[0] == ["排名", "名称", column]:
            tables.append(rows)
    return tables


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# ---------------------------------------------------------------- files and the DOCX tables


def test_report_writes_the_four_files(report):
    assert sorted(p.name for p in report.iterdir()) == ["rankings.xlsx", "report.docx", "report.html", "report.pdf"]


def test_docx_ranking_tables_equal_cli_rank(store, report):
    tables = docx_ranking_tables(report / "report.docx", "2-3月")
    expected = []
    for platform in PLATFORMS:
        for category in CATEGORIES:
            rows = cli_rank_csv(store, platform, category, START, END, printed_cut(category))
            header, body = rows[0], rows[1:]
            expected.append([["排名", "名称", "2-3月"]] + [
                [r[header.index("rank")], r[header.index("name")], f"{float(r[header.index('score')]):.2f}"]
                for r in body])
    assert tables == expected
    # all district accounts, the Top 15 of the others
    assert len(tables[0]) - 1 == LAYOUT[("weibo", "district")]
    assert len(tables[1]) - 1 == 15 < LAYOUT[("weibo", "livelihood")]


def test_docx_typesetting(report):
    document = docx.Document(str(report / "report.docx"))
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert section.different_first_page_header_footer
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml
    body = document.element.body.xml
    assert "TOC \\o" in body
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:5] == ["一、发展概况", "二、指标说明", "三、榜单与点评", "四、优秀传播范例", "五、附件（获奖名单）"]
    # the TOC field's result lists the headings right after 目录 (readable without updating fields)
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("目录") + 1].split("\t")[0] == "一、发展概况"
    for table in document.tables:
        assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader"), "header rows repeat on every page"
    normal = document.styles["Normal"].element.xml
    assert 'w:eastAsia="Noto Sans CJK SC"' in normal
    # no extra space between Chinese and Latin letters or digits
    assert '<w:autoSpaceDE w:val="0"/>' in normal and '<w:autoSpaceDN w:val="0"/>' in normal


def test_docx_running_header_names_title_and_chapter(report):
    """Cover and contents: the title only (none on the cover); from the first chapter on, a section
    whose header adds the current chapter (STYLEREF) and whose footer, the page number, continues."""
    document = docx.Document(str(report / "report.docx"))
    front, chapters = document.sections
    assert "2020年政务新媒体传播影响力报告" in front.header.paragraphs[0].text
    assert "STYLEREF" not in front.header._element.xml
    assert not chapters.different_first_page_header_footer and not chapters.header.is_linked_to_previous
    header = chapters.header._element.xml
    assert "2020年政务新媒体传播影响力报告" in chapters.header.paragraphs[0].text
    assert 'STYLEREF "Heading 1"' in header and "<w:tab/>" in header
    assert chapters.footer.is_linked_to_previous and "PAGE" in front.footer._element.xml
    # the section starts on a new page: the first chapter needs no page break of its own
    first = next(p for p in document.paragraphs if p.style.name == "Heading 1")
    assert not first.paragraph_format.page_break_before


# ---------------------------------------------------------------- Word's table of contents


HAS_LIBREOFFICE = office.soffice() is not None and office.uno_python() is not None
needs_libreoffice = pytest.mark.skipif(not HAS_LIBREOFFICE,
                                       reason="LibreOffice not installed (scripts/install-system-deps.sh)")


def docx_toc(document) -> list[tuple[int, str, int | None]]:
    """(level, text, page or None) of each entry of the TOC field's result."""
    out = []
    for p in document.paragraphs:
        if p.style.name in ("toc 1", "toc 2"):
            text, tab, page = p.text.rpartition("\t")
            out.append((int(p.style.name[-1]), text, int(page)) if tab else (int(p.style.name[-1]), p.text, None))
    return out


def libreoffice_pdf(path: Path, folder: Path) -> Path:
    """The DOCX converted to PDF by LibreOffice, as a reader without Word sees it."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([office.soffice(), "--headless", "--norestore", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(folder), str(path)],
                   capture_output=True, timeout=300, check=True)
    return folder / (path.stem + ".pdf")


@needs_libreoffice
def test_docx_toc_has_page_numbers_without_f9(report):
    document = docx.Document(str(report / "report.docx"))
    toc = docx_toc(document)
    headings = [(1 if p.style.name == "Heading 1" else 2, p) for p in document.paragraphs
                if p.style.name in ("Heading 1", "Heading 2")]
    assert [(level, text) for level, text, _ in toc] == [(level, p.text) for level, p in headings]
    pages = [page for _, _, page in toc]
    assert None not in pages and pages == sorted(pages) and pages[0] == 3  # cover, contents, chapter one
    body = document.element.body.xml
    assert "w:dirty" not in body and "F9" not in body  # nothing for Word to update, no note asking for it
    # each entry links to its heading (a _Toc bookmark, as Word makes them)
    anchors = [link.get(qn("w:anchor")) for link in document.element.body.iter(qn("w:hyperlink"))]
    marks = [p._p.find(qn("w:bookmarkStart")).get(qn("w:name")) for _, p in headings]
    assert anchors == marks and all(name.startswith("_Toc") for name in marks)


@needs_libreoffice
def test_docx_as_libreoffice_lays_it_out_has_the_pages_its_toc_says(report, tmp_path):
    """The DOCX converted to PDF: the contents page shows the numbers, each heading is on the page
    its entry names, within the page count; numbers and Chinese are set without justification gaps."""
    document = docx.Document(str(report / "report.docx"))
    toc = docx_toc(document)
    pages = pdftotext(libreoffice_pdf(report / "report.docx", tmp_path)).split("\f")[:-1]
    assert re.search(r"^\s*一、发展概况\.{5,}\s*3$", pages[1], re.M), pages[1]
    assert re.search(r"^\s*六、方法附录\.{5,}\s*%d$" % toc[-1][2], pages[1], re.M)
    for _, text, page in toc:
        assert page <= len(pages)
        lines = [" ".join(line.split()) for line in pages[page - 1].splitlines()]
        assert " ".join(text.split()) in lines, (text, page)
    assert "2020年政务新媒体传播影响力报告" in pages[2].replace(" ", "")  # the running header
    body = "\n".join(pages[2:])
    scores = re.findall(r"\d+\.\d\d( *)分", body)
    assert scores and all(len(gap) <= 1 for gap in scores)  # "147.05分", never "147.05   分"


def test_docx_without_libreoffice_keeps_the_update_on_open_field(store, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_SOFFICE", str(tmp_path / "no-soffice"))
    result = run_cli("report", "--from", START, "--to", END, "--out", str(tmp_path), "--format", "docx", db=store)
    assert result.returncode == 0, result.stderr
    assert "未找到 LibreOffice" in result.stderr and "Traceback" not in result.stderr
    document = docx.Document(str(tmp_path / "report.docx"))
    toc = docx_toc(document)
    assert toc and all(page is None for _, _, page in toc)
    assert toc[0][1] == "一、发展概况" and toc[-1][1] == "六、方法附录"
    begin = document.element.body.find(f".//{qn('w:fldChar')}")
    assert begin.get(qn("w:fldCharType")) == "begin" and begin.get(qn("w:dirty")) == "true"


@needs_libreoffice
def test_libreoffice_failing_or_slow_leaves_nothing_behind(report, tmp_path, monkeypatch, caplog):
    made, real_mkdtemp = [], tempfile.mkdtemp

    def mkdtemp(prefix=None):
        made.append(real_mkdtemp(prefix=prefix, dir=tmp_path))
        return made[-1]

    monkeypatch.setattr(office.tempfile, "mkdtemp", mkdtemp)
    assert office.toc_pages(report / "report.docx", timeout=1.5) is None
    assert "已中止" in caplog.text
    monkeypatch.setenv("GOVMEDIA_SOFFICE", "false")  # a program that ends at once
    assert office.toc_pages(report / "report.docx") is None
    assert "未能启动" in caplog.text
    for profile in made:
        assert not Path(profile).exists()
        left = subprocess.run(["pgrep", "-f", profile], capture_output=True, text=True).stdout
        assert not left, f"LibreOffice still running: {left}"


def test_docx_cases_annexes_and_awards(report):
    document = docx.Document(str(report / "report.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "“谐音梗”通报疫情系列短视频" in text and "（测试发布工作室）" in text
    assert "垃圾分类小程序" in text
    assert "去年的案例" not in text  # a case outside the period
    assert "附件一　优秀政务新媒体账号" in text
    assert "测试发布工作室《“谐音梗”通报疫情系列短视频》" in text
    assert "2020 战疫传播贡献奖" in text and "1. 测试发布工作室《抗疫海报系列》" in text
    assert "新媒体展赛优秀作品" in text


# ---------------------------------------------------------------- PDF


def test_pdf_text_has_every_ranked_name_and_no_replacement_characters(store, report):
    text = pdftotext(report / "report.pdf")
    assert "\ufffd" not in text
    con = open_store(store, read_only=True)
    try:
        for platform in PLATFORMS:
            for category in CATEGORIES:
                for row in rank(con, platform, category, START, END, printed_cut(category)):
                    assert row["name"] in text, row["name"]
                    assert f"{row['score']:.2f}" in text
    finally:
        con.close()
    assert "目录" in text and re.search(r"第\s*3\s*页", text)
    assert LONG_NAME in text


def test_pdf_embeds_a_noto_cjk_font(report):
    fonts = subprocess.run(["pdffonts", str(report / "report.pdf")], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Noto-?Sans-?CJK", fonts), fonts
    assert "DejaVu-Sans " not in fonts  # no Chinese fell back to a Latin font


def test_pdf_is_a4_with_page_numbers(report):
    info = subprocess.run(["pdfinfo", str(report / "report.pdf")], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 8
    last = subprocess.run(["pdftotext", "-f", str(pages), "-l", str(pages), str(report / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(rf"第\s*{pages}\s*页", last)


# ---------------------------------------------------------------- XLSX


def test_xlsx_sheets_equal_cli_csv(store, report):
    workbook = openpyxl.load_workbook(report / "rankings.xlsx")
    names = workbook.sheetnames
    assert names[:2] == ["说明", "概况"]
    assert all(re.search(r"[\u4e00-\u9fff]", name) for name in names)  # every sheet named in Chinese
    for platform in PLATFORMS:
        for category in CATEGORIES:
            ws = workbook[f"{PLATFORM_CN[platform]}-{CATEGORY_CN[category]}"]
            assert ws.freeze_panes == "A2"
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            assert rows[0] == ["排名", "平台", "类别", "账号ID", "名称", "2-3月", "传播力", "互动力", "创新力", "影响力",
                               "疑似刷量内容", "疑似刷量占比", "备注"]
            expected = cli_rank_csv(store, platform, category, START, END)
            assert expected[0] == [*RANK_COLUMNS, "flagged_posts", "flagged_share", "note"]
            # The CLI's rows, platforms and categories by their Chinese names.
            for r in expected[1:]:
                r[1], r[2] = PLATFORM_CN[r[1]], CATEGORY_CN[r[2]]
            assert [["" if v is None else str(v) for v in r] for r in rows[1:]] == expected[1:]
            if len(rows) > 1:
                assert ws.cell(row=2, column=6).number_format == "0.00"
                assert isinstance(ws.cell(row=2, column=6).value, float)
    about = {r[0]: r[1] for r in workbook["说明"].iter_rows(values_only=True)}
    m = load_methodology()
    assert about["方法文件校验码（SHA-256）"] == m.sha256
    assert "govmedia" not in " ".join(str(v) for v in about.values())
    assert about["统计周期"] == "2020年2-3月"
    assert about["起始月份"] == START and about["结束月份"] == END


# ---------------------------------------------------------------- overview figures


def store_totals(store: Path, months: list[str]) -> dict[str, dict[str, int]]:
    """Independent SQL over the fixture (one undated snapshot per post)."""
    con = open_store(store, read_only=True)
    try:
        rows = con.execute(
            """
            SELECT p.platform, count(*), count(*) FILTER (WHERE p.is_original IS NOT FALSE),
                   sum(s.reposts + s.comments) FILTER (WHERE p.platform = 'weibo'),
                   sum(s.reads), sum(coalesce(s.likes, 0) + coalesce(s.wows, 0)) FILTER (WHERE p.platform = 'wechat'),
                   sum(s.likes) FILTER (WHERE p.platform = 'douyin'), sum(s.comments) FILTER (WHERE p.platform = 'douyin'),
                   sum(s.shares) FILTER (WHERE p.platform = 'douyin')
            FROM posts p JOIN snapshots s USING (platform, post_id)
            WHERE strftime(p.published_at + INTERVAL 8 HOUR, '%Y-%m') IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY 1
            """, [months]).fetchall()
        accounts = dict(con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1").fetchall())
    finally:
        con.close()
    out = {}
    for platform, posts, originals, weibo, reads, wechat, likes, comments, shares in rows:
        figures = {"账号数": accounts[platform], "发布数": posts, "原创数": originals}
        if platform == "weibo":
            figures["转评量（转发+评论）"] = weibo
        elif platform == "wechat":
            figures.update({"阅读数": reads, "点赞+在看数": wechat})
        else:
            figures.update({"点赞数": likes, "评论数": comments, "分享数": shares})
        out[platform] = figures
    return out


def test_overview_figures_equal_store_totals(store, report):
    now = store_totals(store, ["2020-02", "2020-03"])
    before = store_totals(store, ["2019-02", "2019-03"])
    document = docx.Document(str(report / "report.docx"))
    table = next(t for t in document.tables if [c.text for c in t.rows[0].cells][:3] == ["平台", "指标", "本期"])
    cells = [[c.text for c in row.cells] for row in table.rows[1:]]
    seen = 0
    for platform_cn, label, value, previous, growth in cells:
        platform = next(p for p, cn in PLATFORM_CN.items() if cn == platform_cn)
        assert int(value.replace(",", "")) == now[platform][label], (platform, label)
        if label == "账号数":
            assert previous == "—"
        else:
            assert int(previous.replace(",", "")) == before[platform][label]
            expected = now[platform][label] / before[platform][label] - 1
            assert growth == f"{expected:+.1%}"
        seen += 1
    assert seen == sum(len(v) for v in now.values())
    html = (report / "report.html").read_text(encoding="utf-8")
    for platform, figures in now.items():
        for value in figures.values():
            assert f">{value:,}<" in html
    xlsx = openpyxl.load_workbook(report / "rankings.xlsx")["概况"]
    values = {(r[0], r[1]): r[2] for r in xlsx.iter_rows(min_row=2, values_only=True)}
    for platform, figures in now.items():
        for label, value in figures.items():
            assert values[(PLATFORM_CN[platform], label)] == value


# ---------------------------------------------------------------- HTML


def test_html_is_self_contained_and_has_the_tables(store, report):
    html = (report / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "<link" not in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 1 + 9
    con = open_store(store, read_only=True)
    try:
        for platform in PLATFORMS:
            for category in CATEGORIES:
                block = re.search(rf'<table class="ranking" data-platform="{platform}" data-category="{category}">'
                                  r"(.*?)</table>", html, re.S).group(1)
                cells = re.findall(r"<tr><td class=\"rank\">(\d+)</td><td>(.*?)</td><td class=\"num\">([\d.]+)</td></tr>",
                                   block)
                expected = [(str(r["rank"]), r["name"], f"{r['score']:.2f}")
                            for r in rank(con, platform, category, START, END, printed_cut(category))]
                assert cells == expected
    finally:
        con.close()


# ---------------------------------------------------------------- charts


def _non_blank(png: bytes) -> bool:
    image = Image.open(io.BytesIO(png)).convert("L")
    pixels = list(image.tobytes())
    dark = sum(1 for p in pixels if p < 200)
    return statistics.pstdev(pixels) > 10 and dark > 0.01 * len(pixels)


def test_every_chart_is_non_blank(report):
    with zipfile.ZipFile(report / "report.docx") as archive:
        images = [archive.read(n) for n in archive.namelist() if n.startswith("word/media/")]
    assert len(images) == 1 + 9
    for png in images:
        assert _non_blank(png)


def test_charts_have_chinese_labels_without_missing_glyphs(store, recwarn):
    con = open_store(store, read_only=True)
    try:
        model = build_report(con, START, END)
    finally:
        con.close()
    assert not [w for w in recwarn if "Glyph" in str(w.message)]
    for chart in model.charts():
        assert _non_blank(chart.png)
        assert chart.title


# ---------------------------------------------------------------- content model


def test_commentary_names_leader_dimensions_climber_and_totals(store):
    con = open_store(store, read_only=True)
    try:
        model = build_report(con, START, END)
        ranking = next(r for r in model.rankings if (r.platform, r.category) == ("weibo", "livelihood"))
        leader = ranking.full[0]["name"]
        text = "".join(ranking.commentary)
        assert f"@{leader}" in text and "榜首" in text
        assert "与上一期间（2019年2-3月）相比" in text
        previous = {r["account_id"]: r["rank"] for r in rank(con, "weibo", "livelihood", "2019-02", "2019-03")}
    finally:
        con.close()
    climbs = [previous[r["account_id"]] - r["rank"] for r in ranking.full]
    if max(climbs) > 0:
        assert f"上升{max(climbs)}位" in text
    assert f"本类共{LAYOUT[('weibo', 'livelihood')]}个账号" in text
    # The prose of an office: a lead in points, counts in 万/亿, no sum of scores, no space beside numbers.
    assert "领先第二名@" in text and "得分合计" not in text
    assert not re.search(r"[\u4e00-\u9fff] \d|\d [\u4e00-\u9fff]", text)
    assert ranking.column == "2-3月" and period_column("2020-05", "2020-05") == "5月"


def test_excellent_accounts_split_evenly_among_categories(store):
    con = open_store(store, read_only=True)
    try:
        model = build_report(con, START, END)
    finally:
        con.close()
    chosen = excellent_accounts(model.rankings, {"weibo": 6, "wechat": 18, "douyin": 15})
    weibo = [r["category"] for r in chosen["weibo"]]
    assert weibo == ["district"] * 2 + ["livelihood"] * 2 + ["comprehensive"] * 2
    assert len(chosen["wechat"]) == 7  # fewer accounts than asked: all of them
    assert len(chosen["douyin"]) == 4


def test_overview_takes_extra_blocks(store, tmp_path, monkeypatch):
    from govmedia.reports import model as report_model

    def summary(con, start, end):
        count = con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]
        return [Block("巡检概况", [f"{start} 至 {end} 抽查 {count} 个账号，合格率 100%。"], ["检查点", "合格率"],
                      [["2020-04-01", "87.5%"]])]

    monkeypatch.setattr(report_model, "OVERVIEW_SOURCES", (summary,))
    con = open_store(store, read_only=True)
    try:
        model = build_report(con, START, END, overview_blocks=[Block("附注", ["另一段说明。"])])
    finally:
        con.close()
    assert [b.title for b in model.overview.blocks] == ["巡检概况", "附注"]
    paths = write_report(model, tmp_path, ["docx", "html", "xlsx"])
    sheet = openpyxl.load_workbook(paths["xlsx"])["概况"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "巡检概况" in cells and "2020-04-01" in cells
    rate = next(c for row in sheet.iter_rows() for c in row if c.value == 0.875)  # a rate is a number
    assert rate.number_format == "0.0%"
    html = paths["html"].read_text(encoding="utf-8")
    assert "巡检概况" in html and f"抽查 {sum(LAYOUT.values())} 个账号" in html and "2020-04-01" in html
    document = docx.Document(str(paths["docx"]))
    assert any(p.text == "巡检概况" for p in document.paragraphs)


def test_overview_includes_the_stored_inspection_checks(store, tmp_path):
    """合规检查 (issue 6) in the overview: the stored check points of the period with their pass rates;
    nothing when no check of the period is stored."""
    from govmedia.oversight import run_check

    copy = tmp_path / "checked.duckdb"
    shutil.copy(store, copy)
    con = open_store(copy)
    try:
        assert build_report(con, START, END).overview.blocks == []
        result = run_check(con, "2020-04-01")  # closes 2020Q1, inside 2020-02..03
        model = build_report(con, START, END)
    finally:
        con.close()
    [block] = model.overview.blocks
    assert block.title == "合规检查"
    [row] = block.rows
    assert row[:4] == ["2020-04-01", "2020Q1", str(len(result.rows)), str(result.passed)]
    paths = write_report(model, tmp_path / "out", ["docx", "pdf"])
    document = docx.Document(str(paths["docx"]))
    assert any(p.text == "合规检查" for p in document.paragraphs)
    assert "2020Q1" in pdftotext(paths["pdf"])


# ---------------------------------------------------------------- methodology


def test_custom_methodology_is_described_truthfully(tmp_path):
    text = load_methodology().text
    text = text.replace('name = "GMI-1"', 'name = "GMI-测试"').replace("reach = 0.30", "reach = 0.40") \
        .replace("engagement = 0.30", "engagement = 0.20").replace("campaign_points = 10.0", "campaign_points = 7.0")
    custom = tmp_path / "custom.toml"
    custom.write_text(text, encoding="utf-8")
    m = load_methodology(custom)
    store = build_store(tmp_path, methodology=custom)
    out = tmp_path / "out"
    result = run_cli("report", "--from", START, "--to", END, "--out", str(out), "--format", "html,xlsx",
                     "--methodology", str(custom), "--title", "测试市政务新媒体白皮书", db=store)
    assert result.returncode == 0, result.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<h1[^>]*>测试市政务新媒体白皮书</h1>", html)
    assert "GMI-测试" in html and m.sha256 in html
    assert "“传播力”（权重 0.4）" in html and "“互动力”（权重 0.2）" in html
    assert "7 × 当月参与的不同联动宣传数" in html
    about = {r[0]: r[1] for r in openpyxl.load_workbook(out / "rankings.xlsx")["说明"].iter_rows(values_only=True)}
    assert about["方法文件校验码（SHA-256）"] == m.sha256
    # Without --methodology the report uses the methodology in force (recorded when scoring).
    again = run_cli("report", "--from", START, "--to", END, "--out", str(tmp_path / "y"), "--format", "html", db=store)
    assert again.returncode == 0, again.stderr
    assert m.sha256 in (tmp_path / "y" / "report.html").read_text(encoding="utf-8")
    # Naming another methodology would describe GMI-1 for scores it did not compute: refused.
    builtin = tmp_path / "gmi-1-copy.toml"
    builtin.write_text(load_methodology().text, encoding="utf-8")
    refused = run_cli("report", "--from", START, "--to", END, "--out", str(tmp_path / "x"), "--methodology",
                      str(builtin), db=store)
    assert refused.returncode == 2
    assert "--methodology" in refused.stderr and "Traceback" not in refused.stderr


# ---------------------------------------------------------------- bulletin


def test_bulletin_for_one_month(store, tmp_path):
    result = run_cli("bulletin", "--month", "2020-03", "--out", str(tmp_path), db=store)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rankings.xlsx", "report.docx", "report.html", "report.pdf"]
    tables = docx_ranking_tables(tmp_path / "report.docx", "3月")
    assert len(tables) == 9
    con = open_store(store, read_only=True)
    try:
        expected = rank(con, "weibo", "livelihood", "2020-03", "2020-03", 15)
        previous = {r["account_id"]: r["rank"] for r in rank(con, "weibo", "livelihood", "2020-02", "2020-02")}
    finally:
        con.close()
    assert tables[1][1:] == [[str(r["rank"]), r["name"], f"{r['score']:.2f}"] for r in expected]
    document = docx.Document(str(tmp_path / "report.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "政务新媒体传播影响力月榜" in text and "2020年3月（统计周期 2020-03）" in text
    assert "与上一期间（2020年2月）相比" in text
    assert "垃圾分类小程序" in text and "“谐音梗”" not in text  # only the month's cases
    assert previous
    pdf = pdftotext(tmp_path / "report.pdf")
    assert "\ufffd" not in pdf and expected[0]["name"] in pdf


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, message", [
    (["report", "--from", "2021-02", "--to", "2021-03"], "尚未计算分数"),
    (["bulletin", "--month", "2020-13"], "YYYY-MM"),
    (["bulletin", "--month", "2018-05"], "尚未计算分数"),
    (["report", "--from", START, "--to", END, "--format", "docx,odt"], "未知报告格式"),
    (["report", "--from", START, "--to", END, "--excellent", "a,b"], "--excellent"),
])
def test_bad_input_is_one_line_and_exit_2(store, tmp_path, args, message):
    result = run_cli(*args, "--out", str(tmp_path / "out"), db=store)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_font_names_the_font_and_the_package(store, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVMEDIA_CJK_FONT", str(tmp_path / "no-such-font.ttc"))
    result = run_cli("bulletin", "--month", "2020-03", "--out", str(tmp_path / "out"), db=store)
    assert result.returncode == 2
    assert "Noto Sans CJK SC" in result.stderr and "fonts-noto-cjk" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_out_dir(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("bulletin", "--month", "2020-03", "--out", str(blocker / "sub"), db=store)
    assert result.returncode == 2
    assert "无法写入输出目录" in result.stderr and "Traceback" not in result.stderr


def test_awards_file_needs_its_columns(store, tmp_path):
    awards = tmp_path / "awards.csv"
    awards.write_text("名称\n某某\n", encoding="utf-8")
    result = run_cli("report", "--from", START, "--to", END, "--out", str(tmp_path / "o"), "--awards", str(awards),
                     db=store)
    assert result.returncode == 2 and "奖项" in result.stderr


def test_only_chosen_formats_are_written(store, tmp_path):
    result = run_cli("report", "--from", START, "--to", END, "--out", str(tmp_path), "--format", "xlsx", db=store)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["rankings.xlsx"]
    shutil.rmtree(tmp_path)


# ---------------------------------------------------------------- web download (signed-in users)


def test_web_report_download_for_signed_in_users(tmp_path):
    import base64

    from fastapi.testclient import TestClient

    from govmedia.web import create_app
    from web_fixtures import PASSWORD
    from web_fixtures import build_store as build_web_store

    db = build_web_store(tmp_path)
    app = create_app(db, secret="test-secret")
    auth = {"Authorization": "Basic " + base64.b64encode(f"viewer1:{PASSWORD}".encode()).decode()}
    with TestClient(app) as client:
        anonymous = client.get("/reports/report.pdf?from=2020-02&to=2020-03", follow_redirects=False)
        assert anonymous.status_code in (302, 303, 307, 401)
        page = client.get("/rankings?platform=weibo&category=district&from=2020-02&to=2020-03", headers=auth)
        assert 'action="/reports/build"' in page.text  # the browser's way: a report job (test_web_jobs.py)
        response = client.get("/reports/report.docx?from=2020-02&to=2020-03", headers=auth)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        path = tmp_path / "web.docx"
        path.write_bytes(response.content)
        tables = docx_ranking_tables(path, "2-3月")
        with app.state.store.read() as con:
            expected = [[str(r["rank"]), r["name"], f"{r['score']:.2f}"] for r in rank(con, "weibo", "district", START, END)]
        assert tables[0][1:] == expected
        bulletin = client.get("/reports/report.html?from=2020-03&to=2020-03", headers=auth)
        assert bulletin.status_code == 200 and "月榜" in bulletin.text and "3月" in bulletin.text
        assert client.get("/reports/report.odt?from=2020-02&to=2020-03", headers=auth).status_code == 404
    app.state.store.close()


def test_chart_without_a_chinese_font_is_refused_not_drawn_as_boxes(monkeypatch):
    from govmedia.core.errors import UserError
    from govmedia.reports import charts
    from govmedia.reports.fonts import require_cjk_font

    font = require_cjk_font()
    png = charts.ranking_chart(font, "榜单", ["南京发布🚓", "测试"], [2.0, 1.0], "得分")  # an emoji only loses itself
    assert _non_blank(png)
    monkeypatch.setattr(charts, "CJK_FAMILY", "DejaVu Sans")
    with pytest.raises(UserError, match="fonts-noto-cjk"):
        charts.ranking_chart(font, "榜单", ["南京发布"], [1.0], "得分")


def test_cases_are_paragraphs_with_the_figures_the_store_holds(store, report):
    """A case cites its linked posts (their accounts, reads and interactions at the latest snapshot)
    and its hashtag's posts of the case month, as the white paper's cases do."""
    con = open_store(store, read_only=True)
    try:
        reposts, comments, likes = con.execute(
            "SELECT sum(reposts), sum(comments), sum(likes) FROM snapshots "
            "WHERE platform = 'weibo' AND post_id IN ('wedis00-2020-02-0', 'wedis00-2020-02-1')").fetchall()[0]
        tagged = con.execute(
            "SELECT count(*), count(DISTINCT p.account_id), sum(s.reads) FROM posts p JOIN snapshots s USING (platform, post_id) "
            "WHERE p.text LIKE '#垃圾分类#%'").fetchall()[0]
    finally:
        con.close()
    from govmedia.reports.model import amount

    html = (report / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert (f"连续31天新增为0的通报。据统计，@测试区级微博1号发布的相关内容2条，"
            f"转发、评论、点赞等互动{amount(reposts + comments + likes)}次。") in text
    assert tagged[0] >= 2
    assert (f"据统计，话题#垃圾分类#当月有{tagged[1]}个账号发布{tagged[0]}条内容，阅读量合计{amount(tagged[2])}次") in text
    document = docx.Document(str(report / "report.docx"))
    assert any("据统计，@测试区级微博1号发布的相关内容2条" in p.text for p in document.paragraphs)


def test_a_case_naming_a_post_not_imported_is_refused_naming_it(store, tmp_path):
    from govmedia.core.errors import FieldError
    from govmedia.ingest.evaluation import save_case

    con = open_store(shutil.copy(store, tmp_path / "copy.duckdb"))
    try:
        with pytest.raises(FieldError) as caught:
            save_case(con, {"case_id": "C9", "title": "t", "month": "2020-02", "score": "10", "account_ids": "wedis00",
                            "platform": "weibo", "post_ids": "wedis00-2020-02-0;没有这条"}, None)
        assert caught.value.field == "post_ids" and "没有这条" in str(caught.value)
        saved, _ = save_case(con, {"case_id": "C9", "title": "t", "month": "2020-02", "score": "10",
                                "account_ids": "wedis00", "platform": "weibo", "post_ids": "wedis00-2020-02-0",
                                "hashtags": "#战疫#；防控"}, None)
        assert saved.posts == ("wedis00-2020-02-0",) and saved.hashtags == ("战疫", "防控")
    finally:
        con.close()


def test_pdf_pages_carry_the_title_and_chapter_in_their_header(report):
    """After the cover and the contents, each page's first line is the report's title and the
    chapter the page is in."""
    pages = pdftotext(report / "report.pdf").split("\f")
    assert "2020年政务新媒体传播影响力报告" not in pages[0].splitlines()[0]  # the cover has no header
    chapter_pages = [p for p in pages[2:] if p.strip()]
    headed = [p.strip().splitlines()[0] for p in chapter_pages]
    assert all(line.startswith("2020年政务新媒体传播影响力报告") for line in headed), headed[:3]
    assert any("三、榜单与点评" in line for line in headed)
