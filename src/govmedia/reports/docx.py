"""Word (.docx) via python-docx: A4, East-Asian font on every style, no extra space between Chinese
and Latin letters or digits (w:autoSpaceDE/DN off), a cover page without a page number, a table of
contents, a running header with the report's title and the current chapter (a STYLEREF field), PAGE
numbers in the footer, header rows that repeat on every page (w:tblHeader) and rows that do not split.

The table of contents is a TOC field. Its result is written with page numbers: LibreOffice lays the
saved document out once (`office.toc_pages`) and the pages of its headings are written into the
field's result, with links to the headings. Without LibreOffice the result lists the headings
without pages and the field is marked dirty, so that Word updates it when it opens the file."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from govmedia.core.vocabulary import PLATFORM_NAMES
from govmedia.reports import markdown as md
from govmedia.reports import office
from govmedia.reports.model import ReportModel

ACCENT = RGBColor(0xB3, 0x26, 0x1E)
MUTED = RGBColor(0x5B, 0x66, 0x72)
TEXT_WIDTH = Cm(21 - 2 * 2.2)  # A4 less the margins
TOC_STYLES = {1: "toc 1", 2: "toc 2"}  # Word's own names for the styles of its table of contents

log = logging.getLogger(__name__)


def _fonts(element, font: str) -> None:
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _styles(doc, font: str) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Caption", "Table Grid",
                 "List Number"):
        try:
            style = doc.styles[name]
        except KeyError:
            continue
        style.font.name = font
        _fonts(style.element, font)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.paragraph_format.line_spacing = 1.3
    normal.paragraph_format.space_after = Pt(4)
    for name, size, color in (("Heading 1", 18, ACCENT), ("Heading 2", 14, None), ("Heading 3", 12, None)):
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = color or RGBColor(0x1D, 0x23, 0x2B)
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    # Chinese print sets no space between Chinese and Latin letters or digits; Word's default adds one.
    ppr = normal.element.get_or_add_pPr()
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "0")
        ppr.insert_element_before(element, *_PPR_AFTER_AUTOSPACE)
    for level, name in TOC_STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.element.set(qn("w:styleId"), f"TOC{level}")
        style.element.attrib.pop(qn("w:customStyle"), None)  # a built-in style of Word's, not a custom one
        style.base_style = normal
        style.font.bold = level == 1
        style.paragraph_format.left_indent = Cm(level - 1)
        style.paragraph_format.space_after = Pt(2)
        style.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)


# The children of w:pPr that come after w:autoSpaceDN, in the schema's order.
_PPR_AFTER_AUTOSPACE = ("w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                        "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                        "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                        "w:pPrChange")


def _field(paragraph, instruction: str, cached: str = "") -> None:
    """A complex field (PAGE, TOC …) in one paragraph, with a cached result."""
    def fld(kind):
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._r.append(element)
        return run

    fld("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld("separate")
    paragraph.add_run(cached)
    fld("end")


def _fld_char(paragraph, kind: str, dirty: bool = False):
    run = paragraph.add_run()
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    if dirty:
        element.set(qn("w:dirty"), "true")  # Word updates the field when it opens the file
    run._r.append(element)
    return run


TOC_INSTRUCTION = ' TOC \\o "1-2" \\h \\z \\u '


def _toc_paragraph(doc, before, index: int, count: int, level: int, text: str, page: int | None = None,
                   anchor: str | None = None):
    """One entry of the table of contents (the first opens the TOC field, the last closes it),
    before the paragraph `before` or at the end."""
    style = doc.styles[TOC_STYLES[level]]
    p = before.insert_paragraph_before(style=style) if before is not None else doc.add_paragraph(style=style)
    if index == 0:
        _fld_char(p, "begin", dirty=page is None)
        run = p.add_run()
        instr = OxmlElement("w:instrText")
        instr.set(qn("xml:space"), "preserve")
        instr.text = TOC_INSTRUCTION
        run._r.append(instr)
        _fld_char(p, "separate")
    runs = [p.add_run(text)]
    if page is not None:
        runs.append(p.add_run())
        runs[-1].add_tab()
        runs.append(p.add_run(str(page)))
    if anchor:
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), anchor)
        link.set(qn("w:history"), "1")
        runs[0]._r.addprevious(link)
        for run in runs:
            link.append(run._r)
    if index == count - 1:
        _fld_char(p, "end")
    return p


def _toc(doc, model: ReportModel) -> list:
    """The table of contents as model.outline() gives it, without page numbers yet: a dirty TOC
    field, for Word to update on opening unless `_number_toc` writes the pages. Its paragraphs."""
    title = doc.add_paragraph()
    run = title.add_run("目录")
    run.bold = True
    run.font.size = Pt(18)
    title.paragraph_format.space_after = Pt(12)
    outline = model.outline()
    return [_toc_paragraph(doc, None, index, len(outline), level, text)
            for index, (level, _, text) in enumerate(outline)]


def _headings(doc) -> list[tuple[int, object]]:
    """(level, paragraph) of every heading the TOC field (levels 1-2) lists, in order."""
    levels = {"Heading 1": 1, "Heading 2": 2}
    return [(levels[p.style.name], p) for p in doc.paragraphs if p.style is not None and p.style.name in levels]


def _number_toc(doc, toc: list, layout: office.Layout) -> bool:
    """Replace the TOC field's result by LibreOffice's: every heading with its page and a link to
    it (a _Toc bookmark, as Word makes them). False, and nothing changed, when LibreOffice's list of
    headings is not the document's."""
    headings = _headings(doc)

    def same(a: str) -> str:
        return " ".join(a.split())

    if [same(p.text) for _, p in headings] != [same(text) for text, _ in layout.entries]:
        log.warning("LibreOffice 的目录与文档标题不一致；Word 目录的页码将在 Word 打开文件时更新")
        return False
    for number, (_, paragraph) in enumerate(headings, start=1):
        name = f"_Toc{number:08d}"
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(number))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(number))
        p = paragraph._p
        first = p.pPr.getnext() if p.pPr is not None else (p[0] if len(p) else None)
        if first is None:
            p.append(start)
        else:
            first.addprevious(start)
        p.append(end)
    following = toc[-1]._p.getnext()
    for paragraph in toc:
        paragraph._p.getparent().remove(paragraph._p)
    before = Paragraph(following, toc[0]._parent) if following is not None else None
    for index, ((level, _), (_, page)) in enumerate(zip(headings, layout.entries)):
        text = headings[index][1].text
        _toc_paragraph(doc, before, index, len(headings), level, text, page, f"_Toc{index + 1:08d}")
    return True


def _style_tab_stops(style) -> list:
    return [stop.position for stop in style.paragraph_format.tab_stops]


def _chapters_section(doc, model: ReportModel) -> None:
    """The chapters in a section of their own, on a new page after the table of contents, whose
    running header has the report's title and, on the right, the current chapter (a STYLEREF field:
    the first Heading 1 on the page, else the last one before it). The footer, with the page number,
    and the numbering continue from the cover and contents."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.different_first_page_header_footer = False
    section.header.is_linked_to_previous = False
    header = section.header.paragraphs[0]
    tabs = header.paragraph_format.tab_stops
    for position in _style_tab_stops(doc.styles["Header"]):  # the template's centre and right tabs (Letter)
        tabs.add_tab_stop(position, WD_TAB_ALIGNMENT.CLEAR)
    tabs.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    header.add_run(f"{model.title}（{model.label}）\t")
    # No cached chapter name: Word computes the field on every page; LibreOffice 7.4 does not, and
    # would print the cached name on every page.
    _field(header, 'STYLEREF "Heading 1"')
    for run in header.runs:
        run.font.size = Pt(8)
        run.font.color.rgb = MUTED


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    tr_pr.append(element)


def _cant_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tc_pr.append(shading)


def _table(doc, headers: list[str], rows: list[list[str]], widths_cm: list[float], numeric: set[int] = frozenset(),
           caption: str | None = None, small: bool = False):
    if caption:
        p = doc.add_paragraph(caption)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.runs[0].bold = True
        p.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    header = table.rows[0]
    _repeat_header(header)
    _cant_split(header)
    for i, text in enumerate(headers):
        cell = header.cells[i]
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT if i in numeric else WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, "EEF2F6")
    for values in rows:
        row = table.add_row()
        _cant_split(row)
        for i, text in enumerate(values):
            cell = row.cells[i]
            cell.text = text
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            if i in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    # Word reads the cell widths, LibreOffice the table grid: set both.
    for i, width in enumerate(widths_cm):
        table.columns[i].width = Cm(width)
    for row in table.rows:
        for i, width in enumerate(widths_cm):
            row.cells[i].width = Cm(width)
    if small:
        for row in table.rows:
            for cell in row.cells:
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(8.5)
    doc.add_paragraph().paragraph_format.space_after = Pt(2)
    return table


def _fitted_widths(headers: list[str], rows: list[list[str]], total_cm: float = 16.0) -> list[float]:
    """Column widths in proportion to the widest text of each column (a CJK character is two
    cells wide), so that dates and codes are not broken over lines in a wide table."""
    from rich.cells import cell_len

    need = [max(cell_len(text) for text in (headers[i], *(r[i] for r in rows))) + 2 for i in range(len(headers))]
    return [total_cm * n / sum(need) for n in need]


def _picture(doc, chart, caption: str) -> None:
    doc.add_picture(io.BytesIO(chart.png), width=Cm(15.5))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph(caption)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.runs[0].font.size = Pt(9)
    p.runs[0].font.color.rgb = MUTED


def _paragraph(doc, text: str, indent: bool = True):
    p = doc.add_paragraph(text)
    if indent:
        p.paragraph_format.first_line_indent = Pt(21)
    return p


def write_markdown(doc, markdown: str) -> None:
    """An office chapter into the document: headings, paragraphs with bold and italic, lists,
    tables, block quotes and embedded (data: URI) pictures, as the HTML shows them."""
    items = md.tokens(markdown)
    lists: list[list] = []  # [ordered, counter] per open list
    quote = 0
    i = 0
    while i < len(items):
        token = items[i]
        kind = token.type
        if kind == "heading_open":
            level = 2 if md._heading_level(token.tag) == 2 else 3
            doc.add_heading(items[i + 1].content.strip(), level=level)
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1) - 1])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "table_open":
            i = _markdown_table(doc, items, i)
            continue
        elif kind in ("fence", "code_block"):
            p = doc.add_paragraph(token.content.rstrip("\n"))
            p.paragraph_format.left_indent = Cm(0.8)
            for run in p.runs:
                run.font.size = Pt(9)
        elif kind == "inline" and items[i - 1].type == "paragraph_open":
            p = doc.add_paragraph()
            in_item = bool(lists) and items[i - 2].type == "list_item_open"
            if lists:
                p.paragraph_format.left_indent = Cm(0.8 * len(lists))
                if in_item:
                    ordered = lists[-1]
                    ordered[1] += 1
                    p.add_run(f"{ordered[1]}. " if ordered[0] else "• ")
            elif quote:
                p.paragraph_format.left_indent = Cm(1.2)
            else:
                p.paragraph_format.first_line_indent = Pt(21)
            _runs(doc, p, token)
        i += 1


def _runs(doc, paragraph, token) -> None:
    for text, style in md.inline_runs(token):
        if "image" in style:
            data = md.image_bytes(style["image"])
            if data is not None:
                try:
                    paragraph.add_run().add_picture(io.BytesIO(data), width=Cm(14))
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    continue
                except Exception:  # noqa: BLE001 - not a picture Word can show: said in words
                    pass
            paragraph.add_run(text)
            continue
        run = paragraph.add_run(text)
        run.bold = style.get("bold") or None
        run.italic = style.get("italic") or None
        if style.get("code"):
            run.font.size = Pt(9.5)


def _markdown_table(doc, items, start: int) -> int:
    """A Markdown table (from its table_open token) as a Word table; the index after it."""
    rows: list[list[str]] = []
    i = start
    while items[i].type != "table_close":
        if items[i].type == "tr_open":
            rows.append([])
        elif items[i].type == "inline":
            rows[-1].append(items[i].content.strip())
        i += 1
    if rows:
        headers, body = rows[0], [r + [""] * (len(rows[0]) - len(r)) for r in rows[1:]]
        _table(doc, headers, body, _fitted_widths(headers, body))
    return i + 1


def write_docx(model: ReportModel, path: Path) -> Path:
    doc = Document()
    _styles(doc, model.font)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.2)
    section.different_first_page_header_footer = True  # the cover has no page number
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _field(footer, "PAGE", "1")
    footer.add_run(" 页")
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = header.add_run(f"{model.title}（{model.label}）")
    run.font.size = Pt(8)
    run.font.color.rgb = MUTED
    doc.core_properties.title = model.title
    doc.core_properties.subject = model.subtitle
    doc.core_properties.author = "、".join(model.producing_units) or model.city
    accent = RGBColor.from_string(model.cover_color.lstrip("#").upper())

    # cover
    def centred(text: str, size: float | None = None, color=None, bold: bool = False):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if color is not None:
            run.font.color.rgb = color
        return p

    for _ in range(8):
        doc.add_paragraph()
    centred(model.city or "政务新媒体传播影响力评估", 14 if model.city else None, MUTED)
    centred(model.title, 28, accent, bold=True)
    centred(model.subtitle, 14)
    for _ in range(8):
        doc.add_paragraph()
    if model.guiding_units:
        centred("　".join(model.guiding_units) + "　指导", 12)
    if model.producing_units:
        centred("　".join(model.producing_units), 12)
        centred("联合出品" if len(model.producing_units) > 1 else "出品", 12)
    centred(model.published, 12).runs[0].add_break(WD_BREAK.PAGE)

    toc = _toc(doc, model)
    _chapters_section(doc, model)

    for index, (key, heading) in enumerate(model.chapters()):
        # the first chapter opens the new section's first page
        doc.add_heading(heading, level=1).paragraph_format.page_break_before = index > 0 and model.breaks_page(key)
        if key.startswith("office-"):
            write_markdown(doc, model.office_chapter(key).markdown)
        elif key == "appendix":
            m = model.methodology
            _paragraph(doc, f"本报告的分数由方法「{m.title or m.name}」（{m.name}）计算。")
            for text in m.appendix:
                _paragraph(doc, text)
            for d in m.dimensions:
                doc.add_heading(f"{d.name}（权重 {d.weight:g}）", level=3)
                for formula in d.formulas:
                    p = doc.add_paragraph(formula)
                    p.paragraph_format.left_indent = Cm(0.8)
                    p.runs[0].font.size = Pt(9.5)
            p = doc.add_paragraph(f"方法文件 {m.file_name}，sha256 {m.sha256}：同一文件可重算出本报告的每一个分数。")
            p.runs[0].font.size = Pt(8.5)
            p.runs[0].font.color.rgb = MUTED
        elif key == "overview":
            o = model.overview
            for text in o.paragraphs:
                _paragraph(doc, text)
            widths = [2.0, 5.2, 3.4] + ([3.4, 2.4] if o.compare else [])
            caption = f"{model.label}各平台发布与互动" + (f"（同比为与{o.previous_label}相比）" if o.compare else "")
            _table(doc, o.headers, o.table_rows(), widths, numeric=set(range(2, len(o.headers))), caption=caption)
            if o.million:
                _table(doc, ["平台", "名称", "粉丝数"],
                       [[PLATFORM_NAMES[a["platform"]], a["name"], f"{a['followers']:,}"] for a in o.million],
                       [2.5, 8.0, 3.5], numeric={2}, caption="粉丝数百万级账号")
            if o.trend:
                _picture(doc, o.trend, f"图：{o.trend.title}")
            for block in o.blocks:
                doc.add_heading(block.title, level=2)
                for text in block.paragraphs:
                    _paragraph(doc, text)
                if block.headers:
                    _table(doc, block.headers, block.rows, _fitted_widths(block.headers, block.rows),
                           small=len(block.headers) > 6)
        elif key == "methodology":
            m = model.methodology
            for text in m.intro:
                _paragraph(doc, text)
            for d in m.dimensions:
                doc.add_heading(f"“{d.name}”（权重 {d.weight:g}）", level=3)
                for text in d.paragraphs:
                    _paragraph(doc, text)
            doc.add_heading("分数与排名", level=3)
            for text in m.rules:
                _paragraph(doc, text)
        elif key == "rankings":
            for _, sub, items in model.platform_rankings():
                doc.add_heading(sub, level=2)
                for index, k in enumerate(items, start=1):
                    doc.add_heading(f"{index}. {k.title}", level=3)
                    for text in k.commentary:
                        _paragraph(doc, text)
                    _table(doc, ["排名", "名称", k.column], k.table_rows(), [1.8, 8.5, 3.0], numeric={2},
                           caption=k.title)
                    if k.chart:
                        _picture(doc, k.chart, f"图：{k.chart.title}（{k.column}得分）")
        elif key == "cases":
            if not model.cases:
                _paragraph(doc, "本期间没有登记创新案例。")
            for index, group in enumerate(model.cases, start=1):
                doc.add_heading(f"{index}. {group.category}", level=2)
                for case in group.cases:
                    p = doc.add_paragraph()
                    p.paragraph_format.keep_with_next = True
                    p.paragraph_format.space_before = Pt(8)
                    p.add_run(case["title"]).bold = True
                    if case.get("text") or case.get("figures"):
                        _paragraph(doc, (case.get("text") or "") + (case.get("figures") or ""))
                    if case.get("unit"):
                        p = doc.add_paragraph(f"（{case['unit']}）")
                        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif key == "annexes":
            for annex in model.annexes:
                doc.add_heading(annex.title, level=2)
                for sub, entries in annex.groups:
                    if sub:
                        doc.add_heading(sub, level=3)
                    if annex.numbered:
                        for number, entry in enumerate(entries, start=1):
                            p = doc.add_paragraph(f"{number}. {entry}")
                            p.paragraph_format.left_indent = Cm(0.8)
                            p.paragraph_format.first_line_indent = Cm(-0.8)
                            p.paragraph_format.space_after = Pt(1)
                    else:
                        _paragraph(doc, "、".join(entries), indent=False)
    doc.save(str(path))
    layout = office.toc_pages(path)
    if layout is not None and _number_toc(doc, toc, layout):
        doc.save(str(path))
    return path
