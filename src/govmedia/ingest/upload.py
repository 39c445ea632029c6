"""A file sent through the site or the API: kept under the store's uploads folder (a .zip is
unpacked: a crawler's whole folder), imported, and the import audited.

`import_upload` does it all on one connection. A server splits it: `receive_upload` saves the
bytes during the request, `import_received` unpacks and imports later, in a job."""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager

from govmedia.core.errors import FieldError, UserError, write_failed
from govmedia.core.rows import Reject
from govmedia.core.text import printable
from govmedia.ingest.accounts import import_accounts
from govmedia.ingest.pipeline import FilesCallback, ImportSummary, ProgressCallback, import_path
from govmedia.ingest.rejects import rejects_path_for, write_rejects
from govmedia.store.access import nothing_changed
from govmedia.store.accounts import UpsertResult
from govmedia.store.users import audit

# Bounds on what one upload may make the server do.
MAX_UPLOAD_BYTES = int(os.environ.get("GOVMEDIA_MAX_UPLOAD_MB", "200")) * 1024 * 1024
MAX_UNPACKED_BYTES = 4 * MAX_UPLOAD_BYTES
MAX_ZIP_MEMBERS = 5000
MAX_NAME_BYTES = 200  # a file system's limit is 255 bytes per name; room for ".rejects.csv"


@dataclass
class Upload:
    upload_id: str
    folder: Path  # uploads/<upload_id>/
    file_name: str
    summary: ImportSummary


def _save(stream: BinaryIO, target: Path) -> None:
    written = 0
    with target.open("wb") as handle:
        while chunk := stream.read(1024 * 1024):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise FieldError("file", target.name,
                                 f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB 上限；请拆分后分批上传")
            handle.write(chunk)


def _unpack(archive_path: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise FieldError("file", archive_path.name, f"压缩包中有 {len(members)} 个文件，超过 {MAX_ZIP_MEMBERS} 个上限")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise FieldError("file", archive_path.name,
                                 f"压缩包解压后超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB 上限；请拆分后分批上传")
            root = into.resolve()
            for member in members:
                if not (into / member.filename).resolve().is_relative_to(root):
                    raise FieldError("file", member.filename, f"压缩包中的路径不安全: {member.filename}")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise FieldError("file", archive_path.name, f"{archive_path.name} 不是有效的 zip 文件") from exc


@dataclass
class Received:
    """An upload saved under `uploads/<upload_id>/`, not yet unpacked nor imported."""
    upload_id: str
    folder: Path
    file_name: str

    @property
    def saved(self) -> Path:
        return self.folder / self.file_name


def receive_upload(uploads: Path, file_name: str | None, stream: BinaryIO) -> Received:
    """Save the upload's bytes under `uploads/<id>/` (bounded in size). Nothing is unpacked or
    imported yet: a server saves during the request and imports later (`import_received`)."""
    name = Path((file_name or "").replace("\\", "/")).name
    if not name or name.startswith(".") or printable(name) != name or "\n" in name or "\r" in name:
        raise FieldError("file", _shown(file_name), "文件名无效；请选择要上传的文件，文件名中不要有控制字符")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise FieldError("file", _shown(name), f"文件名太长（{len(name)} 个字符）；请把文件名改短（不超过 60 个汉字或 "
                                               f"{MAX_NAME_BYTES} 个英文字符）后再上传")
    upload_id = datetime.now().strftime("%Y%m%d%H%M%S%f")
    folder = uploads / upload_id
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _save(stream, folder / name)
    except UserError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except OSError as exc:  # a full disk, a read-only or vanished folder: nothing half-saved stays
        shutil.rmtree(folder, ignore_errors=True)
        raise write_failed(exc, "上传的文件未能保存") from exc
    return Received(upload_id, folder, name)


def _shown(name: str | None) -> str:
    """A file name as a message may quote it: printable and not too long."""
    text = printable(name or "")
    return text if len(text) <= 60 else text[:57] + "…"



def unpack_upload(received: Received) -> Path:
    """What to import: the saved file, or for a .zip the folder it unpacks to."""
    target = received.saved
    if target.suffix.lower() != ".zip":
        return target
    source = received.folder / "unpacked"
    try:
        _unpack(target, source)
    except UserError:
        shutil.rmtree(received.folder, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(received.folder, ignore_errors=True)
        raise write_failed(exc, "压缩包未能解压") from exc
    return source


def import_received(connect: Callable[[], ContextManager], received: Received, *, format: str = "auto",
                    account: str | None = None, actor: str | None = None, progress: ProgressCallback | None = None,
                    files_progress: FilesCallback | None = None) -> Upload:
    """Unpack and import a saved upload, taking the connection from `connect()` (a context manager:
    the server's serialised write) only for each database write, and audit the import."""
    source = unpack_upload(received)
    summary = import_path(connect, source, format=format, account=account or None, progress=progress,
                          files_progress=files_progress)
    with connect() as con:
        nothing_changed(con)  # the audit row is bookkeeping
        _audit(con, actor, received.file_name, summary)
    return Upload(received.upload_id, received.folder, received.file_name, summary)


@dataclass
class RegistryUpload:
    received: Received
    result: UpsertResult
    rejects: list[Reject]
    rejects_path: Path | None  # uploads/<id>/<name>.rejects.csv, as `accounts import` writes it


def import_registry_upload(con, uploads: Path, file_name: str | None, stream: BinaryIO,
                           actor: str | None) -> RegistryUpload:
    """A registry file (CSV or XLSX) sent through the site: kept under `uploads/<id>/`, imported as
    `govmedia accounts import` imports it (one transaction, audited), its rejected rows written
    beside it."""
    received = receive_upload(uploads, file_name, stream)
    if received.saved.suffix.lower() not in (".csv", ".xlsx", ".xlsm", ".tsv", ".txt"):
        shutil.rmtree(received.folder, ignore_errors=True)
        raise FieldError("file", received.file_name, f"{received.file_name} 不是 CSV 或 XLSX 文件；账号名录请用 Excel "
                                                     "另存为 .xlsx 或 .csv 后上传")
    # The rejects file is named before the import so that its audit entry records it: the site hands
    # out only rejects files an import recorded.
    rejects_name = rejects_path_for(received.saved, received.folder).name
    try:
        table, result, rejects = import_accounts(con, received.saved, actor, provenance={
            "upload_id": received.upload_id, "rejects_file": rejects_name})
    except UserError as exc:
        shutil.rmtree(received.folder, ignore_errors=True)
        raise UserError(str(exc).replace(str(received.saved), received.file_name)) from exc
    return RegistryUpload(received, result, rejects, write_rejects(table.path, table, rejects, received.folder))


def _audit(con, actor: str | None, name: str, summary: ImportSummary) -> None:
    audit(con, actor, "imports.upload", {"file": name, "accepted": summary.accepted, "rejected": summary.rejected,
                                         "unchanged": summary.unchanged})


def import_upload(con, uploads: Path, file_name: str | None, stream: BinaryIO, *, format: str = "auto",
                  account: str | None = None, actor: str | None = None) -> Upload:
    """Keep the upload under `uploads/<id>/`, unpack a .zip, import it and audit the import."""
    received = receive_upload(uploads, file_name, stream)
    source = unpack_upload(received)
    summary = import_path(con, source, format=format, account=account or None)
    _audit(con, actor, received.file_name, summary)
    return Upload(received.upload_id, received.folder, received.file_name, summary)
