"""A state machine over grants and group membership: after every step, each user's effective
grants and what the policy lets it see equal a model computed here, and every successful
change left exactly one audit entry (a refused one none)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from amparo.errors import Conflict, NotFound
from amparo.registry import Registry
from amparo.security import passwords
from amparo.security.permissions import Resource, allowed
from amparo.services import principals
from amparo.store import schema

ROLES = ("viewer", "documenter", "coordinator", "admin")  # every role that may read identities
N_CASES, N_GROUPS = 3, 2
level = st.sampled_from(("read", "write"))
user_ix = st.integers(0, len(ROLES) - 1)
case_ix = st.integers(0, N_CASES - 1)
group_ix = st.integers(0, N_GROUPS - 1)


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    )
    yield


def _stronger(a: str | None, b: str) -> str:
    return "write" if "write" in (a, b) else "read"


class GrantsMachine(RuleBasedStateMachine):
    def __init__(self, registry: Registry, users: list[str], cases: list[str]) -> None:
        super().__init__()
        self.r, self.users, self.cases = registry, users, cases
        with registry.store.write() as conn:  # a clean slate for each example
            for table in (schema.case_grants, schema.group_members, schema.user_groups):
                conn.execute(sa.delete(table))
        self.groups = [registry.grants.create_group(f"g{i}").id for i in range(N_GROUPS)]
        self.direct: dict[tuple[str, str], str] = {}  # (user, case) -> level
        self.via_group: dict[tuple[str, str], str] = {}  # (group, case) -> level
        self.members: set[tuple[str, str]] = set()  # (group, user)
        self.entries = self._count()

    def _count(self) -> int:
        with self.r.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(schema.audit_log))
                       .scalar_one())  # fmt: skip

    def _expect_entry(self, done: bool) -> None:
        self.entries += 1 if done else 0

    def model(self, user: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for (u, case), lvl in self.direct.items():
            if u == user:
                out[case] = _stronger(out.get(case), lvl)
        for (group, case), lvl in self.via_group.items():
            if (group, user) in self.members:
                out[case] = _stronger(out.get(case), lvl)
        return out

    @rule(u=user_ix, c=case_ix, lvl=level)
    def grant_user(self, u: int, c: int, lvl: str) -> None:
        self.r.grants.grant(self.cases[c], "user", self.users[u], lvl)
        self.direct[(self.users[u], self.cases[c])] = lvl
        self._expect_entry(True)

    @rule(g=group_ix, c=case_ix, lvl=level)
    def grant_group(self, g: int, c: int, lvl: str) -> None:
        self.r.grants.grant(self.cases[c], "group", self.groups[g], lvl)
        self.via_group[(self.groups[g], self.cases[c])] = lvl
        self._expect_entry(True)

    @rule(u=user_ix, c=case_ix)
    def revoke_user(self, u: int, c: int) -> None:
        key = (self.users[u], self.cases[c])
        held = key in self.direct
        if held:
            self.r.grants.revoke(self.cases[c], "user", self.users[u])
            del self.direct[key]
        else:
            with pytest.raises(NotFound):
                self.r.grants.revoke(self.cases[c], "user", self.users[u])
        self._expect_entry(held)

    @rule(g=group_ix, c=case_ix)
    def revoke_group(self, g: int, c: int) -> None:
        key = (self.groups[g], self.cases[c])
        held = key in self.via_group
        if held:
            self.r.grants.revoke(self.cases[c], "group", self.groups[g])
            del self.via_group[key]
        else:
            with pytest.raises(NotFound):
                self.r.grants.revoke(self.cases[c], "group", self.groups[g])
        self._expect_entry(held)

    @rule(g=group_ix, u=user_ix)
    def add_member(self, g: int, u: int) -> None:
        key = (self.groups[g], self.users[u])
        fresh = key not in self.members
        if fresh:
            self.r.grants.add_member(*key)
            self.members.add(key)
        else:
            with pytest.raises(Conflict):
                self.r.grants.add_member(*key)
        self._expect_entry(fresh)

    @rule(g=group_ix, u=user_ix)
    def remove_member(self, g: int, u: int) -> None:
        key = (self.groups[g], self.users[u])
        held = key in self.members
        if held:
            self.r.grants.remove_member(*key)
            self.members.discard(key)
        else:
            with pytest.raises(NotFound):
                self.r.grants.remove_member(*key)
        self._expect_entry(held)

    @invariant()
    def grants_and_policy_match_the_model(self) -> None:
        now = self.r.clock.now()
        with self.r.store.read() as conn:
            for user, role in zip(self.users, ROLES, strict=True):
                expected = self.model(user)
                assert principals.grants_for_user(conn, user) == expected
                actor = principals.actor_for_user(conn, user, mfa_complete=True)
                for case in self.cases:
                    incident = Resource("incident", case)
                    assert allowed(actor, "read_identity", incident, now) == (case in expected)
                    may_write = role != "viewer" and expected.get(case) == "write"
                    assert allowed(actor, "write", incident, now) == may_write
        assert self._count() == self.entries


def test_grants_state_machine(registry: Registry) -> None:
    users = [
        registry.accounts.add_user(f"user{i}", "a perfectly good passphrase", role).id
        for i, role in enumerate(ROLES)
    ]
    cases = [registry.cases.create() for _ in range(N_CASES)]

    class Machine(GrantsMachine):
        def __init__(self) -> None:
            super().__init__(registry, users, cases)

    run_state_machine_as_test(
        Machine,
        settings=settings(max_examples=30, stateful_step_count=15, deadline=None, database=None),
    )
