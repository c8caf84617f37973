"""The grants cache: kept while the access epoch stands still, reloaded at the next request
after any change to a grant or a group membership, whichever path made the change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type

from amparo.registry import Registry
from amparo.security import passwords
from amparo.security.permissions import Actor, Grants, cases_allowed
from amparo.services.principals import GrantsCache, access_epoch, actor_for_user
from amparo.store import schema
from tests.conftest import NOW


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    )
    yield


def _grants(registry: Registry, cache: GrantsCache, user_id: str) -> dict[str, str]:
    with registry.store.read() as conn:
        return dict(actor_for_user(conn, user_id, mfa_complete=True, cache=cache).grants)


def test_every_change_to_grants_or_membership_is_seen_at_once(registry: Registry) -> None:
    ana = registry.accounts.add_user("ana", "a perfectly good passphrase", "documenter")
    cache = GrantsCache()
    one, two = registry.cases.create(), registry.cases.create()
    assert _grants(registry, cache, ana.id) == {}
    registry.grants.grant(one, "user", ana.id, "read")
    assert _grants(registry, cache, ana.id) == {one: "read"}
    registry.grants.grant(one, "user", ana.id, "write")  # an update
    assert _grants(registry, cache, ana.id) == {one: "write"}
    team = registry.grants.create_group("team")
    registry.grants.grant(two, "group", team.id, "read")
    assert _grants(registry, cache, ana.id) == {one: "write"}
    registry.grants.add_member(team.id, ana.id)
    assert _grants(registry, cache, ana.id) == {one: "write", two: "read"}
    registry.grants.remove_member(team.id, ana.id)
    assert _grants(registry, cache, ana.id) == {one: "write"}
    registry.grants.revoke(one, "user", ana.id)
    assert _grants(registry, cache, ana.id) == {}
    registry.grants.add_member(team.id, ana.id)
    registry.grants.delete_group(team.id)  # membership goes with the group
    assert _grants(registry, cache, ana.id) == {}


def test_a_change_written_behind_the_services_back_is_seen_too(registry: Registry) -> None:
    """Triggers bump the epoch, not service code: raw SQL cannot leave a stale grant."""
    ana = registry.accounts.add_user("ana", "a perfectly good passphrase", "documenter")
    case = registry.cases.create()
    registry.grants.grant(case, "user", ana.id, "read")
    cache = GrantsCache()
    assert _grants(registry, cache, ana.id) == {case: "read"}
    with registry.store.write() as conn:
        before = access_epoch(conn)
        conn.execute(sa.delete(schema.case_grants))
        assert access_epoch(conn) > before
    assert _grants(registry, cache, ana.id) == {}


def test_unchanged_grants_are_not_read_again(registry: Registry) -> None:
    ana = registry.accounts.add_user("ana", "a perfectly good passphrase", "documenter")
    case = registry.cases.create()
    registry.grants.grant(case, "user", ana.id, "read")
    cache = GrantsCache()
    with registry.store.read() as conn:
        first = cache.get(conn, ana.id)
        assert cache.get(conn, ana.id) is first


def test_the_cache_is_bounded(registry: Registry) -> None:
    users = [registry.accounts.add_user(f"user{i}", "a perfectly good passphrase", "documenter")
             for i in range(4)]  # fmt: skip
    cache = GrantsCache(size=2)
    for user in users:
        _grants(registry, cache, user.id)
    assert len(cache._entries) == 2


def test_grants_mapping_and_cases_allowed_agree_with_plain_grants() -> None:
    plain = {f"case{i:02d}": ("write" if i % 3 == 0 else "read") for i in range(30)}
    grants = Grants(plain)
    assert dict(grants) == plain and len(grants) == 30 and grants["case03"] == "write"
    assert grants.by_level["write"] == sorted(c for c, v in plain.items() if v == "write")
    for action in ("read_identity", "write", "shred"):
        cached = Actor("u", "documenter", grants, mfa_complete=True)
        raw = Actor("u", "documenter", plain, mfa_complete=True)
        assert cases_allowed(cached, action, NOW) == cases_allowed(raw, action, NOW)
