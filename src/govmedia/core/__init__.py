"""The ground floor: the domain's vocabulary, its row types, Beijing time, months and periods,
and the errors users read. Every package may import it; it imports nothing else of govmedia."""

from govmedia.core.errors import FIELD_LABELS, FieldError, UserError
from govmedia.core.rows import AccountRow, Comment, Post, Reject
from govmedia.core.time import BEIJING, UTC_OFFSET, UTC_OFFSET_HOURS, Month, Period, months_between, to_local, utcnow
from govmedia.core.vocabulary import (
    CATEGORIES, CATEGORY_NAMES, DIMENSION_NAMES, DIMENSIONS, FORM_LABELS, FORMS, INNOVATIVE_FORMS, METRIC_NAMES,
    METRICS, PLATFORM_NAMES, PLATFORMS, PROFILES, PlatformProfile, extract_hashtags, parse_category, parse_platform,
)

__all__ = [
    "FIELD_LABELS", "FieldError", "UserError", "AccountRow", "Comment", "Post", "Reject", "BEIJING", "UTC_OFFSET",
    "UTC_OFFSET_HOURS", "Month", "Period", "months_between", "to_local", "utcnow", "CATEGORIES", "CATEGORY_NAMES",
    "DIMENSION_NAMES", "DIMENSIONS", "FORM_LABELS", "FORMS", "INNOVATIVE_FORMS", "METRIC_NAMES", "METRICS",
    "PLATFORM_NAMES", "PLATFORMS", "PROFILES", "PlatformProfile", "extract_hashtags", "parse_category",
    "parse_platform",
]
