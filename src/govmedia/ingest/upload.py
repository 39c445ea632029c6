"""A file sent through the site or the API: kept under the store's uploads folder (a .zip is
unpacked: a crawler's whole folder, checked entry by entry against the limits), imported, and the
import audited. Once imported only its rejects files stay; a failed upload leaves nothing.

`import_upload` does it all on one connection. A server splits it: `receive_upload` saves the
bytes during the request, `import_received` unpacks and imports later, in a job."""

from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager

from govmedia.core.errors import FieldError, UserError, write_failed
from govmedia.core.rows import Reject
from govmedia.core.text import printable
from govmedia.ingest.accounts import import_accounts
from govmedia.ingest.pipeline import FilesCallback, ImportInterrupted, ImportSummary, ProgressCallback, import_path
from govmedia.ingest.rejects import rejects_path_for, write_rejects
from govmedia.store.access import nothing_changed
from govmedia.store.accounts import UpsertResult
from govmedia.store.users import audit

# Bounds on what one upload may make the server do. The sizes are settings read at each use, so a
# running site and its tests see a change (`GOVMEDIA_MAX_UPLOAD_MB`, `GOVMEDIA_MAX_CITY_MB`).
MB = 1024 * 1024
DEFAULT_UPLOAD_MB = 200
DEFAULT_CITY_MB = 5
UNPACKED_FACTOR = 4  # a zip may unpack to this many times the upload limit
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_RATIO = 100  # deflate reaches ~1000:1 on repeated bytes; real tables compress 3–20:1
RATIO_FROM_BYTES = 1 * MB  # an entry smaller than this cannot be a bomb, however well it compresses
MAX_NAME_BYTES = 200  # a file system's limit is 255 bytes per name; room for ".rejects.csv"
CHUNK = 1024 * 1024


def _megabytes(name: str, default: float) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return int(default * MB)
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not number > 0 or number != number or number == float("inf"):
        raise UserError(f"环境变量 {name} 应为正数（单位 MB），而不是 {value!r}")
    return int(number * MB)


def max_upload_bytes() -> int:
    """The largest file one upload may be (GOVMEDIA_MAX_UPLOAD_MB, 200 MB by default)."""
    return _megabytes("GOVMEDIA_MAX_UPLOAD_MB", DEFAULT_UPLOAD_MB)


def max_unpacked_bytes() -> int:
    """The most a zip upload may unpack to, all entries together."""
    return UNPACKED_FACTOR * max_upload_bytes()


def max_city_bytes() -> int:
    """The largest table the anonymous city-index form takes (GOVMEDIA_MAX_CITY_MB, 5 MB)."""
    return _megabytes("GOVMEDIA_MAX_CITY_MB", DEFAULT_CITY_MB)


def size_text(size: int) -> str:
    """A limit as a user reads it: "200 MB", "0.5 MB"."""
    return f"{round(size / MB, 2):g} MB"


@dataclass
class Upload:
    upload_id: str
    folder: Path  # uploads/<upload_id>/
    file_name: str
    summary: ImportSummary


def save_bounded(stream: BinaryIO, target: Path, limit: int, shown: str, advice: str = "请拆分后分批上传") -> int:
    """Copy `stream` to `target` a chunk at a time, refusing (and leaving the partial file for the
    caller to remove) once more than `limit` bytes came: nothing is held in memory."""
    written = 0
    with target.open("wb") as handle:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                error = FieldError("file", shown, f"{shown} 超过 {size_text(limit)} 上限；{advice}")
                error.http_status = 413  # the site answers "too large", not "bad request"
                raise error
            handle.write(chunk)
    return written


def _save(stream: BinaryIO, target: Path) -> None:
    save_bounded(stream, target, max_upload_bytes(), target.name)


def _ratio(written: int, compressed: int) -> float:
    return written / max(compressed, 1)


def _unpack(archive_path: Path, into: Path) -> None:
    """Unpack a zip entry by entry, checked against the limits before (count, declared sizes and
    ratios) and while writing (the bytes actually written: a header may lie about sizes). A refusal
    names the zip or the entry in one line; the caller removes what was unpacked."""
    shown = archive_path.name
    limit = max_unpacked_bytes()
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            _decode_names(members)
            _check_entries(members, into, shown, limit)
            into.mkdir(parents=True, exist_ok=True)
            total = 0
            for member in members:
                target = (into / member.filename).resolve()
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                total = _extract(archive, member, target, total, limit, shown)
    except zipfile.BadZipFile as exc:
        raise FieldError("file", shown, f"{shown} 不是有效的 zip 文件或已损坏；请重新打包后上传") from exc
    except (RuntimeError, NotImplementedError, zlib.error, EOFError) as exc:  # encrypted, an odd method, cut short
        raise FieldError("file", shown, f"压缩包 {shown} 无法解压（可能加了密码、用了不支持的压缩方式或已损坏）；"
                                        "请用普通 zip 格式、不设密码重新打包后上传") from exc


# General purpose flag bit 11: the entry's name is UTF-8. Without it Python reads the name as cp437.
_UTF8_NAME = 0x800
_MS_DOS = 0  # ZipInfo.create_system of an archive made on Windows (FAT)


def _decode_names(members: list[zipfile.ZipInfo]) -> None:
    """Each entry's name as `unzip -O GB18030` reads it, in place (`filename`; the name in the
    archive's headers, `orig_filename`, is left for zipfile's own check): a name without the UTF-8
    flag is the bytes of the tool's code page: UTF-8 when they are valid UTF-8 (Linux `zip`), else
    GBK/GB18030 (Windows in Chinese). A Windows tool may separate folders by backslashes. Every
    check and every file unpacked then uses the decoded name."""
    for member in members:
        if member.flag_bits & _UTF8_NAME:
            continue
        raw = member.orig_filename.encode("cp437")  # cp437 maps each of the 256 bytes: the bytes again
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            continue  # neither: left as zipfile read it
        name = name.split("\0", 1)[0]  # as zipfile cuts a name at a NUL
        if member.create_system == _MS_DOS:
            name = name.replace("\\", "/")
        member.filename = name


def _check_entries(members: list[zipfile.ZipInfo], into: Path, shown: str, limit: int) -> None:
    """Before unpacking: the count, the declared total, each entry's path and declared ratio."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise FieldError("file", shown, f"压缩包 {shown} 中有 {len(members)} 个文件，超过 {MAX_ZIP_MEMBERS} 个上限；"
                                        "请拆分后分批上传")
    if sum(m.file_size for m in members) > limit:
        raise FieldError("file", shown, f"压缩包 {shown} 解压后超过 {size_text(limit)} 上限；请拆分后分批上传")
    root = into.resolve()
    for member in members:
        name = _shown(member.filename)
        if not (into / member.filename).resolve().is_relative_to(root):
            raise FieldError("file", shown, f"压缩包 {shown} 中的路径不安全: {name}；请只打包数据文件后重新上传")
        if member.file_size > RATIO_FROM_BYTES and _ratio(member.file_size, member.compress_size) > MAX_ZIP_RATIO:
            raise _bomb(shown, name, _ratio(member.file_size, member.compress_size))


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, total: int, limit: int,
             shown: str) -> int:
    """One entry, counted as it is written: stops at the total limit, at the ratio limit, and
    when more comes out than the header declared. Returns the new total."""
    name = _shown(member.filename)
    written = 0
    with archive.open(member) as source, target.open("wb") as handle:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            total += len(chunk)
            if total > limit:
                raise FieldError("file", shown, f"压缩包 {shown} 解压后超过 {size_text(limit)} 上限；请拆分后分批上传")
            if written > RATIO_FROM_BYTES and _ratio(written, member.compress_size) > MAX_ZIP_RATIO:
                raise _bomb(shown, name, _ratio(written, member.compress_size))
            if written > member.file_size:
                raise FieldError("file", shown, f"压缩包 {shown} 中的 {name} 实际内容比记录的大小更大，文件已损坏或被篡改；"
                                                "请重新打包后上传")
            handle.write(chunk)
    return total


def _bomb(shown: str, name: str, ratio: float) -> FieldError:
    return FieldError("file", shown, f"压缩包 {shown} 中的 {name} 压缩比约为 {ratio:,.0f}:1，超过 {MAX_ZIP_RATIO}:1，"
                                     "疑似压缩炸弹，已拒收；请上传未压缩的文件或正常打包的压缩包")


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


def discard(received: Received) -> None:
    """Remove everything an upload left: it failed, nothing of it is handed out."""
    shutil.rmtree(received.folder, ignore_errors=True)


def keep_only(folder: Path, keep: set[Path]) -> None:
    """Once imported, an upload's files are removed except `keep`: the rejects files its import
    recorded, which the site hands out. With nothing to keep the folder goes too."""
    kept = {path.resolve() for path in keep}
    if not kept:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in sorted(folder.rglob("*"), reverse=True):  # a folder's files before the folder
        if path.is_dir() and not path.is_symlink():
            try:
                path.rmdir()
            except OSError:
                pass  # it holds a kept file
        elif path.resolve() not in kept:
            path.unlink(missing_ok=True)


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
                    files_progress: FilesCallback | None = None, unpacked: Path | None = None) -> Upload:
    """Unpack and import a saved upload, taking the connection from `connect()` (a context manager:
    the server's serialised write) only for the database writes (runs of files of at most about
    half a second, `pipeline._UNIT_SECONDS`), and audit the import. `unpacked`: what
    `unpack_upload(received)` gave, when it was unpacked already."""
    source = unpacked if unpacked is not None else unpack_upload(received)
    try:
        summary = import_path(connect, source, format=format, account=account or None, progress=progress,
                              files_progress=files_progress)
    except ImportInterrupted as exc:
        # Some files are committed: keep their rejects files (the job's result links them) and
        # audit what was kept; the store may be what failed, so the audit may fail too.
        keep_only(received.folder, {f.rejects_path for f in exc.summary.files if f.rejects_path})
        exc.upload = Upload(received.upload_id, received.folder, received.file_name, exc.summary)
        exc.audit_later(actor, "imports.upload", received.file_name)
        with suppress(Exception):  # the store may be what failed: the job records it with its rescore
            with connect() as con:
                nothing_changed(con)
                exc.record(con)
        raise
    except BaseException:
        discard(received)
        raise
    keep_only(received.folder, {f.rejects_path for f in summary.files if f.rejects_path})
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
    except BaseException:
        discard(received)
        raise
    try:
        rejects_path = write_rejects(table.path, table, rejects, received.folder)
    except BaseException:
        discard(received)
        raise
    keep_only(received.folder, {rejects_path} if rejects_path else set())  # the uploaded file is in the store now
    return RegistryUpload(received, result, rejects, rejects_path)


def _audit(con, actor: str | None, name: str, summary: ImportSummary) -> None:
    audit(con, actor, "imports.upload", {"file": name, "accepted": summary.accepted, "rejected": summary.rejected,
                                         "unchanged": summary.unchanged})


def import_upload(con, uploads: Path, file_name: str | None, stream: BinaryIO, *, format: str = "auto",
                  account: str | None = None, actor: str | None = None) -> Upload:
    """Keep the upload under `uploads/<id>/`, unpack a .zip, import it (keeping only its rejects
    files) and audit the import."""
    received = receive_upload(uploads, file_name, stream)
    source = unpack_upload(received)
    try:
        summary = import_path(con, source, format=format, account=account or None)
    except BaseException:
        discard(received)
        raise
    keep_only(received.folder, {f.rejects_path for f in summary.files if f.rejects_path})
    _audit(con, actor, received.file_name, summary)
    return Upload(received.upload_id, received.folder, received.file_name, summary)
