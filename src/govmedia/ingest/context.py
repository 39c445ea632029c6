"""What a format module gets (Context) and gives back (Source)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from govmedia.ingest.canonical import Record


@dataclass(frozen=True)
class Context:
    """What the importer knows besides the file: the --account option and the registry."""

    forced: tuple[str, str] | None  # (platform, account_id) from --account
    registered: frozenset[tuple[str, str]]
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (platform, name) -> account ids


@dataclass
class Source:
    """A file read by a format module: its rows mapped onto canonical fields."""

    format: str
    platform: str | None  # the platform every row of this format belongs to, if fixed
    records: Iterable[Record] = ()
    notes: list[str] = field(default_factory=list)
    frame: Any = None  # a format that maps whole columns gives its ingest.frame.Frame instead of records
