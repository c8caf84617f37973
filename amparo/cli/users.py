"""``amparo users``: add, list, disable, enable, reset-mfa, grant, revoke."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.errors import ValidationError
from amparo.security.permissions import USER_ROLES
from amparo.services.grants import LEVELS

__all__ = ["users"]

LIST_COLUMNS = ("id", "username", "display_name", "role", "mfa_enrolled", "disabled",
                "created_at")  # fmt: skip


def _new_password() -> str:
    env = os.environ.get("AMPARO_NEW_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise ValidationError("password", "set AMPARO_NEW_PASSWORD or run from a terminal")
    value: str = click.prompt("Password for the new user", hide_input=True,
                              confirmation_prompt=True)  # fmt: skip
    return value


@click.group()
def users() -> None:
    """User accounts: passwords, roles, second factors, access to cases."""


@users.command("add")
@vault_option
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(USER_ROLES)), help="The user's role.")
@click.option("--display-name", help="Name shown to other users (stored encrypted).")
@handle_errors
def add(vault: Path, username: str, role: str, display_name: str | None) -> None:
    """Add a user. The password comes from AMPARO_NEW_PASSWORD or is asked twice.

    Passwords need at least 12 characters and may not be a common password or contain the
    username. The user enrols an authenticator app at first login.
    """
    password = _new_password()
    with open_registry(vault) as registry:
        user = registry.accounts.add_user(username, password, role, display_name=display_name)
    click.echo(f"{user.id} {user.username} ({user.role}): enrols a second factor at first login")


@users.command("list")
@vault_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def list_(vault: Path, fmt: str) -> None:
    """List users (never passwords or second-factor secrets)."""
    with open_registry(vault) as registry:
        rows = [u.to_dict() for u in registry.accounts.list_users()]
    click.echo(render(rows, fmt, LIST_COLUMNS), nl=False)


@users.command("disable")
@vault_option
@click.argument("username")
@handle_errors
def disable(vault: Path, username: str) -> None:
    """Disable a user: no more logins or API tokens, and open sessions end."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        registry.accounts.disable(user.id)
    click.echo(f"{user.username} disabled")


@users.command("enable")
@vault_option
@click.argument("username")
@handle_errors
def enable(vault: Path, username: str) -> None:
    """Enable a disabled user again."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        registry.accounts.enable(user.id)
    click.echo(f"{user.username} enabled")


@users.command("reset-mfa")
@vault_option
@click.argument("username")
@handle_errors
def reset_mfa(vault: Path, username: str) -> None:
    """Forget a user's second factor and recovery codes; they enrol again at next login."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        registry.accounts.reset_mfa(user.id)
    click.echo(f"{user.username}: second factor reset; enrolment required at next login")


@users.command("grant")
@vault_option
@click.argument("username")
@click.argument("case_id")
@click.option("--level", type=click.Choice(LEVELS), default="read", show_default=True,
              help="read: see the case's records; write: also change them.")  # fmt: skip
@handle_errors
def grant(vault: Path, username: str, case_id: str, level: str) -> None:
    """Give a user read or write access to a case (replacing any level it had)."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        registry.grants.grant(case_id, "user", user.id, level)
    click.echo(f"{user.username}: {level} access to case {case_id}")


@users.command("revoke")
@vault_option
@click.argument("username")
@click.argument("case_id")
@handle_errors
def revoke(vault: Path, username: str, case_id: str) -> None:
    """Take a user's own grant on a case away (grants through groups stay)."""
    with open_registry(vault) as registry:
        user = registry.accounts.get_by_username(username)
        registry.grants.revoke(case_id, "user", user.id)
    click.echo(f"{user.username}: access to case {case_id} revoked")
