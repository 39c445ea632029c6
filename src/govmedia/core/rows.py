"""The canonical rows every reader produces and the store takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping


# Post attributes merged across sources (store/writer.py), in the order of their bits in a "native"
# bit set (frozen: stores keep these bits).
MERGED = ("published_at", "is_original", "forms", "title", "text", "url", "position")


def native_bits(native) -> int:
    """The bit set of the merged attributes a source states itself (bit i: MERGED[i])."""
    return sum(1 << i for i, f in enumerate(MERGED) if f in native)


@dataclass(slots=True)
class Post:
    """One post as observed once: its attributes and one snapshot of its metrics."""

    line: int
    platform: str
    account_id: str
    post_id: str
    published_at: datetime
    observed_at: datetime | None
    is_original: bool | None
    forms: tuple[str, ...]
    title: str | None
    text: str | None
    url: str | None
    position: int | None
    metrics: tuple[int | None, ...]  # in vocabulary.METRICS order
    hashtags: tuple[str, ...]
    native: frozenset[str] = frozenset()  # attributes read from the source's own columns, not derived


@dataclass(slots=True)
class Comment:
    line: int
    platform: str
    comment_id: str
    post_id: str
    author_id: str
    author_sec_uid: str | None
    parent_comment_id: str | None  # None for a top-level comment
    commented_at: datetime
    observed_at: datetime | None
    text: str | None


@dataclass(slots=True)
class Reject:
    """A source row that was not taken: its line, the column and the reason in plain words."""

    line: int
    column: str | None
    reason: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class AccountRow:
    line: int
    platform: str
    account_id: str
    name: str
    category: str
    organization: str | None
    region: str | None
    followers: int | None
    active: bool | None
    opened_at: date | None
    deactivated_on: date | None = None  # 停用日期; given alone it also means 停用
