"""An office's own chapters, written in Markdown (headings, emphasis, lists, tables, images), read
once by markdown-it-py and rendered the same way into the HTML/PDF report and the Word document.

Raw HTML in the Markdown is shown as text, not interpreted. Images are embedded only from data:
URIs (what a pasted picture becomes); any other address is shown as its description, so that a
report never fetches a file or a URL the office did not put into it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from govmedia.core.text import tight

_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg|gif);base64,([A-Za-z0-9+/=\s]+)$")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


@dataclass
class Heading:
    level: int  # 2 under the chapter's title, 3 below
    text: str
    anchor: str


def _heading_level(tag: str) -> int:
    """`#`/`##` become the chapter's sections (level 2), deeper ones level 3: the chapter's own
    title is level 1."""
    return 2 if int(tag[1]) <= 2 else 3


def _tightened(items: list[Token]) -> list[Token]:
    """Text set as Chinese print sets it (core.text.tight): an office writes "SVG 动画", "30 条",
    and a justified line would widen those spaces into gaps."""
    for token in items:
        texts = [c for c in token.children or [] if c.type == "text"]
        for child in texts:
            child.content = tight(child.content)
        # Across emphasis: "发布 30 条 **SVG 动画**" has its space at the end of one text token.
        for this, following in zip(texts, texts[1:]):
            left, right = this.content.rstrip(" \t"), following.content.lstrip(" \t")
            if left and right and (left, right) != (this.content, following.content) and tight(left[-1] + " " + right[0]) != left[-1] + " " + right[0]:
                this.content, following.content = left, right
        if token.type == "inline":
            token.content = tight(token.content)
    return items


def tokens(markdown: str) -> list[Token]:
    return _tightened(_parser().parse(markdown or ""))


def headings(markdown: str, prefix: str) -> list[Heading]:
    out, items = [], tokens(markdown)
    for i, token in enumerate(items):
        if token.type == "heading_open":
            out.append(Heading(_heading_level(token.tag), items[i + 1].content.strip(), f"{prefix}-{len(out) + 1}"))
    return out


def image_bytes(src: str) -> bytes | None:
    match = _DATA_IMAGE.match(src or "")
    if not match:
        return None
    try:
        return base64.b64decode(re.sub(r"\s+", "", match.group(2)), validate=True)
    except (binascii.Error, ValueError):
        return None


def to_html(markdown: str, prefix: str) -> str:
    """The chapter's body as HTML: headings as h3/h4 with anchors for the table of contents."""
    md = _parser()
    items = _tightened(md.parse(markdown or ""))
    count = 0
    for i, token in enumerate(items):
        if token.type in ("heading_open", "heading_close"):
            level = _heading_level(token.tag)
            token.tag = "h3" if level == 2 else "h4"
            if token.type == "heading_open":
                count += 1
                token.attrSet("id", f"{prefix}-{count}")
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "image" and image_bytes(child.attrGet("src") or "") is None:
                    # Not embedded: said in words, never fetched.
                    alt = "".join(c.content for c in child.children or []) or "图片"
                    child.type, child.tag, child.content, child.children = "text", "", f"［图：{alt}］", None
        if token.type == "table_open":
            token.attrSet("class", "office")
    return md.renderer.render(items, md.options, {})


def inline_runs(token: Token) -> list[tuple[str, dict]]:
    """(text, {bold, italic, code}) runs of an inline token, for Word."""
    runs: list[tuple[str, dict]] = []
    style = {"bold": 0, "italic": 0, "code": False}
    for child in token.children or []:
        if child.type == "strong_open":
            style["bold"] += 1
        elif child.type == "strong_close":
            style["bold"] -= 1
        elif child.type == "em_open":
            style["italic"] += 1
        elif child.type == "em_close":
            style["italic"] -= 1
        elif child.type in ("text", "code_inline"):
            runs.append((child.content, {"bold": style["bold"] > 0, "italic": style["italic"] > 0,
                                          "code": child.type == "code_inline"}))
        elif child.type in ("softbreak", "hardbreak"):
            runs.append(("\n" if child.type == "hardbreak" else "", {"bold": False, "italic": False, "code": False}))
        elif child.type == "image":
            alt = "".join(c.content for c in child.children or []) or "图片"
            runs.append((f"［图：{alt}］", {"image": child.attrGet("src") or "", "alt": alt}))
    return runs
