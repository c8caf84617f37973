"""Evidence over the API: uploads streamed into memory, clean shared copies served as inert
attachments, originals behind their own permission, bombs refused with nothing stored."""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from amparo.registry import Registry
from amparo.store import schema
from amparo.web.api import evidence as evidence_api
from tests.evidence import samples
from tests.evidence.samples import CANARY
from tests.web.api.conftest import Api, ApiFactory
from tests.web.conftest import Browser

SAFE_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


@pytest.fixture
def case(api: Api) -> str:
    case_id = api.registry.cases.create()
    api.registry.grants.grant(case_id, "user", api.user.id, "write")
    return case_id


def upload(api: Api, case: str, name: str, data: bytes, **fields: str) -> Any:
    return api.post("/api/v1/evidence", data={"case_id": case, **fields},
                    files={"file": (name, data, "text/plain")})  # fmt: skip


def evidence_rows(registry: Registry) -> int:
    with registry.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.evidence))
                   .scalar_one())  # fmt: skip


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*") if p.is_file()}


# -- SECURITY.md test 17, through the API ---------------------------------------------------
FORMATS: dict[str, tuple[Callable[[], bytes], str]] = {
    "jpeg": (samples.jpeg, "image/jpeg"),
    "png": (samples.png, "image/png"),
    "webp": (samples.webp, "image/webp"),
    "pdf": (samples.pdf, "application/pdf"),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_shared_copy_has_no_metadata_and_the_original_is_unchanged(
    api: Api, case: str, fmt: str
) -> None:
    make, media_type = FORMATS[fmt]
    original = make()
    created = upload(api, case, f"evidence.{fmt}", original, description="at the river")
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/evidence/{body['id']}"
    assert (body["media_type"], body["size"]) == (media_type, len(original))
    assert body["sha256"] == hashlib.sha256(original).hexdigest()
    assert body["shared_status"] == "stripped" and "XMP" in body["metadata_removed"]

    shared = api.get(f"/api/v1/evidence/{body['id']}/shared")
    assert shared.status_code == 200
    assert shared.headers["content-type"] == media_type
    disposition = shared.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="evidence.{fmt}"')
    for header, value in SAFE_HEADERS.items():
        assert shared.headers[header] == value
    assert hashlib.sha256(shared.content).hexdigest() == body["shared_sha256"]
    assert CANARY.encode() not in shared.content
    if fmt == "pdf":
        assert samples.pdf_metadata(shared.content) == (None, None)
    else:
        image = Image.open(io.BytesIO(shared.content))
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo) and not image.getexif()
        assert "xmp" not in image.info

    downloaded = api.get(f"/api/v1/evidence/{body['id']}/original")
    assert downloaded.status_code == 200
    assert downloaded.content == original
    assert hashlib.sha256(downloaded.content).hexdigest() == body["sha256"]
    assert downloaded.headers["repr-digest"].startswith("sha-256=:")
    verified = api.post(f"/api/v1/evidence/{body['id']}/verify")
    assert verified.status_code == 200 and verified.json()["ok"] is True


# -- custody and who may download what ----------------------------------------------------------
def test_custody_records_add_view_and_download_with_hashes(api: Api, case: str) -> None:
    body = upload(api, case, "photo.jpg", samples.jpeg()).json()
    assert api.get(f"/api/v1/evidence/{body['id']}/shared").status_code == 200
    assert api.get(f"/api/v1/evidence/{body['id']}/original").status_code == 200
    custody = api.get(f"/api/v1/evidence/{body['id']}/custody")
    assert custody.status_code == 200
    entries = custody.json()
    assert [(e["seq"], e["actor"], e["event"]) for e in entries] == [
        (1, "user:coord", "added"), (2, "user:coord", "downloaded_shared"),
        (3, "user:coord", "downloaded_original"),
    ]  # fmt: skip
    for entry in entries:
        assert (entry["sha256"], entry["shared_sha256"]) == (body["sha256"], body["shared_sha256"])
    actions = [e.action for e in api.registry.audit.entries(object_id=body["id"])]
    assert actions == ["evidence.add", "evidence.read_shared", "evidence.read_original",
                       "evidence.custody"]  # fmt: skip


@pytest.mark.parametrize(("role", "grant"), [("viewer", "read"), ("documenter", "read")])
def test_without_read_original_the_original_stays_in(
    api: Api, api_as: ApiFactory, case: str, role: str, grant: str
) -> None:
    body = upload(api, case, "photo.jpg", samples.jpeg()).json()
    other = api_as(role, scope="export", name=f"{role}-reader")
    api.registry.grants.grant(case, "user", other.user.id, grant)
    assert other.get(f"/api/v1/evidence/{body['id']}").json()["name"] == "photo.jpg"
    assert CANARY.encode() not in other.get(f"/api/v1/evidence/{body['id']}/shared").content
    refused = other.get(f"/api/v1/evidence/{body['id']}/original")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:amparo:problem:forbidden"
    assert CANARY.encode() not in refused.content and b"\xff\xd8" not in refused.content
    events = [e["event"] for e in api.get(f"/api/v1/evidence/{body['id']}/custody").json()]
    assert events == ["added", "viewed", "downloaded_shared"]  # the refusal took nothing


def test_outsiders_learn_nothing(api: Api, api_as: ApiFactory, case: str) -> None:
    body = upload(api, case, "photo.jpg", samples.jpeg()).json()
    outsider = api_as("coordinator", name="outsider")
    for path in ("", "/shared", "/original", "/custody"):
        assert outsider.get(f"/api/v1/evidence/{body['id']}{path}").status_code == 404
    assert outsider.post(f"/api/v1/evidence/{body['id']}/verify").status_code == 404
    assert outsider.get("/api/v1/evidence").json() == {"items": []}
    assert upload(outsider, case, "x.txt", b"x").status_code == 404


def test_a_token_without_export_scope_cannot_take_originals(
    api: Api, api_as: ApiFactory, case: str
) -> None:
    body = upload(api, case, "photo.jpg", samples.jpeg()).json()
    writer = api_as("coordinator", scope="write", name="script")
    api.registry.grants.grant(case, "user", writer.user.id, "write")
    assert writer.get(f"/api/v1/evidence/{body['id']}/shared").status_code == 200
    refused = writer.get(f"/api/v1/evidence/{body['id']}/original")
    assert refused.status_code == 403 and "scope" in refused.json()["detail"]
    reader = api_as("coordinator", scope="read", name="dashboard")
    api.registry.grants.grant(case, "user", reader.user.id, "write")
    assert upload(reader, case, "x.txt", b"x").status_code == 403  # read tokens change nothing


# -- SECURITY.md test 14: bombs, names, sizes ------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (samples.zip_bomb(200), "would expand"),
        (samples.gzip_bomb(50), "expands beyond"),
        (samples.zipped([("deeper.zip", samples.zipped([("a", b"a")]))]), "another archive"),
        (samples.png_bomb(), "too large to open safely"),
    ],
    ids=["zip-bomb", "gzip-bomb", "nested", "pixel-bomb"],
)
def test_bombs_are_refused_naming_the_file_and_nothing_is_stored(
    api: Api, case: str, data: bytes, reason: str
) -> None:
    files_dir = api.registry.settings.files_dir
    before = files_under(files_dir)
    refused = upload(api, case, "holiday.zip", data)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["errors"][0]["field"] == "file"
    assert "'holiday.zip'" in problem["detail"] and reason in problem["detail"]
    assert evidence_rows(api.registry) == 0 and files_under(files_dir) == before
    assert api.get("/api/v1/status").status_code == 200  # the worker stays up


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "..\\..\\evil.txt", "../" * 30 + "x.txt", ".."]
)
def test_path_traversal_names_write_nothing_outside_the_store(
    api: Api, case: str, tmp_path: Path, name: str
) -> None:
    before = files_under(tmp_path)
    created = upload(api, case, name, b"plain text evidence")
    assert created.status_code == 201, created.text
    assert "/" not in created.json()["name"] and "\\" not in created.json()["name"]
    files_dir = api.registry.settings.files_dir.resolve()
    for path in files_under(tmp_path) - before:
        assert path.resolve().is_relative_to(files_dir) or path.name.startswith("amparo.db")


def test_names_cannot_break_the_download_headers(api: Api, case: str) -> None:
    body = upload(api, case, 'a";\r\nX-Evil: 1;.txt', b"text").json()
    shared = api.get(f"/api/v1/evidence/{body['id']}/shared")
    assert "x-evil" not in shared.headers
    disposition = shared.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="a__X-Evil: 1_.txt";')
    assert body["name"] == 'a";X-Evil: 1;.txt'  # CR and LF gone, the rest shown as typed


def test_uploads_over_the_limit_are_413(
    api: Api, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evidence_api, "MAX_UPLOAD_BYTES", 1000)
    refused = upload(api, case, "big.bin", b"x" * 1001)
    assert refused.status_code == 413 and refused.json()["type"] == "urn:amparo:problem:too-large"
    declared = api.post("/api/v1/evidence", content=b"x",
                        headers={"Content-Type": "multipart/form-data; boundary=b",
                                 "Content-Length": str(200 * 1024 * 1024)})  # fmt: skip
    assert declared.status_code == 413
    assert evidence_rows(api.registry) == 0


def test_request_bodies_are_never_inflated_or_misread(api: Api, case: str) -> None:
    gz = api.post("/api/v1/evidence", content=samples.gzipped(b"x"),
                  headers={"Content-Type": "multipart/form-data; boundary=b",
                           "Content-Encoding": "gzip"})  # fmt: skip
    assert gz.status_code == 415
    assert api.post("/api/v1/evidence", json={"case_id": case}).status_code == 415
    broken = api.post("/api/v1/evidence", content=b"--b\r\nContent-Disposition: form-data",
                      headers={"Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
    assert broken.status_code == 422
    missing = api.post("/api/v1/evidence", data={"case_id": case},
                       files={"other": ("a.txt", b"a", "text/plain")})  # fmt: skip
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    two = api.post("/api/v1/evidence", data={"case_id": case},
                   files=[("file", ("a.txt", b"a", "text/plain")),
                          ("file", ("b.txt", b"b", "text/plain"))])  # fmt: skip
    assert two.status_code == 422
    bad_id = upload(api, "nothex\x00", "a.txt", b"a")
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "case_id"
    assert upload(api, "", "a.txt", b"a").status_code == 422  # neither case nor incident


def test_uploads_never_touch_a_temporary_file(
    api: Api, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a temporary file was opened for an upload")

    for name in ("SpooledTemporaryFile", "NamedTemporaryFile", "TemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    created = upload(api, case, "photo.jpg", samples.jpeg())
    assert created.status_code == 201, created.text


# -- captures ------------------------------------------------------------------------------------
def test_a_saved_page_is_stored_as_is_and_never_served_as_html(api: Api, case: str) -> None:
    page = b"<!doctype html><script>fetch('/api/v1/evidence')</script><img src=x onerror=alert(1)>"
    created = api.post(
        "/api/v1/evidence/captures",
        data={"case_id": case, "url": "https://social.example/p/1",
              "captured_at": "2026-10-31T14:05:00-05:00", "note": "threat"},
        files={"file": ("post.html", page, "text/html")},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["url"], body["captured_at"]) == (
        "capture",
        "https://social.example/p/1",
        "2026-10-31T19:05:00+00:00",
    )
    assert (body["media_type"], body["shared_status"]) == ("text/html", "kept")
    for copy in ("shared", "original"):
        served = api.get(f"/api/v1/evidence/{body['id']}/{copy}")
        assert served.status_code == 200 and served.content == page
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "https://a.example", "captured_at": "2099-01-01T00:00:00Z"}, "captured_at"),
        ({"url": "https://a.example", "captured_at": "last tuesday"}, "captured_at"),
        ({"url": "javascript:alert(1)", "captured_at": "2026-10-01T00:00:00"}, "url"),
        ({"url": "file:///etc/passwd", "captured_at": "2026-10-01T00:00:00"}, "url"),
    ],
)
def test_capture_checks(api: Api, case: str, fields: dict[str, str], field: str) -> None:
    refused = api.post("/api/v1/evidence/captures", data={"case_id": case, **fields},
                       files={"file": ("p.html", b"<html></html>", "text/html")})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == field


def test_list_by_incident_and_no_shared_copy_for_archives(api: Api, case: str) -> None:
    incident = api.registry.incidents.add(
        {"title": "T", "date_start": "2026-01", "country": "CO", "acts": [{"act_type": "A09"}]},
        case_id=case,
    )
    created = api.post("/api/v1/evidence", data={"incident_id": incident.id or ""},
                       files={"file": ("chat.zip", samples.zipped([("chat.txt", b"hola")]),
                                       "application/zip")})  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["case_id"] == case and body["shared_status"] == "none"
    assert api.get(f"/api/v1/evidence/{body['id']}/shared").status_code == 409
    original = api.get(f"/api/v1/evidence/{body['id']}/original")
    assert original.headers["content-type"] == "application/zip"
    listed = api.get("/api/v1/evidence", params={"incident_id": incident.id})
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    assert api.get("/api/v1/evidence", params={"case_id": "zz"}).status_code == 422


def test_a_signed_in_browser_uploads_with_its_csrf_token(signed_in: Browser) -> None:
    registry = signed_in.registry
    case = registry.cases.create()
    admin = registry.accounts.get_by_username("ana")
    registry.grants.grant(case, "user", admin.id, "write")
    files = {"file": ("photo.png", samples.png(), "image/png")}
    refused = signed_in.client.post("/api/v1/evidence", data={"case_id": case}, files=files)
    assert refused.status_code == 403  # no token: a cross-site form could have sent it
    created = signed_in.client.post("/api/v1/evidence", data={"case_id": case}, files=files,
                                    headers={"X-CSRF-Token": signed_in.csrf})  # fmt: skip
    assert created.status_code == 201, created.text
    assert evidence_rows(registry) == 1
