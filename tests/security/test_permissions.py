"""The policy table, checked exhaustively: role x membership x action x resource x reauth."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from amparo.security.permissions import (
    ACTIONS,
    POLICY,
    REAUTH_WINDOW,
    RESOURCES,
    ROLES,
    USER_ROLES,
    Actor,
    Resource,
    allowed,
    cases_allowed,
    render_markdown,
)

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CASE = "c" * 32
OTHER = "d" * 32
IDENTITY_ACTIONS = {"read_identity", "export"}
MEMBERSHIPS = (None, "read", "write")
KINDS = ("case", "incident", "defender", "file", "registry", "users", "audit", "vault")


def actor(role: str, grant: str | None, fresh: bool, mfa: bool = True) -> Actor:
    return Actor(
        user_id="u",
        role=role,
        grants={CASE: grant} if grant else {},
        reauthenticated_at=NOW - timedelta(minutes=1) if fresh else None,
        mfa_complete=mfa,
    )


def expected(role: str, grant: str | None, fresh: bool, action: str, kind: str) -> bool:
    """An independent reading of the table: the matrix the tests hold the code to."""
    scope = "case" if kind in ("case", "incident", "defender", "file") else kind
    for rule in POLICY:
        if (rule.role, rule.action, rule.resource) != (role, action, scope):
            continue
        needs = set(rule.condition.split("+")) - {"any"}
        if "member" in needs and grant is None:
            continue
        if "writer" in needs and grant != "write":
            continue
        if "reauth" in needs and not fresh:
            continue
        return True
    return False


def test_policy_names_only_known_roles_actions_resources() -> None:
    for rule in POLICY:
        assert rule.role in ROLES and rule.action in ACTIONS and rule.resource in RESOURCES
        assert set(rule.condition.split("+")) <= {"any", "member", "writer", "reauth"}


def test_full_matrix_has_no_violation() -> None:
    violations = []
    for role, grant, fresh, action, kind in itertools.product(
        ROLES, MEMBERSHIPS, (False, True), ACTIONS, KINDS
    ):
        got = allowed(actor(role, grant, fresh), action, Resource(kind, CASE), NOW)
        if got != expected(role, grant, fresh, action, kind):
            violations.append((role, grant, fresh, action, kind, got))
    assert violations == []


def test_identities_need_case_membership_whatever_the_role() -> None:
    # Every account role; the CLI operator holds the master key and is outside need-to-know.
    for role, fresh, kind in itertools.product(USER_ROLES, (False, True), KINDS):
        for action in IDENTITY_ACTIONS:
            assert not allowed(actor(role, None, fresh), action, Resource(kind, CASE), NOW)


def test_analysts_never_see_identities() -> None:
    for grant, fresh, action, kind in itertools.product(MEMBERSHIPS, (False, True), ACTIONS,
                                                        KINDS):  # fmt: skip
        if action in ("read", "read_identity", "write", "export", "delete"):
            assert not allowed(actor("analyst", grant, fresh), action, Resource(kind, CASE), NOW)


def test_a_grant_on_one_case_opens_no_other() -> None:
    # Only an admin's housekeeping (grants, shredding) works without membership; it reveals
    # nothing of the case's content.
    for role, action in itertools.product(USER_ROLES, ACTIONS):
        if allowed(actor(role, "write", True), action, Resource("incident", OTHER), NOW):
            assert (role, action) in {("admin", "manage_grants"), ("admin", "shred")}


def test_nothing_before_the_second_factor() -> None:
    for role, action, kind in itertools.product(ROLES, ACTIONS, KINDS):
        assert not allowed(actor(role, "write", True, mfa=False), action, Resource(kind, CASE), NOW)
    assert not allowed(None, "read", Resource("registry"), NOW)


def test_reauthentication_expires() -> None:
    stale = Actor("u", "admin", {}, NOW - REAUTH_WINDOW - timedelta(seconds=1), True)
    fresh = Actor("u", "admin", {}, NOW - REAUTH_WINDOW + timedelta(seconds=1), True)
    future = Actor("u", "admin", {}, NOW + timedelta(minutes=1), True)
    assert allowed(fresh, "manage_users", Resource("users"), NOW)
    assert not allowed(stale, "manage_users", Resource("users"), NOW)
    assert not allowed(future, "manage_users", Resource("users"), NOW)


def test_case_scoped_action_without_a_case_is_denied() -> None:
    assert not allowed(actor("admin", "write", True), "read_identity", Resource("incident"), NOW)


@given(
    role=st.sampled_from([*sorted(ROLES), "intruder", ""]),
    action=st.sampled_from([*sorted(ACTIONS), "drop_database"]),
    kind=st.sampled_from([*KINDS, "unknown"]),
    grant=st.sampled_from(MEMBERSHIPS),
)
def test_unknown_names_are_denied(role: str, action: str, kind: str, grant: str | None) -> None:
    result = allowed(actor(role, grant, True), action, Resource(kind, CASE), NOW)
    if role not in ROLES or action not in ACTIONS or kind == "unknown":
        assert result is False


def test_permissions_page_is_current() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert page.read_text("utf-8") == render_markdown(), "run 'make docs'"


def test_operator_is_not_an_account_role() -> None:
    assert "operator" in ROLES and "operator" not in USER_ROLES


def test_cases_allowed_agrees_with_allowed_case_by_case() -> None:
    grants = {f"{i:032x}": ("read", "write")[i % 2] for i in range(40)}
    for role, fresh, mfa, action in itertools.product(ROLES, (False, True), (False, True), ACTIONS):
        someone = Actor(
            user_id="u", role=role, grants=grants, mfa_complete=mfa,
            reauthenticated_at=NOW - timedelta(minutes=1) if fresh else None,
        )  # fmt: skip
        one_by_one = sorted(c for c in grants if allowed(someone, action, Resource("case", c), NOW))
        assert cases_allowed(someone, action, NOW) == one_by_one, (role, fresh, mfa, action)
    assert cases_allowed(None, "read_identity", NOW) == []


def test_triage_needs_a_write_grant_on_the_defenders_case() -> None:
    # A trusted colleague (any working role with a write grant) triages on her behalf;
    # readers of the case see batches (read_identity) but do not act; analysts never do.
    for role, grant, fresh, kind in itertools.product(
        USER_ROLES, MEMBERSHIPS, (False, True), ("case", "defender")
    ):
        got = allowed(actor(role, grant, fresh), "triage", Resource(kind, CASE), NOW)
        assert got == (grant == "write" and role in ("admin", "coordinator", "documenter"))
    assert not allowed(actor("documenter", "write", True), "triage", Resource("defender", OTHER),
                       NOW)  # fmt: skip
