"""HTML (one self-contained file: CSS inline, charts as data: URIs) and PDF (WeasyPrint on the same
template with print CSS: A4, cover, table of contents with page numbers, page numbers, repeated
table headers)."""

from __future__ import annotations

import base64
from importlib import resources
from pathlib import Path

import jinja2

from govmedia.core.vocabulary import CATEGORY_NAMES
from govmedia.core.vocabulary import PLATFORM_NAMES
from govmedia.reports.model import ReportModel


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("govmedia.reports").joinpath("templates"))),
        autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
    )
    env.globals.update(PLATFORM_NAMES=PLATFORM_NAMES, CATEGORY_NAMES=CATEGORY_NAMES,
                       data_uri=lambda png: "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
    return env


def render_html(model: ReportModel, *, pdf: bool = False) -> str:
    return _environment().get_template("report.html").render(r=model, pdf=pdf)


def write_html(model: ReportModel, path: Path) -> Path:
    path.write_text(render_html(model), encoding="utf-8")
    return path


def write_pdf(model: ReportModel, path: Path) -> Path:
    import logging

    import weasyprint

    # WeasyPrint logs every unsupported CSS property at WARNING; the report's CSS is known-good.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    html = weasyprint.HTML(string=render_html(model, pdf=True), base_url=None)
    html.write_pdf(str(path))
    return path
