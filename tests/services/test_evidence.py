"""Evidence through the library: sealed originals, clean shared copies, bombs refused with
nothing stored, harmless names, and a chain of custody that names who did what, with hashes."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from amparo.errors import (
    Conflict,
    Forbidden,
    IntegrityError,
    KeyShredded,
    NotFound,
    ValidationError,
)
from amparo.evidence.strip import prepare
from amparo.registry import Registry
from amparo.security.permissions import USER_ROLES, Actor, Resource, allowed
from amparo.services import evidence as evidence_module
from amparo.store import schema
from tests.evidence import samples
from tests.evidence.samples import CANARY
from tests.factories import incident

E, C = schema.evidence, schema.custody_log


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the child process where a test is about something else (it is tested itself)."""
    monkeypatch.setattr(
        evidence_module, "prepare_shared_copy", lambda data, media_type, limits: prepare(
            data, media_type)
    )  # fmt: skip


@pytest.fixture
def case(registry: Registry) -> str:
    return registry.cases.create("Zqxcanarycase")


def as_user(registry: Registry, role: str, grants: dict[str, str]) -> Registry:
    actor = Actor(
        user_id="u1", role=role, grants=grants,
        reauthenticated_at=registry.clock.now() - timedelta(minutes=1), mfa_complete=True,
    )  # fmt: skip
    return registry.acting_as(actor, f"user:{role}")


def files_in(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.is_file()}


def counts(registry: Registry) -> tuple[int, int, int]:
    with registry.store.read() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(E)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(C)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(schema.audit_log)).scalar_one(),
        )


# -- intake and the acceptance test for metadata (SECURITY.md, test 17) ------------------------
FORMATS: dict[str, tuple[Callable[[], bytes], str]] = {
    "jpeg": (samples.jpeg, "image/jpeg"),
    "png": (samples.png, "image/png"),
    "webp": (samples.webp, "image/webp"),
    "pdf": (samples.pdf, "application/pdf"),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_shared_copies_lose_metadata_and_originals_keep_their_hash(
    registry: Registry, case: str, fmt: str
) -> None:
    make, media_type = FORMATS[fmt]
    original = make()
    item = registry.evidence.add(case, f"evidence.{fmt}", original, description="at the river")
    assert (item.media_type, item.size, item.sha256) == (media_type, len(original), sha(original))
    assert item.shared_status == "stripped" and "XMP" in item.metadata_removed
    shared = registry.evidence.shared_copy(item.id)
    assert shared.sha256 == item.shared_sha256 == sha(shared.data) != item.sha256
    assert CANARY.encode() not in shared.data
    if fmt == "pdf":
        assert samples.pdf_metadata(shared.data) == (None, None)
        assert "GPS location in an embedded image" in item.metadata_removed
    else:
        assert "GPS location" in item.metadata_removed
        image = Image.open(io.BytesIO(shared.data))
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo) and not image.getexif()
        assert "xmp" not in image.info and "exif" not in image.info
    downloaded = registry.evidence.original(item.id)
    assert downloaded.data == original and sha(downloaded.data) == item.sha256
    assert registry.evidence.verify(item.id).ok


def test_nothing_readable_is_stored(registry: Registry, case: str, vault_dir: Path) -> None:
    original = samples.jpeg()
    item = registry.evidence.add(case, "Zqxcanaryname.jpg", original, description="Zqxcanarynote")
    blobs = files_in(registry.settings.files_dir)
    assert len(blobs) == 2  # the sealed original and the sealed shared copy, under generated ids
    shared = registry.evidence.shared_copy(item.id).data
    for blob in blobs:
        content = blob.read_bytes()
        assert "Zqxcanaryname" not in blob.name and blob.name.isalnum()
        for secret in (CANARY.encode(), original[100:200], shared[100:200], b"Zqxcanary"):
            assert secret not in content
    with registry.store.read() as conn:
        row = conn.execute(sa.select(E)).one()
    text = repr(tuple(row)).encode()
    for secret in (b"Zqxcanary", item.sha256.encode(), (item.shared_sha256 or "").encode()):
        assert secret not in text  # names, notes and hashes are sealed


def test_identical_copies_share_one_blob(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "notes.txt", "campo: ñandú".encode())
    assert item.shared_status == "kept" and item.shared_sha256 == item.sha256
    assert len(files_in(registry.settings.files_dir)) == 1
    assert registry.evidence.shared_copy(item.id).data == "campo: ñandú".encode()


def test_a_kind_without_a_cleaner_has_no_shared_copy(registry: Registry, case: str) -> None:
    archive = samples.zipped([("chat.txt", b"hola"), ("photo.jpg", samples.jpeg())])
    item = registry.evidence.add(case, "export.zip", archive)
    assert (item.shared_status, item.shared_sha256, item.shared_size) == ("none", None, None)
    with pytest.raises(Conflict, match="no shared copy"):
        registry.evidence.shared_copy(item.id)
    assert registry.evidence.original(item.id).data == archive
    assert registry.evidence.verify(item.id).shared_ok is None


def test_the_clients_type_and_name_decide_nothing(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "holiday.jpg", samples.zipped([("a.txt", b"a")]))
    assert item.media_type == "application/zip" and item.name == "holiday.jpg"


def test_filed_with_an_incident_in_its_case(registry: Registry) -> None:
    inc = registry.incidents.add(incident())
    assert inc.id and inc.case_id
    item = registry.evidence.add(None, "a.png", samples.png(), incident_id=inc.id)
    assert (item.case_id, item.incident_id) == (inc.case_id, inc.id)
    other = registry.cases.create()
    with pytest.raises(ValidationError, match="case_id"):
        registry.evidence.add(other, "a.png", samples.png(), incident_id=inc.id)
    with pytest.raises(NotFound):
        registry.evidence.add(None, "a.png", samples.png(), incident_id="f" * 32)
    with pytest.raises(ValidationError, match="give a case or an incident"):
        registry.evidence.add(None, "a.png", samples.png())
    assert [i.id for i in registry.evidence.list(incident_id=inc.id)] == [item.id]


@pytest.mark.usefixtures("in_process")
def test_input_checks(registry: Registry, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="is empty"):
        registry.evidence.add(case, "empty.txt", b"")
    with pytest.raises(ValidationError, match="description"):
        registry.evidence.add(case, "a.txt", b"a", description="x" * 10_001)
    monkeypatch.setattr(evidence_module, "MAX_EVIDENCE_BYTES", 10)
    with pytest.raises(ValidationError, match="larger than 10 bytes"):
        registry.evidence.add(case, "a.txt", b"a" * 11)
    with pytest.raises(NotFound):
        registry.evidence.add("0" * 32, "a.txt", b"a")
    assert counts(registry)[0] == 0


# -- bombs and names (SECURITY.md, test 14) ----------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (samples.zip_bomb(200), "would expand"),
        (samples.gzip_bomb(50), "expands beyond"),
        (samples.zipped([("in.zip", samples.zipped([("a", b"a")]))]), "contains another archive"),
        (samples.png_bomb(), "is an image too large to open safely"),
    ],
    ids=["zip-bomb", "gzip-bomb", "nested-zip", "pixel-bomb"],
)
def test_bombs_are_refused_and_nothing_is_stored(
    registry: Registry, case: str, vault_dir: Path, data: bytes, reason: str
) -> None:
    before_files, before_counts = files_in(vault_dir), counts(registry)
    with pytest.raises(ValidationError, match=f"'innocent.bin' {reason}") as caught:
        registry.evidence.add(case, "innocent.bin", data)
    assert caught.value.field == "file"
    assert counts(registry) == before_counts
    assert {p for p in files_in(vault_dir) if "-wal" not in p.name and "-shm" not in p.name} == {
        p for p in before_files if "-wal" not in p.name and "-shm" not in p.name
    }


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("raw", "shown"),
    [("../../etc/passwd", "passwd"), ("/etc/shadow", "shadow"), ("..\\..\\boot.ini", "boot.ini"),
     ("../../../" * 20 + "x.txt", "x.txt"), ("..", "evidence"), ("a/../../b\x00.txt", "b.txt")],
)  # fmt: skip
def test_path_traversal_names_are_harmless(
    registry: Registry, case: str, tmp_path: Path, raw: str, shown: str
) -> None:
    outside = files_in(tmp_path) - files_in(registry.settings.files_dir)
    item = registry.evidence.add(case, raw, b"plain text evidence")
    assert item.name == shown == registry.evidence.get(item.id).name
    new = files_in(tmp_path) - outside
    files_dir = registry.settings.files_dir.resolve()
    for path in new:
        assert path.resolve().is_relative_to(files_dir) or path.name.startswith("amparo.db")
    assert not (Path("/etc/passwd.amparo").exists())
    assert all(p.name.isalnum() for p in files_in(registry.settings.files_dir))


# -- captures ----------------------------------------------------------------------------------
@pytest.mark.usefixtures("in_process")
def test_captures_record_url_and_time_and_never_fetch(
    registry: Registry, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Amparo tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    when = registry.clock.now() - timedelta(hours=3)
    page = b"<!doctype html><script>alert(document.cookie)</script><p>threat</p>"
    item = registry.evidence.add_capture(
        case, "https://social.example/post/123?x=1#c", when, "post.html", page,
        note="Zqxcanary threat",
    )  # fmt: skip
    assert (item.kind, item.url, item.captured_at) == (
        "capture",
        "https://social.example/post/123?x=1#c",
        when,
    )
    assert (item.media_type, item.shared_status, item.description) == (
        "text/html",
        "kept",
        "Zqxcanary threat",
    )
    assert registry.evidence.shared_copy(item.id).data == page  # kept as it is, never rendered
    shot = registry.evidence.add_capture(case, "http://x.example", when, "shot.png", samples.png())
    assert shot.shared_status == "stripped" and "GPS location" in shot.metadata_removed


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("url", "at", "data", "field"),
    [
        ("javascript:alert(1)", None, b"<html>", "url"),
        ("file:///etc/passwd", None, b"<html>", "url"),
        ("https://", None, b"<html>", "url"),
        ("https://a.example/ b", None, b"<html>", "url"),
        ("https://a.example:99999/", None, b"<html>", "url"),
        ("", None, b"<html>", "url"),
        ("https://a.example/" + "x" * 5000, None, b"<html>", "url"),
        ("https://a.example/", timedelta(hours=1), b"<html>", "captured_at"),
        ("https://a.example/", -timedelta(days=365 * 40), b"<html>", "captured_at"),
        ("https://a.example/", None, samples.zipped([("a", b"a")]), "file"),
    ],
)
def test_capture_checks(
    registry: Registry, case: str, url: str, at: timedelta | None, data: bytes, field: str
) -> None:
    when = registry.clock.now() + (at or -timedelta(minutes=1))
    with pytest.raises(ValidationError) as caught:
        registry.evidence.add_capture(case, url, when, "c.html", data)
    assert caught.value.field == field
    assert counts(registry)[0] == 0


@pytest.mark.usefixtures("in_process")
def test_a_capture_a_little_ahead_of_the_server_clock_is_accepted(
    registry: Registry, case: str
) -> None:
    naive = (registry.clock.now() + timedelta(minutes=2)).replace(tzinfo=None)
    item = registry.evidence.add_capture(case, "https://a.example/", naive, "c.html", b"<html>")
    assert item.captured_at is not None and item.captured_at.tzinfo is not None


# -- chain of custody ---------------------------------------------------------------------------
def test_custody_names_who_did_what_with_the_hashes(registry: Registry, case: str) -> None:
    registry.actor = "cli:ana"
    item = registry.evidence.add(case, "photo.jpg", samples.jpeg())
    registry.actor = "user:bea"
    registry.evidence.shared_copy(item.id)
    registry.actor = "user:carla"
    registry.evidence.original(item.id)
    entries = registry.evidence.custody(item.id)
    assert [(e.seq, e.actor, e.event) for e in entries] == [
        (1, "cli:ana", "added"), (2, "user:bea", "downloaded_shared"),
        (3, "user:carla", "downloaded_original"),
    ]  # fmt: skip
    for entry in entries:
        assert (entry.sha256, entry.shared_sha256) == (item.sha256, item.shared_sha256)
        assert entry.at == registry.clock.now()
    actions = [e.action for e in registry.audit.entries() if e.object_id == item.id]
    assert actions == ["evidence.add", "evidence.read_shared", "evidence.read_original",
                       "evidence.custody"]  # fmt: skip
    registry.evidence.get(item.id)
    exported = registry.evidence.export(item.id, "original")
    assert exported.data == samples.jpeg()
    verified = registry.evidence.verify(item.id)
    assert verified.ok and verified.custody_ok
    events = [(e.event, e.detail) for e in registry.evidence.custody(item.id)]
    assert events[3:] == [("viewed", ""), ("exported", "copy=original"), ("verified", "result=ok")]
    seen = [action for _, _, action in registry.audit.who_has_seen(item.id)]
    assert seen == ["evidence.read_shared", "evidence.read_original", "evidence.read",
                    "evidence.export"]  # fmt: skip
    assert registry.audit.verify().ok


def test_the_custody_log_has_no_way_to_change_it() -> None:
    public = {name for name in dir(evidence_module.EvidenceService) if not name.startswith("_")}
    assert public == {"add", "add_capture", "custody", "export", "get", "list", "original",
                      "resolve", "shared_copy", "verify"}  # fmt: skip


@pytest.mark.usefixtures("in_process")
def test_a_tampered_custody_log_or_blob_is_noticed(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "photo.png", samples.png())
    registry.evidence.get(item.id)
    registry.evidence.get(item.id)
    assert registry.evidence.verify(item.id).ok
    with registry.store.write() as conn:
        conn.execute(sa.update(C).where(C.c.evidence_id == item.id, C.c.seq == 2)
                     .values(actor="someone else"))  # fmt: skip
    report = registry.evidence.verify(item.id)
    assert not report.ok and not report.custody_ok and report.original_ok
    assert report.problems == ("custody log: entry 2 was altered or does not follow the one "
                               "before it",)  # fmt: skip
    with registry.store.write() as conn:
        conn.execute(sa.delete(C).where(C.c.evidence_id == item.id, C.c.seq == 2))
    assert registry.evidence.verify(item.id).problems[0] == "custody log: entry 2 is missing"


@pytest.mark.usefixtures("in_process")
def test_altered_or_swapped_blobs_fail_and_are_reported(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "photo.png", samples.png())
    with registry.store.read() as conn:
        row = conn.execute(sa.select(E).where(E.c.id == item.id)).one()
    original = registry.files._path(row.original_blob)
    shared = registry.files._path(row.shared_blob)
    a, b = original.read_bytes(), shared.read_bytes()
    original.write_bytes(b)
    shared.write_bytes(a)  # swapped: each fails to open in the other's place
    with pytest.raises(IntegrityError):
        registry.evidence.original(item.id)
    with pytest.raises(IntegrityError):
        registry.evidence.shared_copy(item.id)
    report = registry.evidence.verify(item.id)
    assert (report.ok, report.original_ok, report.shared_ok) == (False, False, False)
    assert report.sha256 is None and report.custody_ok
    original.unlink()
    assert "missing from the store" in registry.evidence.verify(item.id).problems[0]
    assert registry.evidence.custody(item.id)[-1].detail == "result=failed"


# -- permissions ---------------------------------------------------------------------------------
OPERATIONS: dict[str, tuple[str, Callable[[Registry, str, str], object]]] = {
    "get": ("read_identity", lambda r, c, i: r.evidence.get(i)),
    "custody": ("read_identity", lambda r, c, i: r.evidence.custody(i)),
    "shared_copy": ("read_identity", lambda r, c, i: r.evidence.shared_copy(i)),
    "verify": ("read_identity", lambda r, c, i: r.evidence.verify(i)),
    "original": ("read_original", lambda r, c, i: r.evidence.original(i)),
    "add": ("write", lambda r, c, i: r.evidence.add(c, "b.txt", b"b")),
    "export": ("export", lambda r, c, i: r.evidence.export(i)),
}


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("role", "grant", "name"),
    list(itertools.product(USER_ROLES, (None, "read", "write"), OPERATIONS)),
)
def test_operation_obeys_the_policy(
    registry: Registry, case: str, role: str, grant: str | None, name: str
) -> None:
    item = registry.evidence.add(case, "photo.jpg", samples.jpeg())
    action, call = OPERATIONS[name]
    view = as_user(registry, role, {case: grant} if grant else {})
    expected = allowed(view.principal, action, Resource("file", case), view.clock.now())
    if expected:
        call(view, case, item.id)
        return
    before = counts(registry)
    with pytest.raises((NotFound, Forbidden)) as caught:
        call(view, case, item.id)
    assert counts(registry) == before  # a refused attempt reads and records nothing
    may_see = allowed(view.principal, "read_identity", Resource("file", case), view.clock.now())
    if not may_see:
        assert caught.type is NotFound  # not even the item's existence leaks


@pytest.mark.usefixtures("in_process")
def test_a_viewer_reads_the_shared_copy_but_not_the_original(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "photo.jpg", samples.jpeg())
    viewer = as_user(registry, "viewer", {case: "read"})
    assert CANARY.encode() not in viewer.evidence.shared_copy(item.id).data
    with pytest.raises(Forbidden, match="read_original"):
        viewer.evidence.original(item.id)
    reader = as_user(registry, "documenter", {case: "read"})
    with pytest.raises(Forbidden):
        reader.evidence.original(item.id)
    assert [e.event for e in registry.evidence.custody(item.id)] == ["added", "downloaded_shared"]


@pytest.mark.usefixtures("in_process")
def test_lists_show_only_member_cases(registry: Registry, case: str) -> None:
    mine = registry.evidence.add(case, "mine.txt", b"mine")
    other_case = registry.cases.create()
    registry.evidence.add(other_case, "other.txt", b"other")
    viewer = as_user(registry, "viewer", {case: "read"})
    assert [i.id for i in viewer.evidence.list()] == [mine.id]
    assert [i.name for i in viewer.evidence.list(case_id=case)] == ["mine.txt"]
    with pytest.raises(NotFound):
        viewer.evidence.list(case_id=other_case)
    assert as_user(registry, "analyst", {}).evidence.list() == []
    assert len(registry.evidence.list()) == 2
    listed = registry.audit.entries(action="evidence.list")
    assert listed[-1].detail == "count=2 filters=" and listed[1].detail == "count=1 filters=case"


# -- shredding ---------------------------------------------------------------------------------
def test_shredding_the_case_removes_evidence_custody_and_blobs(
    registry: Registry, case: str
) -> None:
    item = registry.evidence.add(case, "photo.jpg", samples.jpeg())
    registry.evidence.get(item.id)
    kept_case = registry.cases.create()
    kept = registry.evidence.add(kept_case, "kept.png", samples.png())
    report = registry.cases.shred(case)
    assert report.evidence == 1
    with registry.store.read() as conn:
        assert conn.execute(sa.select(E.c.id)).scalars().all() == [kept.id]
        assert {r.evidence_id for r in conn.execute(sa.select(C))} == {kept.id}
    assert len(files_in(registry.settings.files_dir)) == 2  # the other case's two blobs
    with pytest.raises(NotFound):
        registry.evidence.get(item.id)
    assert registry.evidence.verify(kept.id).ok
    with pytest.raises(KeyShredded):
        registry.evidence.add(case, "late.txt", b"late")
    assert "evidence=1" in registry.audit.entries(action="case.shred")[0].detail


def test_resolve_takes_the_last_characters(registry: Registry, case: str) -> None:
    item = registry.evidence.add(case, "a.txt", b"a")
    assert registry.evidence.resolve(item.id[-8:]) == item.id
    with pytest.raises(NotFound):
        registry.evidence.get("nothing-like-an-id")


def test_umask_does_not_matter_blobs_are_private(registry: Registry, case: str) -> None:
    old = os.umask(0)
    try:
        registry.evidence.add(case, "a.txt", b"a")
    finally:
        os.umask(old)
    for blob in files_in(registry.settings.files_dir):
        assert blob.stat().st_mode & 0o077 == 0
