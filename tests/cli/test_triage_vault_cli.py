"""``amparo triage`` with a vault: run --defender, batches, show, relabel, dismiss, accept,
export-relabels."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

from amparo.registry import Registry
from tests import factories
from tests.cli.test_users_cli import error, ok, run
from tests.services.test_triage import BATCH


def _stored(vault_dir: Path, registry: Registry, tmp_path: Path) -> tuple[str, str]:
    defender = registry.defenders.add(factories.defender())
    assert defender.id
    batch = tmp_path / "replies.csv"
    batch.write_bytes(BATCH)
    result = ok(vault_dir, "triage", "run", str(batch), "--defender", defender.id,
                "--rules-only")  # fmt: skip
    batch_id = result.stdout.strip()
    assert len(batch_id) == 32, result.output
    assert "8 messages stored" in result.stderr
    assert "skipped row 6, column 'text': is empty" in result.stderr
    return defender.id, batch_id


def test_a_batch_stored_reviewed_and_accepted_from_the_command_line(
    vault_dir: Path, registry: Registry, tmp_path: Path
) -> None:
    defender_id, batch_id = _stored(vault_dir, registry, tmp_path)
    listed = ok(vault_dir, "triage", "batches").stdout
    assert batch_id[:8] in listed and "replies.csv" in listed and "(1 rows)" in listed
    assert json.loads(ok(vault_dir, "triage", "batches", "--defender", defender_id, "--format",
                         "json").stdout)[0]["messages"] == 8  # fmt: skip

    shown = [json.loads(line) for line in ok(vault_dir, "triage", "show", batch_id, "--format",
                                             "jsonl").stdout.splitlines()]  # fmt: skip
    assert len(shown) == 8 and shown[0]["text"] == "I will kill you tonight bitch"
    assert shown[0]["urgency"] >= shown[-1]["urgency"]
    table = ok(vault_dir, "triage", "show", batch_id[:10], "--min-urgency", "50").stdout
    assert "kill you" in table and "weather" not in table
    rows = list(csv.DictReader(io.StringIO(ok(vault_dir, "triage", "show", batch_id, "--format",
                                              "csv", "--category", "smear").stdout)))  # fmt: skip
    assert rows and all("smear" in r["categories"] for r in rows)
    campaigns = ok(vault_dir, "triage", "show", batch_id, "--campaigns", "--format",
                   "jsonl").stdout.splitlines()  # fmt: skip
    campaign = json.loads(campaigns[0])
    assert campaign["accounts"] == 5

    threat, smear, calm = shown[0]["id"], shown[1]["id"], shown[-1]["id"]
    assert ok(vault_dir, "triage", "relabel", calm, "--as", "none").stdout.split() == [calm, "none"]
    assert "dismissed" in ok(vault_dir, "triage", "dismiss", smear, "--reason", "not her").stdout
    accepted = ok(vault_dir, "triage", "accept", threat)
    incident_id = accepted.stdout.strip()
    assert "flagged for risk review" in accepted.stderr
    again = ok(vault_dir, "triage", "accept", threat)
    assert again.stdout.strip() == incident_id and "already accepted" in again.stderr
    assert registry.incidents.get(incident_id).acts[0].victim_defender_id == defender_id
    campaign_incident = ok(vault_dir, "triage", "accept", "--campaign", campaign["id"]).stdout
    assert len(registry.evidence.list(incident_id=campaign_incident.strip())) == 5

    out = tmp_path / "relabels.jsonl"
    ok(vault_dir, "triage", "export-relabels", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    (line,) = out.read_text("utf-8").splitlines()
    assert json.loads(line)["categories"] == ["none"]
    assert json.loads(ok(vault_dir, "triage", "export-relabels").stdout)["id"] == calm


def test_errors_are_one_line_with_the_documented_exit_code(
    vault_dir: Path, registry: Registry, tmp_path: Path
) -> None:
    _, batch_id = _stored(vault_dir, registry, tmp_path)
    message = json.loads(ok(vault_dir, "triage", "show", batch_id, "--format",
                            "jsonl").stdout.splitlines()[0])["id"]  # fmt: skip
    assert "no triage batch" in error(run(vault_dir, "triage", "show", "f" * 32), 4)
    assert "one of them" in error(run(vault_dir, "triage", "accept"), 3)
    assert "say why" in error(run(vault_dir, "triage", "dismiss", message, "--reason", " "), 3)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    defender = registry.defenders.add(factories.defender())
    assert defender.id
    assert "the file is empty" in error(
        run(vault_dir, "triage", "run", str(empty), "--defender", defender.id, "--rules-only"), 3
    )
    assert "no defender" in error(
        run(vault_dir, "triage", "run", str(empty), "--defender", "0" * 32, "--rules-only"), 4
    )


def test_run_without_a_defender_still_needs_no_vault(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from amparo.cli.main import cli

    batch = tmp_path / "replies.csv"
    batch.write_bytes(BATCH)
    result = CliRunner(env={"AMPARO_VAULT": None}).invoke(
        cli, ["triage", "run", str(batch), "--rules-only", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 8
