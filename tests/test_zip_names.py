"""Zips made on Windows (names in GBK, no UTF-8 flag) and by Linux `zip` (UTF-8 names, no flag):
their entries keep their Chinese names in the unpacked files, the result, the rejects and the
batches, as `unzip -O GB18030` shows them."""

from __future__ import annotations

import io
import struct
import urllib.parse
import zipfile

from test_web_api import basic
from util import dump

HEADER = "平台,账号ID,内容ID,发布时间,是否原创,正文,转发,评论,点赞\n"
HOT = HEADER + "微博,A,z1,2020-03-09 10:00,是,热点一,1,2,3\n微博,A,z2,不是时间,是,坏时间,1,1,1\n"
NEWS = HEADER + "微博,A,z3,2020-03-10 10:00,是,要闻一,1,2,3\n"
PLAIN = HEADER + "微博,A,z4,2020-03-11 10:00,是,普通,1,2,3\n"


def zip_with_raw_names(entries: list[tuple[bytes, str, int]]) -> bytes:
    """A zip whose entries' names are the given bytes with the UTF-8 flag clear, as Windows'
    compressed folders (create_system 0, the OEM code page: GBK in Chinese) and Info-ZIP's `zip`
    (create_system 3, the locale's bytes) write them. Each entry: (name bytes, content, create_system)."""
    buffer = io.BytesIO()
    placeholders = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (raw, content, system) in enumerate(entries):
            # An ASCII stand-in of the same length (Python would flag a non-ASCII name as UTF-8).
            stand_in = f"~{number}~".encode().ljust(len(raw), b"_")
            info = zipfile.ZipInfo(stand_in.decode(), date_time=(2020, 3, 12, 9, 30, 0))
            info.create_system = system
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode("utf-8"))
            placeholders.append((stand_in, raw))
    data = buffer.getvalue()
    for stand_in, raw in placeholders:
        assert data.count(stand_in) == 2  # the local header and the central directory
        data = data.replace(stand_in, raw)
    # The flag is clear in both headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            assert not struct.unpack_from("<H", data, at + offset)[0] & 0x800
            at = data.find(signature, at + 4)
    return data


def test_gbk_and_unflagged_utf8_names_keep_their_chinese_names(client, db):
    archive = zip_with_raw_names([
        ("微博\\热点\\热点帖.csv".encode("gbk"), HOT, 0),  # Windows: GBK, backslashes
        ("微博/要闻/要闻帖.csv".encode("gb18030"), NEWS, 0),
        ("微博/其他/普通帖.csv".encode("utf-8"), PLAIN, 3),  # Linux zip: UTF-8 bytes, no flag
    ])
    # Python alone shows these names as cp437 mojibake.
    assert "微博/热点/热点帖.csv" not in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                         files={"file": ("爬虫导出.zip", archive, "application/zip")})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    paths = sorted(f["path"] for f in report["files"])
    assert paths == ["unpacked/微博/其他/普通帖.csv", "unpacked/微博/热点/热点帖.csv", "unpacked/微博/要闻/要闻帖.csv"]
    assert (report["accepted"], report["rejected"]) == (3, 1)
    hot = next(f for f in report["files"] if f["path"].endswith("热点帖.csv"))
    assert urllib.parse.unquote(hot["rejects_url"]).endswith("/rejects/unpacked/微博/热点/热点帖.csv.rejects.csv")
    rejects = client.get(hot["rejects_url"], headers=basic("editor1"))
    assert rejects.status_code == 200 and "不是时间" in rejects.content.decode("utf-8-sig")
    with client.app.state.store.read() as con:
        batches = con.execute("SELECT file_name, file_path FROM import_batches WHERE file_name LIKE '%帖.csv'"
                              " ORDER BY file_name").fetchall()
        text = str(dump(con))
    assert [name for name, _ in batches] == ["普通帖.csv", "热点帖.csv", "要闻帖.csv"]
    assert all("/微博/" in path for _, path in batches)
    assert "µ" not in text and "Φ" not in text and "τ" not in text  # no cp437 reading anywhere


def test_a_job_s_progress_and_result_name_the_decoded_files(client, db):
    from test_web_jobs import finished

    archive = zip_with_raw_names([("微博/热点/热点帖.csv".encode("gbk"), HOT, 0)])
    started = client.post("/api/v1/imports", headers=basic("editor1"),
                          files={"file": ("导出.zip", archive, "application/zip")})
    assert started.status_code == 202, started.text
    job = finished(client, started.json()["job_id"], headers=basic("editor1"))
    assert job["state"] == "done", job
    assert [f["path"] for f in job["result"]["files"]] == ["unpacked/微博/热点/热点帖.csv"]


def test_decoded_names_are_checked_for_traversal_too(client, db):
    """A backslash path that becomes `../` once decoded is refused like any other."""
    archive = zip_with_raw_names([("..\\..\\逃逸.csv".encode("gbk"), PLAIN, 0)])
    answer = client.post("/api/v1/imports", params={"wait": "true"}, headers=basic("editor1"),
                         files={"file": ("坏.zip", archive, "application/zip")})
    assert answer.status_code == 400 and "路径不安全" in answer.json()["detail"], answer.text
    assert not (db.parent / "逃逸.csv").exists()


def test_progress_and_audit_of_the_library_door_name_the_decoded_files(db, tmp_path):
    from govmedia.ingest.upload import import_received, receive_upload
    from govmedia.store.access import Access

    archive = zip_with_raw_names([("微博/热点/热点帖.csv".encode("gbk"), HOT, 0)])
    received = receive_upload(tmp_path / "uploads", "导出.zip", io.BytesIO(archive))
    seen: list[str] = []
    upload = import_received(Access(db).write, received, actor="editor1",
                             files_progress=lambda done, total, name: seen.append(name),
                             progress=lambda name, done, total: seen.append(name))
    assert seen and all(name.endswith("微博/热点/热点帖.csv") for name in seen if name), seen
    assert [r.reason for r in upload.summary.files[0].rejects] and upload.summary.files[0].rejects_path.name == \
        "热点帖.csv.rejects.csv"
    with Access(db).read() as con:
        detail = con.execute("SELECT detail FROM audit_log WHERE action = 'imports.upload' ORDER BY 1 DESC LIMIT 1")\
            .fetchall()[0][0]
    assert "导出.zip" in detail
