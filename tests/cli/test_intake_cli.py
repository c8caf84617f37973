"""``amparo intake``: keys, the field side (device key, submit), import and the inbox."""

from __future__ import annotations

import json
import os
from pathlib import Path

from amparo.registry import Registry
from tests.cli.test_users_cli import error, ok, run
from tests.security.leaks import files_with_canaries, new_canary, vault_files


def _field(config: Path, *args: str) -> str:
    """A command on the partner's machine: no vault there at all."""
    from click.testing import CliRunner

    from amparo.cli.main import cli

    env = {"AMPARO_VAULT": None, "AMPARO_PASSPHRASE": None, "AMPARO_CONFIG_DIR": str(config)}
    result = CliRunner(env=env).invoke(cli, ["intake", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_field_bundle_round_trip(vault_dir: Path, registry: Registry, tmp_path: Path) -> None:
    assert "fingerprint" in ok(vault_dir, "intake", "keygen").stdout
    public = ok(vault_dir, "intake", "export-public-key").stdout.strip()
    assert public.startswith("amparo-intake:")
    config = tmp_path / "partner"
    device = _field(config, "device-key").strip()
    assert device == _field(config, "device-key").strip()  # created once
    assert oct(os.stat(config / "device.key").st_mode & 0o777) == "0o600"

    canary = new_canary("field")
    work = tmp_path / "work"
    work.mkdir()
    attachment = work / "list.txt"
    attachment.write_text(f"names {canary}")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    bundle = out_dir / "report.bundle"
    printed = _field(config, "submit", "--to", public, "--what", f"Raid {canary}", "--when",
                     "2024-05-14", "--who", "Berta Flores", str(attachment), "-o", str(bundle),
                     "--shred-inputs")  # fmt: skip
    assert "receipt" in printed and not attachment.exists()
    code = printed.split("receipt")[1].split()[0]
    # The field machine keeps no readable copy: only the sealed bundle was written.
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.bundle"]
    assert files_with_canaries(vault_files(tmp_path / "out"), [canary]) == {}
    assert files_with_canaries(vault_files(config), [canary]) == {}

    ok(vault_dir, "intake", "devices", "add", device, "--label", "Partner laptop")
    assert "Partner laptop" in ok(vault_dir, "intake", "devices", "list").stdout
    assert ": imported" in ok(vault_dir, "intake", "import", str(bundle)).stdout
    assert ": duplicate" in ok(vault_dir, "intake", "import", str(bundle)).stdout
    assert files_with_canaries(vault_files(vault_dir), [canary]) == {}
    assert registry.intake.status(code) == "received"

    rows = json.loads(ok(vault_dir, "intake", "inbox", "--format", "json").stdout)
    assert len(rows) == 1 and rows[0]["channel"] == "bundle" and rows[0]["quarantine"] is None
    shown = ok(vault_dir, "intake", "open", rows[0]["id"][:10]).stdout
    assert canary in shown and "Partner laptop" in shown
    assert registry.intake.status(code) == "in_review"
    incident_id = ok(vault_dir, "intake", "accept", rows[0]["id"], "--country", "HN",
                     "--act-type", "A09").stdout.strip()  # fmt: skip
    assert registry.incidents.get(incident_id).narrative == f"Raid {canary}"
    assert registry.intake.status(code) == "acted_on"

    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(bundle.read_bytes()[:-10])
    assert "truncated" in error(run(vault_dir, "intake", "import", str(damaged)), 7)

    ok(vault_dir, "intake", "devices", "revoke", device)
    again = out_dir / "again.bundle"
    _field(config, "submit", "--to", public, "--what", "After revocation", "-o", str(again))
    assert "quarantined (revoked_device)" in ok(vault_dir, "intake", "import", str(again)).stdout


def test_rotate_retire_and_discard(vault_dir: Path, registry: Registry) -> None:
    ok(vault_dir, "intake", "keygen")
    assert "rotate" in error(run(vault_dir, "intake", "keygen"), 8)
    receipt = registry.intake.receive({"what": "before rotation"})
    ok(vault_dir, "intake", "rotate")
    keys = json.loads(ok(vault_dir, "intake", "keys", "--format", "json").stdout)
    previous = next(k["id"] for k in keys if k["status"] == "previous")
    assert "not decided" in error(run(vault_dir, "intake", "retire", previous), 8)
    assert "before rotation" in ok(vault_dir, "intake", "open", receipt.submission_id).stdout
    ok(vault_dir, "intake", "discard", receipt.submission_id, "--reason", "test")
    assert "retired" in ok(vault_dir, "intake", "retire", previous).stdout
