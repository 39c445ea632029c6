"""Ingest: one module per source format, all producing canonical rows validated in one place.

Entry point: `import_path` (what `govmedia import` calls).
"""

from govmedia.ingest.pipeline import (
    FORMAT_NAMES,
    FileReport,
    ImportInterrupted,
    ImportSummary,
    import_path,
    parse_account_option,
    require_account,
)

__all__ = ["FORMAT_NAMES", "FileReport", "ImportInterrupted", "ImportSummary", "import_path", "parse_account_option", "require_account"]
