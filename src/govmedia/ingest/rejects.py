"""The rejects file: every refused row with its line, column and reason, next to the input."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from govmedia.core.text import inert
from govmedia.ingest.canonical import Reject
from govmedia.ingest.tabular import Table


def rejects_path_for(path: Path, rejects_dir: str | Path | None) -> Path:
    folder = Path(rejects_dir) if rejects_dir else path.parent
    return folder / f"{path.name}.rejects.csv"


def write_rejects(path: Path, table: Table, rejects: list[Reject], rejects_dir) -> Path | None:
    """Rejected rows with line, column and reason, then the row as read; UTF-8 with BOM for Excel."""
    target = rejects_path_for(path, rejects_dir)
    if not rejects:
        if target.exists():
            target.unlink()  # a stale file would contradict this run
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = [h for h in table.header if h]
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["行号", "列", "原因", *(inert(_sound(c)) for c in columns)])
        for reject in rejects:
            raw = reject.raw or {}
            cells = [_cell(raw.get(c)) for c in columns]
            if "__text__" in raw:
                cells = [_sound(raw["__text__"])]
            # The rows were refused: whatever they hold is opened in Excel as inert text.
            writer.writerow([reject.line, inert(reject.column or ""), inert(reject.reason), *(inert(c) for c in cells)])
    return target


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return _sound(json.dumps(value, ensure_ascii=False))
    return _sound(str(value))


# Half a surrogate pair (JSON's "\ud83c" alone) cannot be written in UTF-8: shown as U+FFFD, the
# character a reader shows for what cannot be read.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _sound(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text)
