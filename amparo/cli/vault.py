"""Vault life cycle: init, demo, serve, passphrase change, recovery, shredding."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from amparo.cli.context import (
    handle_errors,
    open_registry,
    passphrase_from_env_or_prompt,
    vault_option,
)

if TYPE_CHECKING:
    from amparo.registry import Registry

__all__ = ["demo", "init", "serve", "vault"]

DEFAULT_DEMO_VAULT = Path(".demo-vault")
DEMO_USER = "demo"
DEMO_PASSWORD = "amparo-web-login"  # noqa: S105 (public, documented: a demo of synthetic data)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _print_recovery(code: str) -> None:
    click.echo("")
    click.echo("RECOVERY CODE (shown once; write it down and keep it offline, away from the")
    click.echo("laptop: it opens the vault if the passphrase is lost):")
    click.echo(f"    {code}")
    click.echo("")


@click.command()
@vault_option
@click.option("--database-url", envvar="AMPARO_DATABASE_URL",
              help="PostgreSQL URL for teams; default: SQLite inside the vault.")  # fmt: skip
@click.option("--language", default="en", show_default=True, help="Default interface language.")
@handle_errors
def init(vault: Path, database_url: str | None, language: str) -> None:
    """Create a new encrypted vault and print its one-time recovery code."""
    from amparo.vault import init_vault

    passphrase = passphrase_from_env_or_prompt(confirm=True, prompt="New vault passphrase")
    result = init_vault(vault, passphrase, database_url=database_url, language=language)
    click.echo(f"Created vault {vault} ({result.settings.database_url.split(':')[0]}).")
    _print_recovery(result.recovery_code)


@click.command()
@click.option("--vault", envvar="AMPARO_VAULT", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_DEMO_VAULT, show_default=True, help="Vault directory.")  # fmt: skip
@click.option("--no-serve", is_flag=True, help="Create the demo vault and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--seed", default=None, type=int, help="Seed for the synthetic data.")
@handle_errors
def demo(vault: Path, no_serve: bool, host: str, port: int, seed: int | None) -> None:
    """Create a vault filled with synthetic DEMO data (if absent), then serve it."""
    from amparo.demo import DEMO_SEED, populate
    from amparo.registry import Registry
    from amparo.vault import init_vault

    passphrase = passphrase_from_env_or_prompt(confirm=True, prompt="Demo vault passphrase")
    if not (vault / "vault.key").exists():
        result = init_vault(vault, passphrase, database_url=os.environ.get("AMPARO_DATABASE_URL"))
        click.echo(f"Created DEMO vault {vault}.")
        _print_recovery(result.recovery_code)
        with (
            Registry.open(vault, passphrase, actor="demo") as registry,
            click.progressbar(length=100, label="Generating DEMO data", file=sys.stderr) as bar,
        ):
            state = {"pct": 0}

            def progress(phase: str, done: int, total: int) -> None:
                pct = int(100 * done / total) if total else 100
                pct = pct // 4 if phase == "defenders" else 25 + (pct * 3) // 4
                bar.update(max(0, pct - state["pct"]))
                state["pct"] = max(pct, state["pct"])

            counts = populate(registry, seed=DEMO_SEED if seed is None else seed,
                              progress=progress)  # fmt: skip
            _add_demo_user(registry, os.environ.get("AMPARO_DEMO_PASSWORD") or DEMO_PASSWORD)
        click.echo(", ".join(f"{v} {k}" for k, v in counts.items()) + " created (DEMO).")
        click.echo(f"Demo sign-in: user '{DEMO_USER}', password "
                   f"'{os.environ.get('AMPARO_DEMO_PASSWORD') or DEMO_PASSWORD}'.")  # fmt: skip
    else:
        click.echo(f"Using existing vault {vault}.")
    if not no_serve:
        _serve(vault, passphrase, host, port)


def _add_demo_user(registry: Registry, password: str) -> None:
    """An admin account ``demo`` with write grants on every demo case; it enrols its
    authenticator at first sign-in in the browser."""
    import sqlalchemy as sa

    from amparo.store import schema

    user = registry.accounts.add_user(DEMO_USER, password, "admin", display_name="Demo admin")
    now = registry.clock.now()
    with registry.store.write() as conn:
        case_ids = conn.execute(sa.select(schema.cases.c.id).order_by(schema.cases.c.id)).all()
        rows = [
            {"case_id": row.id, "principal_type": "user", "principal_id": user.id,
             "level": "write", "granted_at": now, "granted_by": registry.actor}
            for row in case_ids
        ]  # fmt: skip
        if rows:
            conn.execute(sa.insert(schema.case_grants), rows)
            detail = {"principal_type": "user", "principal": user.id, "level": "write"}
            registry.audit.record_many(
                conn, "grant.add", [("case", str(row.id), detail) for row in case_ids]
            )


@click.command()
@vault_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes, forked after the vault is unlocked; one per CPU core is a good "
    "start for many concurrent users.",
)
@handle_errors
def serve(vault: Path, host: str, port: int, workers: int) -> None:
    """Unlock the vault and run the web server (keys stay in this process's memory)."""
    _serve(vault, passphrase_from_env_or_prompt(), host, port, workers)


def _serve(vault: Path, passphrase: str, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from amparo.registry import Registry
    from amparo.web.app import create_app

    registry = Registry.open(vault, passphrase, actor="web")
    os.environ.pop("AMPARO_PASSPHRASE", None)  # no need to keep it around any longer
    from amparo.services.backups import register_scheduled_backup

    register_scheduled_backup(registry.settings)  # a [backup] table: the scheduler runs it
    # Plain HTTP is tolerated on the loopback interface only; there the cookie cannot be
    # Secure (browsers drop Secure cookies over http), so it loses the __Host- prefix too.
    loopback = host.strip("[]").lower() in LOOPBACK_HOSTS
    app = create_app(registry, secure_cookies=not loopback)
    demo_note = " (DEMO data)" if registry.is_demo else ""
    scheme = "http" if loopback else "https (behind a TLS proxy)"
    click.echo(f"Amparo is serving {vault}{demo_note} at http://{host}:{port}/ [{scheme}]")
    if registry.is_demo:
        password = os.environ.get("AMPARO_DEMO_PASSWORD") or DEMO_PASSWORD
        click.echo(f"Demo sign-in: user '{DEMO_USER}', password '{password}' (unless the vault")
        click.echo("was created with another AMPARO_DEMO_PASSWORD). The first sign-in sets up")
        click.echo("an authenticator app (TOTP): scan the QR code or type the key shown.")
    from amparo.worker import BackgroundWorker, run_until_terminated

    try:
        if workers == 1:
            # The embedded default: escalation and notifications in a thread of this process.
            background = BackgroundWorker(registry)
            background.start()
            try:
                uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
            finally:
                background.stop()
        else:
            from amparo.web import prefork

            click.echo(f"{workers} worker processes and one scheduler process")
            registry.store.close()  # each worker opens its own connections
            code = prefork.run(
                app, host, port, workers, after_fork=registry.store.forget_connections,
                background=lambda: run_until_terminated(registry),
            )  # fmt: skip
            if code:
                raise click.exceptions.Exit(code)
    finally:
        registry.close()


@click.group()
def vault() -> None:
    """Key operations: change the passphrase, recover, shred a case."""


@vault.command("change-passphrase")
@vault_option
@handle_errors
def change_passphrase_cmd(vault: Path) -> None:
    """Rewrap the master key under a new passphrase (no record is re-encrypted)."""
    from amparo.vault import change_passphrase

    old = passphrase_from_env_or_prompt(prompt="Current passphrase")
    new = os.environ.get("AMPARO_NEW_PASSPHRASE") or click.prompt(
        "New passphrase", hide_input=True, confirmation_prompt=True
    )
    change_passphrase(vault, old, new, actor=f"cli:{getpass.getuser()}")
    click.echo("Passphrase changed.")


@vault.command("recover")
@vault_option
@click.option("--code", envvar="AMPARO_RECOVERY_CODE", prompt="Recovery code", hide_input=True,
              help="The recovery code printed at init (or AMPARO_RECOVERY_CODE).")  # fmt: skip
@handle_errors
def recover_cmd(vault: Path, code: str) -> None:
    """Open the vault with its recovery code and set a new passphrase."""
    from amparo.vault import recover_vault

    new = os.environ.get("AMPARO_NEW_PASSPHRASE") or click.prompt(
        "New passphrase", hide_input=True, confirmation_prompt=True
    )
    fresh = recover_vault(vault, code, new, actor=f"cli:{getpass.getuser()}")
    click.echo("Passphrase reset. The old recovery code no longer works; the new one is:")
    _print_recovery(fresh)


@vault.command("shred-case")
@vault_option
@click.argument("case_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def shred_case_cmd(vault: Path, case_id: str, yes: bool) -> None:
    """Destroy a case's key and delete its records, history and files. Irreversible."""
    registry = open_registry(vault)
    with registry:
        if not yes:
            click.confirm(f"Shred case {case_id} for good?", abort=True)
        report = registry.cases.shred(case_id)
    click.echo(
        f"Shredded case {report.case_id}: {report.incidents} incidents, {report.defenders} "
        f"defenders, {report.versions} versions, {report.files} files."
    )
    if report.held_by_sessions:
        from amparo.store.engine import SHREDDED_TABLES

        tables = ", ".join(SHREDDED_TABLES)
        click.echo(
            f"Warning: {report.held_by_sessions} other PostgreSQL session(s) had a transaction "
            "open from before the shred, so old row versions (the case's wrapped key among "
            "them) may remain in the table files. Once those transactions end, run on the "
            f"database: VACUUM FULL {tables};",
            err=True,
        )
