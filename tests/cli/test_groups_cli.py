"""``amparo groups`` and ``amparo users grant|revoke``: output, exit codes, effect."""

from __future__ import annotations

import json
from pathlib import Path

from amparo.registry import Registry
from tests.cli.test_users_cli import cheap_hashers, error, ok, run

__all__ = ["cheap_hashers"]  # the autouse fixture, imported so it applies here too


def test_groups_members_and_grants(vault_dir: Path, registry: Registry) -> None:
    ok(vault_dir, "users", "add", "ana", "--role", "documenter")
    ok(vault_dir, "users", "add", "bea", "--role", "viewer")
    ana = registry.accounts.get_by_username("ana")
    bea = registry.accounts.get_by_username("bea")
    case = registry.cases.create()

    out = ok(vault_dir, "groups", "add", "Team Cauca").stdout
    group_id, name = out.split(maxsplit=1)
    assert name.strip() == "team cauca" and len(group_id) == 32
    ok(vault_dir, "groups", "add", "abogadas")
    assert "bea added to team cauca" in ok(vault_dir, "groups", "add-member", "TEAM CAUCA",
                                           "Bea").stdout  # fmt: skip
    ok(vault_dir, "groups", "add-member", "team cauca", "ana")
    listed = json.loads(ok(vault_dir, "groups", "list", "--format", "json").stdout)
    assert [(g["name"], g["members"]) for g in listed] == [
        ("abogadas", []), ("team cauca", ["ana", "bea"]),
    ]  # fmt: skip
    table = ok(vault_dir, "groups", "list").stdout
    assert "team cauca" in table and "ana,bea" in table and "(2 rows)" in table
    assert ok(vault_dir, "groups", "list", "--format", "csv").stdout.startswith(
        "id,name,members,created_at\n"
    )

    assert "write access" in ok(vault_dir, "users", "grant", "ana", case, "--level",
                                "write").stdout  # fmt: skip
    ok(vault_dir, "groups", "grant", "team cauca", case)  # read by default
    assert registry.grants.grants_for_user(ana.id) == {case: "write"}
    assert registry.grants.grants_for_user(bea.id) == {case: "read"}
    assert "revoked" in ok(vault_dir, "users", "revoke", "ana", case).stdout
    assert registry.grants.grants_for_user(ana.id) == {case: "read"}  # still through the group
    assert "removed" in ok(vault_dir, "groups", "remove-member", "team cauca", "ana").stdout
    assert registry.grants.grants_for_user(ana.id) == {}
    ok(vault_dir, "groups", "revoke", "team cauca", case)
    assert registry.grants.grants_for_user(bea.id) == {}
    ok(vault_dir, "groups", "grant", "team cauca", case, "--level", "write")
    assert "deleted" in ok(vault_dir, "groups", "delete", "team cauca").stdout
    assert registry.grants.grants_for_case(case) == []
    assert [g.name for g in registry.grants.list_groups()] == ["abogadas"]


def test_groups_and_grant_errors(vault_dir: Path, registry: Registry) -> None:
    ok(vault_dir, "users", "add", "ana", "--role", "documenter")
    case = registry.cases.create()
    ok(vault_dir, "groups", "add", "team")
    before = len(registry.audit.entries())
    error(run(vault_dir, "groups", "add", "TEAM"), 8)
    error(run(vault_dir, "groups", "add", "x"), 3)
    error(run(vault_dir, "groups", "delete", "nobody"), 4)
    error(run(vault_dir, "groups", "add-member", "nobody", "ana"), 4)
    error(run(vault_dir, "groups", "add-member", "team", "nobody"), 4)
    error(run(vault_dir, "groups", "remove-member", "team", "ana"), 4)
    error(run(vault_dir, "users", "grant", "nobody", case), 4)
    assert "no case" in error(run(vault_dir, "users", "grant", "ana", "0" * 32), 4)
    error(run(vault_dir, "users", "revoke", "ana", case), 4)
    error(run(vault_dir, "groups", "grant", "nobody", case), 4)
    error(run(vault_dir, "groups", "revoke", "team", case), 4)
    assert run(vault_dir, "users", "grant", "ana", case, "--level", "admin").exit_code == 2
    ok(vault_dir, "groups", "add-member", "team", "ana")
    error(run(vault_dir, "groups", "add-member", "team", "ana"), 8)
    # Only the one successful change was audited.
    assert [e.action for e in registry.audit.entries()[before:]] == ["group.add_member"]
