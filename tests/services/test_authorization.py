"""Need-to-know through the services: role x case membership x operation, from the policy.

Every operation is tried as every account role with no grant, a read grant and a write grant
on the record's case. The expected outcome comes from ``allowed`` (the one policy function);
the test checks that the services obey it, including through lists and keyword search, and
that someone who may not see a record cannot even learn that it exists.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest

from amparo.errors import Forbidden, NotFound
from amparo.registry import Registry
from amparo.security.permissions import USER_ROLES, Actor, Resource, allowed
from amparo.services.incidents import IncidentFilter
from tests.factories import defender, incident

SECRET = "Zapotitlan"  # a word only in the guarded incident's narrative


@pytest.fixture
def world(registry: Registry) -> dict[str, str]:
    d = registry.defenders.add(defender(display_name="Guarded Person"))
    inc = registry.incidents.add(
        incident(narrative=f"Seen near {SECRET}.", acts=[{"act_type": "A09",
                                                          "victim_defender_id": d.id}])
    )  # fmt: skip
    other = registry.incidents.add(incident(title="Elsewhere"))
    stored = registry.files.put(d.case_id or "", "photo.jpg", b"evidence", incident_id=inc.id)
    assert inc.case_id == d.case_id and other.case_id != inc.case_id
    return {
        "case": inc.case_id or "", "incident": inc.id or "", "defender": d.id or "",
        "file": stored.id, "other_incident": other.id or "",
    }  # fmt: skip


def as_user(registry: Registry, role: str, grants: dict[str, str]) -> Registry:
    actor = Actor(
        user_id="u1", role=role, grants=grants,
        reauthenticated_at=registry.clock.now() - timedelta(minutes=1), mfa_complete=True,
    )  # fmt: skip
    return registry.acting_as(actor, f"user:{role}")


Operation = Callable[[Registry, dict[str, str]], object]

OPERATIONS: dict[str, tuple[str, str, Operation]] = {
    # name: (action checked, resource kind, call)
    "incident.get": ("read_identity", "incident", lambda r, w: r.incidents.get(w["incident"])),
    "incident.history": (
        "read_identity", "incident", lambda r, w: r.incidents.history(w["incident"])),
    "incident.amend": (
        "write", "incident", lambda r, w: r.incidents.amend(w["incident"], {"title": "New"})),
    "incident.delete": ("delete", "incident", lambda r, w: r.incidents.delete(w["incident"])),
    "defender.get": ("read_identity", "defender", lambda r, w: r.defenders.get(w["defender"])),
    "defender.amend": (
        "write", "defender", lambda r, w: r.defenders.amend(w["defender"], {"region": "X"})),
    "file.read": ("read_identity", "file", lambda r, w: r.files.read(w["file"])),
    "file.put": ("write", "file", lambda r, w: r.files.put(w["case"], "b.txt", b"b")),
    "case.shred": ("shred", "case", lambda r, w: r.cases.shred(w["case"])),
}  # fmt: skip

CASES = [
    (role, grant, name)
    for role, grant, name in itertools.product(USER_ROLES, (None, "read", "write"), OPERATIONS)
]


@pytest.mark.parametrize(("role", "grant", "name"), CASES)
def test_operation_obeys_the_policy(
    registry: Registry, world: dict[str, str], role: str, grant: str | None, name: str
) -> None:
    action, kind, call = OPERATIONS[name]
    view = as_user(registry, role, {world["case"]: grant} if grant else {})
    expected = allowed(view.principal, action, Resource(kind, world["case"]), view.clock.now())
    if expected:
        call(view, world)
        return
    with pytest.raises((NotFound, Forbidden)) as caught:
        call(view, world)
    may_see = allowed(view.principal, "read_identity", Resource(kind, world["case"]),
                      view.clock.now())  # fmt: skip
    if not may_see and name != "case.shred":
        # Not even the record's existence leaks to someone outside the case.
        assert caught.type is NotFound


@pytest.mark.parametrize(
    ("role", "grant"), list(itertools.product(USER_ROLES, (None, "read", "write")))
)
def test_lists_and_search_show_only_member_cases(
    registry: Registry, world: dict[str, str], role: str, grant: str | None
) -> None:
    view = as_user(registry, role, {world["case"]: grant} if grant else {})
    sees = allowed(view.principal, "read_identity", Resource("case", world["case"]),
                   view.clock.now())  # fmt: skip
    listed = {i.id for i in view.incidents.list(IncidentFilter())}
    found = {i.id for i in view.incidents.search(SECRET)}
    people = {d.id for d in view.defenders.list()}
    assert world["other_incident"] not in listed  # never granted: never listed
    assert (world["incident"] in listed) is sees
    assert (world["incident"] in found) is sees
    assert (world["defender"] in people) is sees


def test_no_second_factor_means_nothing(registry: Registry, world: dict[str, str]) -> None:
    actor = Actor("u1", "admin", {world["case"]: "write"}, None, mfa_complete=False)
    view = registry.acting_as(actor, "user:half-signed-in")
    assert view.incidents.list() == []
    with pytest.raises(NotFound):
        view.incidents.get(world["incident"])
    with pytest.raises(Forbidden):
        view.incidents.add(incident())


def test_a_new_case_belongs_to_its_creator(registry: Registry) -> None:
    view = as_user(registry, "documenter", {})
    created = view.incidents.add(incident(title="Opened by a documenter"))
    with registry.store.read() as conn:
        from amparo.services.principals import grants_for_user

        assert grants_for_user(conn, "u1") == {created.case_id: "write"}


def test_adding_to_a_case_needs_write(registry: Registry, world: dict[str, str]) -> None:
    reader = as_user(registry, "documenter", {world["case"]: "read"})
    with pytest.raises(Forbidden):
        reader.incidents.add(incident(), case_id=world["case"])
    writer = as_user(registry, "documenter", {world["case"]: "write"})
    assert writer.incidents.add(incident(), case_id=world["case"]).case_id == world["case"]


def test_analysts_get_pseudonymised_facets_only(registry: Registry, world: dict[str, str]) -> None:
    analyst = as_user(registry, "analyst", {})
    rows = analyst.incidents.pseudonymised()
    assert len(rows) == 2
    text = repr(rows)
    for secret in (SECRET, "Guarded Person", world["incident"], world["defender"], "Elsewhere"):
        assert secret not in text
    guarded = next(r for r in rows if r["acts"][0]["victim"])
    assert guarded["acts"][0]["victim"].startswith("P-")
    assert guarded["acts"][0]["victim_gender_identity"] == "woman"
    # Stable: the same person gets the same pseudonym every time.
    assert analyst.incidents.pseudonymised() == rows
    with pytest.raises(Forbidden):
        analyst.incidents.pseudonymised(IncidentFilter(text=SECRET))
    with pytest.raises(Forbidden):
        as_user(registry, "viewer", {world["case"]: "read"}).incidents.pseudonymised()
