"""Defender pages: list, profile with her incidents, merge."""

from __future__ import annotations

from fastapi.testclient import TestClient

from amparo.registry import Registry
from tests import factories
from tests.web.conftest import Browser


def granted_defender(registry: Registry, user_id: str, **overrides: object) -> str:
    defender = registry.defenders.add(factories.defender(**overrides))
    assert defender.id and defender.case_id
    registry.grants.grant(defender.case_id, "user", user_id, "write")
    return defender.id


def test_list_profile_and_timeline(client: TestClient, signed_in: Browser) -> None:
    user = signed_in.registry.accounts.get_by_username("ana")
    defender_id = granted_defender(signed_in.registry, user.id)
    signed_in.registry.incidents.add(factories.incident(
        acts=[{"act_type": "A09", "victim_defender_id": defender_id}]))  # fmt: skip
    listing = client.get("/defenders", params={"country": "HN"})
    assert "Berta Flores" in listing.text
    profile = client.get(f"/defenders/{defender_id}")
    assert "Berta Flores" in profile.text and "La Maestra" in profile.text
    assert "Death threat after community assembly" in profile.text


def test_merge_from_the_profile(client: TestClient, signed_in: Browser) -> None:
    user = signed_in.registry.accounts.get_by_username("ana")
    keep = granted_defender(signed_in.registry, user.id)
    duplicate = granted_defender(signed_in.registry, user.id, display_name="B. Flores")
    merged = client.post(f"/defenders/{keep}/merge", follow_redirects=False,
                         data={"csrf": signed_in.csrf, "duplicate_id": duplicate})  # fmt: skip
    assert merged.status_code == 303
    assert signed_in.registry.defenders.get(duplicate).merged_into == keep
    refused = client.post(f"/defenders/{keep}/merge",
                          data={"csrf": signed_in.csrf, "duplicate_id": keep})  # fmt: skip
    assert refused.status_code == 422 and "itself" in refused.text


def test_names_only_for_members(client: TestClient, registry: Registry) -> None:
    hidden = registry.defenders.add(factories.defender(display_name="Hidden Person"))
    assert client.get(f"/defenders/{hidden.id}").status_code == 404
    assert "Hidden Person" not in client.get("/defenders").text
