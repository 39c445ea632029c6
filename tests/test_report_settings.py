"""Report settings and the office's own chapters: the file, its mistakes, the store, and what the
three formats print with them (cover, chapter list, city in the tables, Markdown chapters)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import docx
import pytest

from govmedia.core.errors import FieldError
from govmedia.reports.settings import DEFAULT, load_settings, stored_settings
from govmedia.store import open_store

from test_reports import END, HAS_LIBREOFFICE, START, build_store, pdftotext
from util import run_cli

SETTINGS = """city = "宁城市"
title = "2020年宁城市政务传播白皮书"
subtitle = "政务新媒体传播影响力年度报告"
guiding_units = ["中共宁城市委网信办"]
producing_units = ["宁城政务舆情研究院", "宁城市互联网信息办公室"]
published = "2020-12"
numbers = "chinese"
top = 5

[[chapters]]
file = "绪论.md"
place = "before-data"

[[chapters]]
file = "宁城实践.md"
place = "after-cases"

[[awards]]
title = "年度优秀政务新媒体作品"
entries = ["宁城发布《城市之光》", "宁城公安《平安夜话》"]
"""
FOREWORD = "# 绪论\n\n2020年，政务新媒体**数量众多、类型多样**，丰富了政务公开的途径。\n"
PRACTICE = """# 宁城实践

## 矩阵联动

- 区级账号联动发布*防控*信息
- 民生账号开设办事指南

| 平台 | 账号数 |
|---|---:|
| 微博 | 76 |

## 经验与建议

![外链图片](http://example.invalid/x.png)

<script>alert(1)</script>
"""


def write_settings(folder: Path, text: str = SETTINGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "绪论.md").write_text(FOREWORD, encoding="utf-8")
    (folder / "宁城实践.md").write_text(PRACTICE, encoding="utf-8")
    path = folder / "报告设置.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_and_its_chapters_are_read(tmp_path):
    settings = load_settings(write_settings(tmp_path))
    assert settings.city == "宁城市" and settings.published_label == "2020年12月" and settings.top == 5
    assert [(c.title, c.place) for c in settings.chapters] == [("绪论", "before-data"), ("宁城实践", "after-cases")]
    assert settings.chapters[1].markdown.lstrip().startswith("## 矩阵联动")  # its title is the chapter's heading


@pytest.mark.parametrize("change, words", [
    (lambda t: t + 'colour = "red"\n', "colour: 没有这个设置项"),
    (lambda t: t.replace('published = "2020-12"', 'published = "2020年12月"'), "published: 应写成 YYYY-MM"),
    (lambda t: t.replace('file = "宁城实践.md"', 'file = "没有这章.md"'), "找不到章节文件 没有这章.md"),
    (lambda t: t.replace('place = "after-cases"', 'place = "middle"'), "第 2 章的 place: 应为 before-data"),
    (lambda t: t.replace("top = 5", "top = 0"), "top: 应为 1 到 500 之间的整数"),
    (lambda t: t.replace('city = "宁城市"', "city = 宁城市"), "不是有效的 TOML"),
    (lambda t: t + '\n[[awards]]\ntitle = "奖"\n', "awards 第 2 项的 entries"),
    (lambda t: t + '\n[[awards]]\nentries = ["x"]\n', "awards 第 2 项: 缺少 title"),
])
def test_each_mistake_is_one_line_naming_the_key_or_file(tmp_path, change, words):
    path = write_settings(tmp_path, change(SETTINGS))
    with pytest.raises(FieldError) as caught:
        load_settings(path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The fixture store's annual report under the settings, written by the CLI."""
    folder = tmp_path_factory.mktemp("settings")
    store = build_store(folder)
    out = folder / "out"
    result = run_cli("report", "--from", START, "--to", END, "--out", str(out), "--settings",
                     str(write_settings(folder / "office")), db=store)
    assert result.returncode == 0, result.stderr
    return store, out


def test_the_report_carries_the_office_s_names_and_chapters(published):
    _, out = published
    page = (out / "report.html").read_text(encoding="utf-8")
    cover = page[page.index('<section class="cover">'):page.index("</section>")]
    for words in ("2020年宁城市政务传播白皮书", "中共宁城市委网信办　指导", "宁城政务舆情研究院　宁城市互联网信息办公室",
                  "联合出品", "2020年12月"):
        assert words in cover, words
    assert "生成日期" not in cover and "GMI-1" not in cover
    toc = page[page.index('<nav class="toc">'):page.index("</nav>")]
    titles = re.findall(r'<a href="#[^"]+">([^<]+)</a>', toc)
    assert titles[:2] == ["绪论", "一、发展概况"]  # the foreword stands before the numbered chapters
    assert "五、宁城实践" in titles and "矩阵联动" in titles and titles[-1].endswith("方法附录")
    assert titles.index("四、优秀传播范例") < titles.index("五、宁城实践") < titles.index("六、附件（获奖名单）")
    assert "<caption>宁城市区级政务微博账号排行榜</caption>" in page
    assert "宁城市民生政务微博账号排行榜（前5名）" in page
    # The Markdown chapter: list, table, emphasis; raw HTML shown as text; an outside image not fetched.
    practice = page[page.index('id="ch-office-2"'):]
    practice = practice[:practice.index("</section>")]
    assert "<li>区级账号联动发布<em>防控</em>信息</li>" in practice and '<table class="office">' in practice
    assert "&lt;script&gt;" in practice and "<script>" not in practice
    assert "example.invalid" not in practice and "［图：外链图片］" in practice
    # Nothing about software, no formula or hash in the body: they are in the appendix.
    body = page[:page.index('id="ch-appendix"')]
    assert "govmedia" not in page and "sha256" not in body and "ln(1" not in body
    assert "sha256" in page[page.index('id="ch-appendix"'):]
    # The awards named in the settings are an annex.
    assert "年度优秀政务新媒体作品" in page and "宁城公安《平安夜话》" in page


def test_pdf_and_word_carry_the_same_chapters(published):
    _, out = published
    text = pdftotext(out / "report.pdf")
    assert re.search(r"绪论\s*\.{3,}\s*3\b", text)  # the table of contents has page numbers
    assert "宁城市区级政务微博账号排行榜" in text and "矩阵联动" in text and "govmedia" not in text
    document = docx.Document(str(out / "report.docx"))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "绪论") in headings and ("Heading 1", "五、宁城实践") in headings
    assert ("Heading 2", "矩阵联动") in headings
    paragraphs = [p.text for p in document.paragraphs]
    assert "• 区级账号联动发布防控信息" in paragraphs and "中共宁城市委网信办　指导" in paragraphs
    assert not any("F9" in p or "govmedia" in p for p in paragraphs)
    # Word's table of contents lists the office's chapters and their sections too, with pages
    # where LibreOffice laid the document out (test_reports tests the fallback without it)
    toc = [tuple(p.text.split("\t")) for p in document.paragraphs if p.style.name in ("toc 1", "toc 2")]
    assert toc[0][0] == "绪论" and ("五、宁城实践" in [t[0] for t in toc]) and "矩阵联动" in [t[0] for t in toc]
    if HAS_LIBREOFFICE:
        assert toc[0] == ("绪论", "3") and all(len(t) == 2 and t[1].isdigit() for t in toc)
    assert any([c.text for c in t.rows[0].cells] == ["平台", "账号数"] for t in document.tables)


def test_settings_kept_in_the_store_serve_every_later_report(published, tmp_path):
    store, _ = published
    copy = tmp_path / "copy.duckdb"
    shutil.copy(store, copy)
    con = open_store(copy, read_only=True)
    assert stored_settings(con) == DEFAULT
    con.close()
    saved = run_cli("report-settings", "import", str(write_settings(tmp_path / "office")), db=copy)
    assert saved.returncode == 0 and "已保存报告设置：城市 宁城市" in saved.stdout
    out = tmp_path / "out"
    result = run_cli("report", "--from", START, "--to", END, "--out", str(out), "--format", "html", db=copy)
    assert result.returncode == 0, result.stderr
    assert "2020年宁城市政务传播白皮书" in (out / "report.html").read_text(encoding="utf-8")
    shown = run_cli("report-settings", "show", db=copy)
    assert 'city = "宁城市"' in shown.stdout and "宁城实践.md" in shown.stdout
    wrong = run_cli("report", "--from", START, "--to", END, "--out", str(out), "--settings",
                    str(tmp_path / "none.toml"), db=copy)
    assert wrong.returncode == 2 and "无法读取报告设置文件" in wrong.stderr and "Traceback" not in wrong.stderr


def test_the_web_form_splits_and_joins_the_settings_without_loss(tmp_path):
    """The site shows the cover's keys as fields and the rest as TOML; saving joins them again."""
    from govmedia.reports.settings import from_texts, join_from_form, split_for_form

    original = load_settings(write_settings(tmp_path))
    fields, other = split_for_form(original)
    assert fields["city"] == "宁城市" and fields["producing_units"] == ["宁城政务舆情研究院", "宁城市互联网信息办公室"]
    assert "city" not in other and "chapters" not in other and "top = 5" in other and "[[awards]]" in other
    chapters = [(c.file, c.place) for c in original.chapters]
    again = from_texts(join_from_form(fields, chapters, other), dict(original.sources))
    for key in ("city", "title", "subtitle", "guiding_units", "producing_units", "published", "chapters", "top",
                "awards", "numbers"):
        assert getattr(again, key) == getattr(original, key), key
    with pytest.raises(FieldError, match="其他设置不是有效的 TOML"):
        join_from_form(fields, chapters, "top = ")
