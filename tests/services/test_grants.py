"""Groups and per-case grants: membership, upsert, revoke, write beats read, permissions, and
exactly one audit entry per change, naming ids and levels only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type

from amparo.errors import Conflict, Forbidden, NotFound, ValidationError
from amparo.registry import Registry
from amparo.security import passwords
from amparo.security.permissions import Actor, Resource
from amparo.services.accounts import User
from amparo.services.principals import actor_for_user

PASSWORD = "a perfectly good passphrase"


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    )
    yield


def add(registry: Registry, name: str, role: str = "documenter") -> User:
    return registry.accounts.add_user(name, PASSWORD, role)


def actions(registry: Registry) -> list[str]:
    return [e.action for e in registry.audit.entries()]


def test_groups_create_list_members_delete(registry: Registry) -> None:
    ana, bea = add(registry, "ana"), add(registry, "bea")
    team = registry.grants.create_group("  Team   Cauca ")
    assert team.name == "team cauca" and team.members == ()
    other = registry.grants.create_group("Abogadas")
    registry.grants.add_member(team.id, bea.id)
    registry.grants.add_member(team.id, ana.id)
    assert [m.username for m in registry.grants.members(team.id)] == ["ana", "bea"]
    assert [(g.name, len(g.members)) for g in registry.grants.list_groups()] == [
        ("abogadas", 0), ("team cauca", 2),
    ]  # fmt: skip
    assert registry.grants.get_group_by_name("TEAM CAUCA").id == team.id
    assert registry.grants.list_groups()[1].to_dict()["members"] == ["ana", "bea"]
    registry.grants.remove_member(team.id, ana.id)
    assert [m.user_id for m in registry.grants.members(team.id)] == [bea.id]
    case = registry.cases.create()
    registry.grants.grant(case, "group", team.id, "write")
    registry.grants.delete_group(team.id)
    assert [g.id for g in registry.grants.list_groups()] == [other.id]
    assert registry.grants.grants_for_case(case) == []
    assert registry.grants.grants_for_user(bea.id) == {}
    with pytest.raises(NotFound, match=f"no group {team.id}"):
        registry.grants.members(team.id)
    delete = registry.audit.entries(action="group.delete")[0]
    assert (delete.object_type, delete.object_id, delete.detail) == (
        "group", team.id, "members=1 grants=1",
    )  # fmt: skip
    assert actions(registry)[2:] == [
        "group.create", "group.create", "group.add_member", "group.add_member",
        "group.remove_member", "grant.add", "group.delete",
    ]  # fmt: skip


def test_group_validation(registry: Registry) -> None:
    ana = add(registry, "ana")
    team = registry.grants.create_group("team")
    before = len(registry.audit.entries())
    with pytest.raises(Conflict, match="already exists"):
        registry.grants.create_group("TEAM")
    for bad in ("x", "", " ", "a/b", "a\x1bb", "x" * 81, "-team"):
        with pytest.raises(ValidationError) as caught:
            registry.grants.create_group(bad)
        assert caught.value.field == "name"
    with pytest.raises(NotFound, match="no group named 'nobody'"):
        registry.grants.get_group_by_name("Nobody")
    with pytest.raises(NotFound, match=r"no user 0{32}"):
        registry.grants.add_member(team.id, "0" * 32)
    with pytest.raises(NotFound, match=r"no group 0{32}"):
        registry.grants.add_member("0" * 32, ana.id)
    with pytest.raises(NotFound, match="not a member"):
        registry.grants.remove_member(team.id, ana.id)
    registry.grants.add_member(team.id, ana.id)
    with pytest.raises(Conflict, match="already a member"):
        registry.grants.add_member(team.id, ana.id)
    with pytest.raises(NotFound):
        registry.grants.delete_group("0" * 32)
    # Failures leave no entry; the one add_member does.
    assert len(registry.audit.entries()) == before + 1


def test_grants_direct_and_through_groups(registry: Registry) -> None:
    ana, bea = add(registry, "ana"), add(registry, "bea", "coordinator")
    c1, c2, c3 = registry.cases.create(), registry.cases.create(), registry.cases.create()
    team = registry.grants.create_group("team")
    registry.grants.add_member(team.id, ana.id)
    registry.grants.grant(c1, "user", ana.id, "read")
    registry.grants.grant(c1, "group", team.id, "write")  # write beats read
    registry.grants.grant(c2, "group", team.id, "read")
    registry.grants.grant(c3, "user", bea.id, "write")
    assert registry.grants.grants_for_user(ana.id) == {c1: "write", c2: "read"}
    assert registry.grants.grants_for_user(bea.id) == {c3: "write"}
    grants = registry.grants.grants_for_case(c1)
    assert [(g.principal_type, g.principal_name, g.level) for g in grants] == [
        ("user", "ana", "read"), ("group", "team", "write"),
    ]  # fmt: skip
    assert grants[0].granted_by == "tester" and grants[0].to_dict()["principal"] == "ana"
    # Write beats read whichever way round.
    registry.grants.grant(c1, "user", ana.id, "write")
    registry.grants.grant(c1, "group", team.id, "read")
    assert registry.grants.grants_for_user(ana.id)[c1] == "write"
    with registry.store.read() as conn:
        actor = actor_for_user(conn, ana.id, mfa_complete=True)
    assert registry.acting_as(actor, "ana").allowed("read_identity", Resource("incident", c2))
    assert not registry.acting_as(actor, "ana").allowed("write", Resource("incident", c2))
    assert not registry.acting_as(actor, "ana").allowed("read", Resource("incident", c3))


def test_grant_is_an_upsert_and_revoke_removes_it(registry: Registry) -> None:
    ana = add(registry, "ana")
    case = registry.cases.create()
    first = registry.grants.grant(case, "user", ana.id, "read")
    assert first.level == "read"
    registry.clock = type(registry.clock)(registry.clock.now() + timedelta(hours=1))
    second = registry.grants.grant(case, "user", ana.id, "write")
    assert second.level == "write" and second.granted_at > first.granted_at
    assert len(registry.grants.grants_for_case(case)) == 1
    registry.grants.revoke(case, "user", ana.id)
    assert registry.grants.grants_for_case(case) == []
    assert registry.grants.grants_for_user(ana.id) == {}
    added = registry.audit.entries(action="grant.add")
    assert [(e.object_type, e.object_id) for e in added] == [("case", case)] * 2
    assert [e.detail for e in added] == [
        f"principal_type=user principal={ana.id} level=read",
        f"principal_type=user principal={ana.id} level=write previous=read",
    ]
    (revoked,) = registry.audit.entries(action="grant.revoke")
    assert revoked.detail == f"principal_type=user principal={ana.id} level=write"
    with pytest.raises(NotFound, match="holds no grant"):
        registry.grants.revoke(case, "user", ana.id)


def test_grant_validation_names_what_is_wrong(registry: Registry) -> None:
    ana = add(registry, "ana")
    case = registry.cases.create()
    before = len(registry.audit.entries())
    with pytest.raises(ValidationError) as caught:
        registry.grants.grant(case, "user", ana.id, "admin")
    assert caught.value.field == "level"
    with pytest.raises(ValidationError) as caught:
        registry.grants.grant(case, "role", ana.id, "read")
    assert caught.value.field == "principal_type"
    with pytest.raises(NotFound, match=r"no case 0{32}"):
        registry.grants.grant("0" * 32, "user", ana.id, "read")
    with pytest.raises(NotFound, match=r"no user 0{32}"):
        registry.grants.grant(case, "user", "0" * 32, "read")
    with pytest.raises(NotFound, match=r"no group 0{32}"):
        registry.grants.grant(case, "group", "0" * 32, "read")
    with pytest.raises(NotFound, match="no case"):
        registry.grants.grants_for_case("0" * 32)
    with pytest.raises(NotFound, match="no user"):
        registry.grants.grants_for_user("0" * 32)
    assert len(registry.audit.entries()) == before


def test_non_admins_may_not_change_groups_or_grants(registry: Registry) -> None:
    ana = add(registry, "ana")
    case = registry.cases.create()
    team = registry.grants.create_group("team")
    now = registry.clock.now()
    documenter = registry.acting_as(
        Actor(user_id=ana.id, role="documenter", grants={case: "write"}, mfa_complete=True),
        f"user:{ana.id}",
    )
    before = len(registry.audit.entries())
    mutations: list[Callable[[Registry], object]] = [
        lambda r: r.grants.create_group("mine"),
        lambda r: r.grants.delete_group(team.id),
        lambda r: r.grants.add_member(team.id, ana.id),
        lambda r: r.grants.remove_member(team.id, ana.id),
        lambda r: r.grants.grant(case, "user", ana.id, "write"),
        lambda r: r.grants.revoke(case, "user", ana.id),
        lambda r: r.accounts.add_user("eve", PASSWORD, "admin"),
        lambda r: r.accounts.disable(ana.id),
        lambda r: r.accounts.enable(ana.id),
        lambda r: r.accounts.reset_mfa(ana.id),
        lambda r: r.accounts.create_token(ana.id, "mine", "read", 30),
    ]
    for mutate in mutations:
        with pytest.raises(Forbidden):
            mutate(documenter)
    # An admin must have re-authenticated recently.
    stale = Actor(user_id="a" * 32, role="admin", mfa_complete=True,
                  reauthenticated_at=now - timedelta(minutes=30))  # fmt: skip
    for mutate in mutations:
        with pytest.raises(Forbidden):
            mutate(registry.acting_as(stale, "user:admin"))
    assert len(registry.audit.entries()) == before
    # A coordinator who writes a case and re-authenticated manages its grants, not groups.
    coordinator = registry.acting_as(
        Actor(user_id=ana.id, role="coordinator", grants={case: "write"}, mfa_complete=True,
              reauthenticated_at=now),
        "user:coordinator",
    )  # fmt: skip
    coordinator.grants.grant(case, "group", team.id, "read")
    with pytest.raises(Forbidden):
        coordinator.grants.grant(registry.cases.create(), "group", team.id, "read")
    with pytest.raises(Forbidden):
        coordinator.grants.add_member(team.id, ana.id)
    fresh = Actor(user_id="a" * 32, role="admin", mfa_complete=True, reauthenticated_at=now)
    registry.acting_as(fresh, "user:admin").grants.add_member(team.id, ana.id)
    entries = registry.audit.entries()[before:]
    assert [(e.actor, e.action) for e in entries] == [
        ("user:coordinator", "grant.add"), ("user:admin", "group.add_member"),
    ]  # fmt: skip


def test_a_shredded_case_cannot_be_granted(registry: Registry) -> None:
    ana = add(registry, "ana")
    case = registry.cases.create()
    registry.cases.shred(case)
    with pytest.raises(Conflict, match="shredded"):
        registry.grants.grant(case, "user", ana.id, "read")
    assert registry.grants.grants_for_case(case) == []
