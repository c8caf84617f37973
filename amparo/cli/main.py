"""The ``amparo`` command. Each verb parses options, calls the library, renders the result."""

from __future__ import annotations

from pathlib import Path

import click

from amparo import __version__
from amparo.cli.audit import audit
from amparo.cli.backups import backup, restore
from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.defenders import defenders
from amparo.cli.evidence import evidence
from amparo.cli.groups import groups
from amparo.cli.incidents import incidents
from amparo.cli.intake import intake
from amparo.cli.protection import cases, checkins, risk, worker
from amparo.cli.reports import report, un_communication
from amparo.cli.stats import stats
from amparo.cli.tokens import tokens
from amparo.cli.transfer import export, import_
from amparo.cli.triage import triage
from amparo.cli.users import users
from amparo.cli.vault import demo, init, serve, vault

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="amparo")
def cli() -> None:
    """Amparo: document, protect and report on attacks against human rights defenders.

    Every command works on a vault directory (--vault or AMPARO_VAULT). Unlock it with
    AMPARO_PASSPHRASE (scripts) or at the prompt.
    """


@cli.command()
@vault_option
@handle_errors
def check(vault: Path) -> None:
    """Check the vault: key file, database integrity, schema version, settings."""
    from amparo.security.kdf import VAULT_FLOOR
    from amparo.security.keyfile import KeyFile
    from amparo.store.migrate import current_revision, head_revision

    registry = open_registry(vault)
    with registry:
        problems = registry.store.integrity_problems()
        keyfile = KeyFile.load(registry.settings.key_file)
        with registry.store.read() as conn:
            revision = current_revision(conn)
        click.echo(f"vault      {vault}")
        click.echo(
            f"database   {registry.store.dialect} (schema {revision}, head {head_revision()})"
        )
        click.echo(f"records    {registry.incidents.count()} incidents, "
                   f"{registry.defenders.count()} defenders")  # fmt: skip
        weak = [k for k in keyfile.slot_kinds if keyfile.kdf_params(k).below(VAULT_FLOOR)]
        if weak:
            click.echo(f"warning    key slot(s) {', '.join(weak)} use Argon2id below the floor "
                       "(256 MiB, t=3): change the passphrase to strengthen them")  # fmt: skip
        if problems:
            for problem in problems:
                click.echo(f"problem    {problem}", err=True)
            raise SystemExit(1)
        click.echo("integrity  ok")


cli.add_command(init)
cli.add_command(demo)
cli.add_command(serve)
cli.add_command(vault)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(import_)
cli.add_command(export)
cli.add_command(incidents)
cli.add_command(defenders)
cli.add_command(evidence)
cli.add_command(users)
cli.add_command(tokens)
cli.add_command(groups)
cli.add_command(audit)
cli.add_command(triage)
cli.add_command(cases)
cli.add_command(risk)
cli.add_command(checkins)
cli.add_command(worker)
cli.add_command(report)
cli.add_command(un_communication)
cli.add_command(intake)
cli.add_command(stats)


def main() -> None:
    cli(prog_name="amparo")
