"""An upload's import in a process of its own, as `govmedia import` runs beside the site.

A site process serves its pages from one event loop; an import run on a thread of that process
competes with it for the interpreter (reading, checking and unzipping hold it for long stretches),
so its pages slowed from milliseconds to seconds while an upload ran, and the upload ran slower
than the same import from the command line. The job runner therefore starts this module with
`python -m govmedia.web.importer` at its first upload and keeps it for the next ones: it takes
the store through `Access` like any other process (a unit per run of files), imports, rescores
the months it changed and writes one JSON line per event on stdout:

    {"files": [done, total, name]}      before each file and at the end
    {"rows": [name, done, total]}       as a file's rows are written
    {"result": {...}}                   the job's result (`api.ImportReport` with `rescored`)
    {"error": "...", "status": 400, "retry_after": null, "partial": {...} | null}

Each request comes as one JSON line on stdin: db, upload_id, folder, file_name, unpacked (the
site unpacked the upload already, checking the zip against its limits), format, account, actor,
methodology.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

log = logging.getLogger("govmedia.web.importer")


def _say(event: dict) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def run(request: dict) -> dict:
    """Import and rescore one saved upload; the event that ends it (`result` or `error`)."""
    from govmedia.core.errors import UserError
    from govmedia.ingest import ImportInterrupted
    from govmedia.ingest.upload import Received, import_received
    from govmedia.scoring import rescore_months
    from govmedia.store.access import Access
    from govmedia.web.api import Rescored, import_report
    from govmedia.web.deps import message
    from govmedia.web.jobs import failure, interrupted_words

    access = Access(request["db"])
    received = Received(request["upload_id"], Path(request["folder"]), request["file_name"])
    methodology, actor = request.get("methodology"), request.get("actor")

    def rescore(months, interrupted=None) -> list:
        with access.write(declared=True) as con:
            if interrupted is not None:
                interrupted.record(con)  # its audit entry, if the store refused it when the import stopped
            return rescore_months(con, months, methodology=methodology, actor=actor) if months else []

    try:
        upload = import_received(access.write, received, format=request.get("format") or "auto",
                                 account=request.get("account"), actor=actor, unpacked=Path(request["unpacked"]),
                                 progress=lambda name, done, total: _say({"rows": [name, done, total]}),
                                 files_progress=lambda done, total, name: _say({"files": [done, total, name]}))
        report = import_report(upload)
        rescored = rescore(upload.summary.months)
        report.rescored = [Rescored(from_=r.months[0], to=r.months[-1], rows=r.rows) for r in rescored]
        return {"result": report.model_dump(by_alias=True)}
    except ImportInterrupted as exc:  # its committed files stay: rescored, and listed in the result
        report = import_report(exc.upload)
        words, rescored = interrupted_words(exc, lambda: rescore(exc.summary.months, exc))
        report.rescored = [Rescored(from_=r.months[0], to=r.months[-1], rows=r.rows) for r in rescored]
        return {"error": message(UserError(words)), "status": getattr(exc, "http_status", None) or 400,
                "retry_after": getattr(exc, "retry_after", None), "partial": report.model_dump(by_alias=True)}
    except Exception as exc:  # noqa: BLE001 - said as the in-process runner says it (the site discards the upload)
        if not isinstance(exc, UserError):
            log.exception("import of upload %s failed", request.get("upload_id"))
        error, text = failure(exc)
        status = getattr(error, "http_status", None) or (400 if isinstance(error, UserError) else 500)
        return {"error": text, "status": status,
                "retry_after": getattr(error, "retry_after", None), "partial": None}


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for line in sys.stdin:  # one upload a line, until the site closes its end
        if line.strip():
            _say(run(json.loads(line)))


if __name__ == "__main__":
    main()
