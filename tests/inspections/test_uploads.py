"""Uploads are judged by their content, not their name: JPEG and PNG only, at most 10 MB each
and 25 MB per request, stored under random names; scanned documents on the case."""
from __future__ import annotations

import struct
import zlib

from sqlalchemy import func, select

from heating.audit.models import AuditEvent
from heating.extensions import db
from heating.inspections.models import Upload
from tests.fixtures import log_in, make_case, make_user, says
from tests.inspections.support import all_ticked, gif, installed_case, jpeg, png, upload

NOT_A_PICTURE = ("This file is not a JPEG or PNG picture (whatever its name says). Take the "
                 "photo again or save the scan as JPEG or PNG.")


def _send(post, hh, data: bytes, name: str = "photo.jpg"):
    return post(f"/inspections/case/{hh.id}/inspect",
                dict(all_ticked(), result="pass", photo_device_with_head=upload(data, name)))


def _uploads() -> int:
    return db.session.scalar(select(func.count()).select_from(Upload))


def _huge_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size (a decompression bomb is refused unread)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))


def test_files_that_are_not_jpeg_or_png_are_refused(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    for data, name in ((b"hello, this is text" * 10, "photo.jpg"),
                       (gif(), "photo.gif"), (gif(), "renamed.png"),
                       (jpeg()[:200], "truncated.jpg"),
                       (_huge_png_header(20000, 20000), "bomb.png")):
        r = _send(post, hh, data, name)
        assert r.status_code == 200, name
        body_ok = says(r, NOT_A_PICTURE) or says(
            r, "The picture has too many pixels. Take it at a lower resolution and try again.")
        assert body_ok, name
        assert _uploads() == 0, name
    db.session.refresh(hh)
    assert hh.state == "installed"
    # a real picture with a misleading name is fine: the content decides
    r = _send(post, hh, png(), "photo.jpg")
    assert _uploads() == 1
    assert db.session.scalar(select(Upload)).content_type == "image/png"


def test_a_file_over_10_mb_is_refused(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a))
    big = jpeg() + b"\0" * (10 * 1024 * 1024)
    r = _send(post, hh, big)
    assert says(r, "The file is larger than %(mb)s MB. Take the photo at a lower resolution or "
                   "scan at a lower quality, then try again.", mb=10)
    assert _uploads() == 0


def test_a_request_over_25_mb_gets_the_chinese_413_page(app, client, post, world):
    hh = installed_case(world)
    log_in(client, make_user("inspector", world.town_a), lang="zh_Hans_CN")
    r = post(f"/inspections/case/{hh.id}/inspect",
             {"result": "pass", "photo_device_with_head": upload(b"\0" * (26 * 1024 * 1024)),
              "photo_stove_site": upload(jpeg())})
    assert r.status_code == 413
    assert "文件过大" in r.get_data(as_text=True)
    assert _uploads() == 0


def test_documents_on_the_case(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = installed_case(world, clerk)
    log_in(client, clerk)
    r = post(f"/inspections/case/{hh.id}/documents",
             {"kind": "id_card", "file": upload(b"%PDF-1.4 not an image", "id.jpg")})
    assert says(client.get(f"/households/{hh.id}"), NOT_A_PICTURE)
    assert _uploads() == 0
    r = post(f"/inspections/case/{hh.id}/documents",
             {"kind": "id_card", "file": upload(jpeg(), "id.jpg")})
    assert r.status_code == 302
    doc = db.session.scalar(select(Upload))
    assert doc.kind == "id_card" and doc.inspection_id is None
    page = client.get(f"/households/{hh.id}").get_data(as_text=True)
    assert f"/inspections/uploads/{doc.id}" in page
    # an inspector sees masked ID numbers only: not the scanned card
    log_in(client, make_user("inspector", world.town_a))
    assert client.get(f"/inspections/uploads/{doc.id}").status_code == 403
    assert client.get(f"/inspections/uploads/{doc.id}/thumb").status_code == 403
    # a reviewer may open it, and that is recorded like an unmasking
    log_in(client, make_user("reviewer", world.town_a))
    assert client.get(f"/inspections/uploads/{doc.id}").status_code == 200
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "upload.viewed"))
    # photos for an inspection are only taken by inspectors
    log_in(client, clerk)
    assert post(f"/inspections/case/{hh.id}/inspect", {"result": "pass"}).status_code == 403


def test_documents_the_county_requires_are_in_the_submit_checklist(app, client, post, world):
    clerk = make_user("clerk", world.village_a1)
    hh = make_case(world.village_a1, clerk)
    app.config["REQUIRED_DOCUMENTS"] = {"139901": ("application_scan", "id_card"), "*": ()}
    log_in(client, clerk)
    page = client.get(f"/households/{hh.id}")
    assert says(page, "Document missing: %(kind)s", kind="ID card copy")
    post(f"/households/{hh.id}/do/submit")
    db.session.refresh(hh)
    assert hh.state == "draft"
    for kind in ("application_scan", "id_card"):
        post(f"/inspections/case/{hh.id}/documents", {"kind": kind, "file": upload(jpeg())})
    post(f"/households/{hh.id}/do/submit")
    db.session.refresh(hh)
    assert hh.state == "submitted"
    # another county's setting does not apply here
    app.config["REQUIRED_DOCUMENTS"] = {"139902": ("bank_card",)}
    other = make_case(world.village_a1, clerk)
    post(f"/households/{other.id}/do/submit")
    db.session.refresh(other)
    assert other.state == "submitted"
