"""``amparo evidence``: add, capture, list, show, custody, export copies, verify."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from pathlib import Path

from PIL import Image

from amparo.registry import Registry
from tests.cli.test_users_cli import error, ok, run
from tests.evidence import samples
from tests.evidence.samples import CANARY


def test_add_show_custody_export_verify(
    vault_dir: Path, registry: Registry, tmp_path: Path
) -> None:
    case = registry.cases.create()
    photo = tmp_path / "photo.jpg"
    original = samples.jpeg()
    photo.write_bytes(original)
    out = ok(vault_dir, "evidence", "add", str(photo), "--case", case, "--description",
             "at the river").stdout  # fmt: skip
    evidence_id = out.split()[0]
    assert len(evidence_id) == 32
    assert hashlib.sha256(original).hexdigest() in out
    assert "GPS location" in out and "XMP" in out

    shown = json.loads(ok(vault_dir, "evidence", "show", evidence_id[-8:]).stdout)
    assert (shown["name"], shown["description"], shown["media_type"]) == (
        "photo.jpg",
        "at the river",
        "image/jpeg",
    )
    listed = ok(vault_dir, "evidence", "list", "--case", case).stdout
    assert "photo.jpg" in listed and "(1 rows)" in listed

    shared_out = tmp_path / "shared.jpg"
    assert "written to" in ok(vault_dir, "evidence", "export-shared", evidence_id, "--out",
                              str(shared_out)).stdout  # fmt: skip
    assert stat.S_IMODE(shared_out.stat().st_mode) == 0o600
    shared = shared_out.read_bytes()
    assert CANARY.encode() not in shared and not Image.open(io.BytesIO(shared)).getexif()
    assert "exists" in error(run(vault_dir, "evidence", "export-shared", evidence_id, "--out",
                                 str(shared_out)), 3)  # fmt: skip
    original_out = tmp_path / "original.jpg"
    ok(vault_dir, "evidence", "export-original", evidence_id, "--out", str(original_out))
    assert original_out.read_bytes() == original

    assert ok(vault_dir, "evidence", "verify", evidence_id).stdout.startswith("ok: ")
    custody = json.loads(ok(vault_dir, "evidence", "custody", evidence_id, "--format",
                            "json").stdout)  # fmt: skip
    assert [(e["event"], e["detail"]) for e in custody] == [
        ("added", "kind=file"), ("viewed", ""), ("exported", "copy=shared"),
        ("exported", "copy=original"), ("verified", "result=ok"),
    ]  # fmt: skip
    assert {e["sha256"] for e in custody} == {hashlib.sha256(original).hexdigest()}
    assert all(e["actor"].startswith("cli:") for e in custody)


def test_capture_and_refusals(vault_dir: Path, registry: Registry, tmp_path: Path) -> None:
    case = registry.cases.create()
    page = tmp_path / "post.html"
    page.write_bytes(b"<html><script>alert(1)</script></html>")
    out = ok(vault_dir, "evidence", "capture", str(page), "--case", case, "--url",
             "https://social.example/p/1", "--captured-at", "2020-10-31T14:05:00-05:00",
             "--note", "threat").stdout  # fmt: skip
    shown = json.loads(ok(vault_dir, "evidence", "show", out.split()[0]).stdout)
    assert shown["url"] == "https://social.example/p/1"
    assert shown["captured_at"] == "2020-10-31T19:05:00+00:00"
    assert shown["shared_status"] == "kept"

    assert "future" in error(run(vault_dir, "evidence", "capture", str(page), "--case", case,
                                 "--url", "https://a.example", "--captured-at",
                                 "2099-01-01T00:00:00"), 3)  # fmt: skip
    assert "ISO 8601" in error(run(vault_dir, "evidence", "capture", str(page), "--case", case,
                                   "--url", "https://a.example", "--captured-at",
                                   "yesterday"), 3)  # fmt: skip
    bomb = tmp_path / "holiday.zip"
    bomb.write_bytes(samples.zip_bomb(200))
    message = error(run(vault_dir, "evidence", "add", str(bomb), "--case", case), 3)
    assert "'holiday.zip' would expand" in message
    archive = tmp_path / "chat.zip"
    archive.write_bytes(samples.zipped([("chat.txt", b"hola")]))
    added = ok(vault_dir, "evidence", "add", str(archive), "--case", case).stdout
    assert "shared copy    none" in added
    assert "no shared copy" in error(run(vault_dir, "evidence", "export-shared",
                                         added.split()[0], "--out",
                                         str(tmp_path / "x")), 8)  # fmt: skip
    error(run(vault_dir, "evidence", "show", "0" * 32), 4)
    error(run(vault_dir, "evidence", "add", str(archive)), 3)  # neither case nor incident


def test_verify_exits_1_and_names_the_problem(
    vault_dir: Path, registry: Registry, tmp_path: Path
) -> None:
    case = registry.cases.create()
    item = registry.evidence.add(case, "a.png", samples.png())
    with registry.store.read() as conn:
        import sqlalchemy as sa

        from amparo.store import schema

        blob = conn.execute(
            sa.select(schema.evidence.c.original_blob).where(schema.evidence.c.id == item.id)
        ).scalar_one()
    path = registry.files._path(blob)
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 1
    path.write_bytes(bytes(damaged))
    result = run(vault_dir, "evidence", "verify", item.id)
    assert result.exit_code == 1
    assert result.stderr.startswith("problem: original: ciphertext failed authentication")
