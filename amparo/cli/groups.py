"""``amparo groups``: groups of accounts and the cases they may work on."""

from __future__ import annotations

from pathlib import Path

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import FORMATS, render
from amparo.services.grants import LEVELS

__all__ = ["groups"]

LIST_COLUMNS = ("id", "name", "members", "created_at")


@click.group()
def groups() -> None:
    """Groups of accounts: grant a team access to a case at once."""


@groups.command("add")
@vault_option
@click.argument("name")
@handle_errors
def add(vault: Path, name: str) -> None:
    """Create a group (names are case-insensitive)."""
    with open_registry(vault) as registry:
        group = registry.grants.create_group(name)
    click.echo(f"{group.id} {group.name}")


@groups.command("list")
@vault_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@handle_errors
def list_(vault: Path, fmt: str) -> None:
    """List groups and their members' usernames."""
    with open_registry(vault) as registry:
        rows = [g.to_dict() for g in registry.grants.list_groups()]
    click.echo(render(rows, fmt, LIST_COLUMNS), nl=False)


@groups.command("delete")
@vault_option
@click.argument("name")
@handle_errors
def delete(vault: Path, name: str) -> None:
    """Delete a group and its grants; its members keep their own grants."""
    with open_registry(vault) as registry:
        group = registry.grants.get_group_by_name(name)
        registry.grants.delete_group(group.id)
    click.echo(f"group {group.name} deleted")


@groups.command("add-member")
@vault_option
@click.argument("name")
@click.argument("username")
@handle_errors
def add_member(vault: Path, name: str, username: str) -> None:
    """Add a user to a group: it gains the group's access to cases."""
    with open_registry(vault) as registry:
        group = registry.grants.get_group_by_name(name)
        user = registry.accounts.get_by_username(username)
        registry.grants.add_member(group.id, user.id)
    click.echo(f"{user.username} added to {group.name}")


@groups.command("remove-member")
@vault_option
@click.argument("name")
@click.argument("username")
@handle_errors
def remove_member(vault: Path, name: str, username: str) -> None:
    """Remove a user from a group: it loses the access it had through the group."""
    with open_registry(vault) as registry:
        group = registry.grants.get_group_by_name(name)
        user = registry.accounts.get_by_username(username)
        registry.grants.remove_member(group.id, user.id)
    click.echo(f"{user.username} removed from {group.name}")


@groups.command("grant")
@vault_option
@click.argument("name")
@click.argument("case_id")
@click.option("--level", type=click.Choice(LEVELS), default="read", show_default=True,
              help="read: see the case's records; write: also change them.")  # fmt: skip
@handle_errors
def grant(vault: Path, name: str, case_id: str, level: str) -> None:
    """Give every member of a group read or write access to a case."""
    with open_registry(vault) as registry:
        group = registry.grants.get_group_by_name(name)
        registry.grants.grant(case_id, "group", group.id, level)
    click.echo(f"group {group.name}: {level} access to case {case_id}")


@groups.command("revoke")
@vault_option
@click.argument("name")
@click.argument("case_id")
@handle_errors
def revoke(vault: Path, name: str, case_id: str) -> None:
    """Take a group's grant on a case away."""
    with open_registry(vault) as registry:
        group = registry.grants.get_group_by_name(name)
        registry.grants.revoke(case_id, "group", group.id)
    click.echo(f"group {group.name}: access to case {case_id} revoked")
