"""``amparo intake``: intake keys, field devices and bundles, and the inbox of sealed reports.

Two kinds of machine use it. The vault holder's: ``keygen``, ``rotate``, ``retire``,
``export-public-key``, ``devices``, ``import``, ``inbox``, ``open``, ``accept``, ``link``,
``discard``. A partner's laptop in the field, without any vault: ``device-key`` and
``submit``, which seals a report to the organisation's public key and signs it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.errors import ValidationError

__all__ = ["intake"]

INBOX_COLUMNS = ("id", "channel", "received_at", "status", "state", "quarantine", "incident_id")
KEY_COLUMNS = ("id", "status", "fingerprint", "created_at", "submissions")
DEVICE_COLUMNS = ("id", "status", "label", "fingerprint", "created_at")


@click.group()
def intake() -> None:
    """Reports from people without an account, sealed on arrival until a person reviews them.

    Submissions (the report form, the API, field bundles) are sealed to the intake public
    key and stored only sealed; 'open' decrypts one in memory (audited), then 'accept',
    'link' or 'discard' decides it. Nothing reaches the registry without that review.
    """


# -- keys -------------------------------------------------------------------------------------
def _show_key(info: Any) -> None:
    click.echo(f"key id       {info.id}")
    click.echo(f"fingerprint  {info.fingerprint}")
    click.echo(f"public key   {info.public_key}")


@intake.command("keygen")
@vault_option
@handle_errors
def keygen(vault: Path) -> None:
    """Create the vault's intake key pair (its private half stays wrapped in the vault)."""
    with open_registry(vault) as registry:
        _show_key(registry.intake.keygen())


@intake.command("rotate")
@vault_option
@handle_errors
def rotate(vault: Path) -> None:
    """Make a new intake key active; the old one still opens what was sealed to it."""
    with open_registry(vault) as registry:
        _show_key(registry.intake.rotate())


@intake.command("retire")
@vault_option
@click.argument("key_id")
@click.option("--force", is_flag=True, help="Retire even if submissions sealed to it are undecided "
              "(they become unreadable for good).")  # fmt: skip
@handle_errors
def retire(vault: Path, key_id: str, force: bool) -> None:
    """Destroy the private half of a previous intake key."""
    with open_registry(vault) as registry:
        lost = registry.intake.retire(key_id, force=force)
    click.echo(f"retired {key_id}" + (f"; {lost} undecided submission(s) lost" if lost else ""))


@intake.command("keys")
@vault_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def keys(vault: Path, fmt: str) -> None:
    """List intake keys: active, previous (still opening old submissions) and retired."""
    with open_registry(vault) as registry:
        rows = [asdict(k) for k in registry.intake.list_keys()]
    click.echo(render(rows, fmt, KEY_COLUMNS), nl=False)


@intake.command("export-public-key")
@vault_option
@handle_errors
def export_public_key(vault: Path) -> None:
    """Print the active intake public key, for partners' 'amparo intake submit --to'."""
    with open_registry(vault) as registry:
        click.echo(registry.intake.public_key())


# -- field devices ------------------------------------------------------------------------------
@intake.group("devices")
def devices() -> None:
    """Field devices whose signed bundles are trusted (others are quarantined)."""


@devices.command("add")
@vault_option
@click.argument("public_key")
@click.option("--label", required=True, help="Whose device it is (stored encrypted).")
@handle_errors
def devices_add(vault: Path, public_key: str, label: str) -> None:
    """Register a device key printed by 'amparo intake device-key'."""
    with open_registry(vault) as registry:
        info = registry.intake.add_device(public_key, label)
    click.echo(f"{info.id}  {info.fingerprint}")


@devices.command("revoke")
@vault_option
@click.argument("device")
@handle_errors
def devices_revoke(vault: Path, device: str) -> None:
    """Revoke a device (by id or public key): its later bundles are quarantined."""
    with open_registry(vault) as registry:
        info = registry.intake.revoke_device(device)
    click.echo(f"revoked {info.id}")


@devices.command("list")
@vault_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def devices_list(vault: Path, fmt: str) -> None:
    """List registered devices with their labels."""
    with open_registry(vault) as registry:
        rows = [asdict(d) for d in registry.intake.devices()]
    click.echo(render(rows, fmt, DEVICE_COLUMNS), nl=False)


# -- the field side -------------------------------------------------------------------------------
@intake.command("device-key")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the device key lives (default: AMPARO_CONFIG_DIR or ~/.config/amparo).",
)
@handle_errors
def device_key_command(config_dir: Path | None) -> None:
    """Create this machine's device signing key (once) and print its public key."""
    from amparo.services.intake_field import config_dir as default_dir
    from amparo.services.intake_field import device_key

    click.echo(device_key(config_dir or default_dir()))


def _read_inputs(files: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    from amparo.services.intake import MAX_SUBMISSION_BYTES

    total = sum(f.stat().st_size for f in files)
    if total > MAX_SUBMISSION_BYTES:
        raise ValidationError("files", f"are larger than {MAX_SUBMISSION_BYTES} bytes together")
    return [(f.name, f.read_bytes()) for f in files]


@intake.command("submit")
@click.option("--to", "to", required=True, help="The organisation's intake public key "
              "(amparo-intake:...) or a file holding it.")  # fmt: skip
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A JSON file with the answers: what, when, where, who, contact, consent.",
)
@click.option("--what", help="What happened.")
@click.option("--when", "when", help="When (YYYY-MM-DD, or words).")
@click.option("--where", help="Where.")
@click.option("--who", help="Who is at risk.")
@click.option("--contact", help="How to reach the person safely.")
@click.option(
    "--consent",
    multiple=True,
    type=click.Choice(("contact", "documentation", "sharing_with_partners", "publication")),
    help="A consent given (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the bundle (default: amparo-<id>.bundle here).",
)
@click.option(
    "--shred-inputs",
    is_flag=True,
    help="Overwrite and delete the input files once the bundle is written.",
)
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the device key lives.",
)
@handle_errors
def submit(
    to: str, files: tuple[Path, ...], report: Path | None, what: str | None, when: str | None,
    where: str | None, who: str | None, contact: str | None, consent: tuple[str, ...],
    output: Path | None, shred_inputs: bool, config_dir: Path | None,
) -> None:  # fmt: skip
    """Seal and sign a report on a machine without the vault; prints the receipt code once.

    Only the sealed bundle is written: this machine cannot read it back, and no plaintext
    copy or temporary file is left (the report file and attachments are yours to remove, or
    pass --shred-inputs).
    """
    from amparo.services.intake_field import (
        build_bundle,
        load_device_seed,
        shred_file,
        write_bundle,
    )
    from amparo.services.intake_field import config_dir as default_dir

    key_text = to
    if not to.strip().startswith("amparo-intake:") and Path(to).is_file():
        key_text = Path(to).read_text("utf-8").strip()
    answers: dict[str, Any] = {}
    if report is not None:
        loaded = json.loads(report.read_text("utf-8"))
        if not isinstance(loaded, dict):
            raise ValidationError("report", f"{report.name} must hold a JSON object")
        answers.update(loaded)
    given = {"what": what, "when": when, "where": where, "who": who, "contact": contact}
    answers.update({k: v for k, v in given.items() if v is not None})
    if consent:
        answers["consent"] = list(consent)
    seed = load_device_seed(config_dir or default_dir())
    built = build_bundle(key_text, answers, _read_inputs(files), seed)
    target = output or Path(f"amparo-{built.submission_id[:12]}.bundle")
    write_bundle(target, built.data)
    if shred_inputs:
        for path in ([report] if report else []) + list(files):
            shred_file(path)
    click.echo(f"bundle   {target}")
    click.echo(f"receipt  {built.receipt_code}")
    click.echo("Keep the receipt code to check the status later; it is shown only now.")


@intake.command("import")
@vault_option
@click.argument(
    "bundles", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@handle_errors
def import_bundles(vault: Path, bundles: tuple[Path, ...]) -> None:
    """Verify and store field bundles, sealed; replays are ignored, unknown devices quarantined."""
    with open_registry(vault) as registry:
        for path in bundles:
            result = registry.intake.import_bundle(path.read_bytes(), path.name)
            note = f" ({result.quarantine})" if result.quarantine else ""
            click.echo(f"{path.name}: {result.outcome}{note} {result.submission_id}")


# -- the inbox ------------------------------------------------------------------------------------
@intake.command("inbox")
@vault_option
@click.option("--all", "include_decided", is_flag=True, help="Include decided submissions.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def inbox(vault: Path, include_decided: bool, fmt: str) -> None:
    """List submissions waiting for review (nothing of their content)."""
    with open_registry(vault) as registry:
        rows = [asdict(i) for i in registry.intake.inbox(include_decided=include_decided)]
    click.echo(render(rows, fmt, INBOX_COLUMNS), nl=False)


@intake.command("open")
@vault_option
@click.argument("submission")
@click.option(
    "--save-files",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write its files into this directory (outside the vault, as plaintext).",
)
@click.option(
    "--duplicates",
    is_flag=True,
    help="Also list possible duplicates: defenders "
    "named like the person at risk, incidents near the date (each search audited).",
)
@handle_errors
def open_command(vault: Path, submission: str, save_files: Path | None, duplicates: bool) -> None:
    """Decrypt and show one submission (audited)."""
    from amparo.services.intake import Suggestions

    with open_registry(vault) as registry:
        opened = registry.intake.open(registry.intake.resolve(submission))
        found = registry.intake.suggestions(opened) if duplicates else Suggestions()
    click.echo(f"submission  {opened.id} ({opened.channel}, {opened.state})")
    if opened.quarantine:
        click.echo(f"QUARANTINED {opened.quarantine}")
    if opened.device:
        click.echo(f"device      {opened.device_label or 'unregistered'} ({opened.device})")
    for name in ("when", "where", "who", "contact"):
        click.echo(f"{name:<11} {opened.answers.get(name, '')}")
    click.echo(f"consent     {', '.join(opened.consent) or 'none given'}")
    click.echo("what happened:")
    for line in str(opened.answers.get("what", "")).splitlines():
        click.echo(f"  {line}")
    for item in opened.files:
        found_meta = f"; metadata: {', '.join(item.metadata_found)}" if item.metadata_found else ""
        click.echo(
            f"file        {item.name} ({item.media_type}, {len(item.data)} bytes{found_meta})"
        )
    if save_files is not None:
        import os

        save_files.mkdir(parents=True, exist_ok=True, mode=0o700)
        for index, item in enumerate(opened.files, start=1):
            target = save_files / f"{index}-{Path(item.name).name}"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(item.data)
    for d in found.defenders:
        click.echo(f"maybe       defender {d.id} {d.display_name}")
    for i in found.incidents:
        click.echo(f"maybe       incident {i.id} {i.date_start} {i.title}")


@intake.command("accept")
@vault_option
@click.argument("submission")
@click.option("--country", help="Country code of the incident.")
@click.option("--act-type", help="Act type code of the incident's act.")
@click.option(
    "--set",
    "extra",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A JSON file of incident fields that override the prefilled ones.",
)
@click.option("--case", "case_id", help="File the incident in this case.")
@click.option("--release", is_flag=True, help="Accept a quarantined submission deliberately.")
@handle_errors
def accept(
    vault: Path, submission: str, country: str | None, act_type: str | None,
    extra: Path | None, case_id: str | None, release: bool,
) -> None:  # fmt: skip
    """Accept a submission as a new incident (prefilled; normal incident validation)."""
    with open_registry(vault) as registry:
        submission_id = registry.intake.resolve(submission)
        fields: dict[str, Any] = {}
        if extra is not None:
            fields.update(json.loads(extra.read_text("utf-8")))
        if country:
            fields["country"] = country
        incident_id = registry.intake.accept(
            submission_id, fields, case_id=case_id, act_type=act_type, release=release
        )
    click.echo(incident_id)


@intake.command("link")
@vault_option
@click.argument("submission")
@click.option("--incident", "incident_id", help="The existing incident.")
@click.option("--defender", "defender_id", help="The existing defender.")
@click.option("--release", is_flag=True, help="Link a quarantined submission deliberately.")
@handle_errors
def link(
    vault: Path, submission: str, incident_id: str | None, defender_id: str | None,
    release: bool,
) -> None:  # fmt: skip
    """Link a submission to an existing incident (its files become evidence) or defender."""
    with open_registry(vault) as registry:
        submission_id = registry.intake.resolve(submission)
        registry.intake.link(submission_id, incident_id=incident_id, defender_id=defender_id,
                             release=release)  # fmt: skip
    click.echo(f"linked {submission_id}")


@intake.command("discard")
@vault_option
@click.argument("submission")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@handle_errors
def discard(vault: Path, submission: str, reason: str) -> None:
    """Discard a submission with a reason."""
    with open_registry(vault) as registry:
        submission_id = registry.intake.resolve(submission)
        registry.intake.discard(submission_id, reason)
    click.echo(f"discarded {submission_id}")
