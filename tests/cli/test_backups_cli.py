"""``amparo backup`` and ``amparo restore`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from amparo.registry import Registry
from tests.cli.test_cli import assert_error_line, ok, run
from tests.conftest import PASSPHRASE, PostgresDatabases
from tests.factories import incident


def test_backup_verify_restore_and_refusals(
    vault_dir: Path, tmp_path: Path, postgres: PostgresDatabases | None
) -> None:
    added = ok(
        "incidents",
        "add",
        "--vault",
        str(vault_dir),
        "--json",
        json.dumps(incident(title="Kept through a restore")),
    ).strip()
    out = tmp_path / "b.ampbak"
    said = ok("backup", "--vault", str(vault_dir), "--out", str(out))
    assert said.startswith(f"Backup written to {out}: ") and "members" in said
    assert "is intact" in ok("restore", str(out), "--verify-only")

    flipped = tmp_path / "flipped.ampbak"
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    assert "failed authentication" in assert_error_line(
        run("restore", str(flipped), "--vault", str(tmp_path / "x")), 7
    )
    assert not (tmp_path / "x").exists()
    truncated = tmp_path / "cut.ampbak"
    truncated.write_bytes(out.read_bytes()[:-10])
    assert "truncated" in assert_error_line(run("restore", str(truncated), "--verify-only"), 7)
    assert "passphrase" in assert_error_line(
        run("restore", str(out), "--verify-only", passphrase="wrong passphrase"), 5
    )
    assert "not empty" in assert_error_line(run("restore", str(out), "--vault", str(vault_dir)), 3)

    target = tmp_path / "restored"
    args = ["restore", str(out), "--vault", str(target)]
    url = postgres.new(empty=True) if postgres is not None else None
    if url:
        args += ["--database-url", url]
    assert f"into {target.absolute()}" in ok(*args)
    with Registry.open(target, PASSPHRASE) as copy:
        assert copy.incidents.get(added).title == "Kept through a restore"
        restore_entry = copy.audit.entries(action="vault.restore")
        assert len(restore_entry) == 1 and restore_entry[0].actor.startswith("cli:")
    assert "integrity  ok" in ok("check", "--vault", str(target))
    assert ok("audit", "verify", "--vault", str(target)).startswith("ok: ")
    if postgres is not None and url:
        postgres.drop(url)


def test_restore_needs_a_place(tmp_path: Path) -> None:
    (tmp_path / "b.ampbak").write_bytes(b"not a backup")
    result = run("restore", str(tmp_path / "b.ampbak"))
    assert result.exit_code == 2 and "--verify-only" in result.output
    assert "not an Amparo backup" in assert_error_line(
        run("restore", str(tmp_path / "b.ampbak"), "--verify-only"), 7
    )
