"""Partner CSV exports: pseudonyms stable within an export, unlinkable across, coarse detail."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.errors import Forbidden, ValidationError
from amparo.registry import Registry
from amparo.security.permissions import Actor
from amparo.services.partner_export import PartnerOptions, PartnerStats, partner_csv
from amparo.store import schema
from tests import factories
from tests.conftest import CHEAP_KDF


def rows(registry: Registry, options: PartnerOptions) -> list[dict[str, str]]:
    text = "".join(partner_csv(registry, options))
    return list(csv.DictReader(io.StringIO(text)))


SHARING = [{"purpose": "sharing_with_partners", "granted": True, "recorded_on": "2024-03-01"}]


@pytest.fixture
def two_victims(registry: Registry) -> dict[str, Any]:
    berta = registry.defenders.add(factories.defender(consents=SHARING))
    other = registry.defenders.add(factories.defender(display_name="Zqx Other", consents=SHARING))
    ids = []
    for n, victim in enumerate((berta.id, berta.id, other.id)):
        ids.append(registry.incidents.add(factories.incident(
            title=f"=HYPERLINK(\"http://x\") {n}", date_start=f"2024-0{n + 1}-1{n}",
            acts=[{"act_type": "A09", "victim_defender_id": victim}],
        )).id)  # fmt: skip
    return {"berta": berta.id, "other": other.id, "incidents": ids}


CHEAP = PartnerOptions(kdf=CHEAP_KDF)


def test_same_person_same_pseudonym_within_an_export_not_across(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    first = rows(registry, CHEAP)
    victims = [r["victim_defender_id"] for r in first]
    assert len(set(victims)) == 2 and all(v.startswith("P-") for v in victims)
    by_date = sorted(first, key=lambda r: r["date_start"])
    assert by_date[0]["victim_defender_id"] == by_date[1]["victim_defender_id"]
    text = "".join(partner_csv(registry, CHEAP))
    for secret in (two_victims["berta"], two_victims["other"], *two_victims["incidents"]):
        assert secret not in text
    second = rows(registry, CHEAP)
    assert not {r["victim_defender_id"] for r in first} & {r["victim_defender_id"] for r in second}


def test_the_same_pseudonym_passphrase_links_two_exports(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    linked = PartnerOptions(salt_passphrase="shared with partner", kdf=CHEAP_KDF)
    a, b = rows(registry, linked), rows(registry, linked)
    assert [r["victim_defender_id"] for r in a] == [r["victim_defender_id"] for r in b]
    assert [r["incident"] for r in a] == [r["incident"] for r in b]
    other = PartnerOptions(salt_passphrase="another passphrase", kdf=CHEAP_KDF)
    assert {r["incident"] for r in rows(registry, other)}.isdisjoint({r["incident"] for r in a})


def test_free_text_dates_and_places_are_coarsened(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    out = rows(registry, CHEAP)
    assert {r["title"] for r in out} == {""} and {r["narrative"] for r in out} == {""}
    assert sorted(r["date_start"] for r in out) == ["2024-01", "2024-02", "2024-03"]
    assert {r["date_precision"] for r in out} == {"unknown_day"}
    assert {r["place"] for r in out} == {""} and {r["region"] for r in out} == {"Intibucá"}
    by_year = rows(registry, PartnerOptions(dates="year", places="country", kdf=CHEAP_KDF))
    assert {r["date_start"] for r in by_year} == {"2024"}
    assert {r["region"] for r in by_year} == {""}
    assert {r["date_precision"] for r in by_year} == {"unknown_month"}


def test_places_pseudonymised_and_text_kept_is_formula_safe(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    options = PartnerOptions(pseudonymise=frozenset({"places"}), places="exact",
                             free_text="keep", dates="exact", kdf=CHEAP_KDF)  # fmt: skip
    out = rows(registry, options)
    assert len({r["place"] for r in out}) == 1 and out[0]["place"].startswith("L-")
    assert all(r["title"].startswith("'=HYPERLINK") for r in out)
    assert {r["incident"] for r in out} == set(two_victims["incidents"])
    assert sorted(r["date_start"] for r in out) == ["2024-01-10", "2024-02-11", "2024-03-12"]


def test_options_are_checked_and_the_export_audited_once(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="names"):
        rows(registry, PartnerOptions(pseudonymise=frozenset({"names"})))
    rows(registry, CHEAP)
    with registry.store.read() as conn:
        entries = conn.execute(sa.select(schema.audit_log.c.action, schema.audit_log.c.detail)
                               .order_by(schema.audit_log.c.seq.desc()).limit(2)).all()  # fmt: skip
    assert entries[0].action == "records.export_partner"
    assert "count=3" in entries[0].detail or '"count": 3' in entries[0].detail
    assert entries[1].action != "records.export_partner"


def test_only_cases_one_may_export_leave(registry: Registry, two_victims: dict[str, Any]) -> None:
    analyst = registry.acting_as(Actor(user_id="u1", role="analyst"), "analyst")
    assert rows(analyst, CHEAP) == []  # need-to-know: an analyst sees no case's records
    case_id = registry.incidents.get(two_victims["incidents"][0]).case_id
    assert case_id
    member = registry.acting_as(
        Actor(user_id="u2", role="documenter", grants={case_id: "write"}, mfa_complete=True), "doc"
    )
    with pytest.raises(Forbidden):
        rows(member, CHEAP)  # a documenter may read the case but not export it


def test_incidents_without_consent_to_sharing_are_withheld(
    registry: Registry, two_victims: dict[str, Any]
) -> None:
    refused = [
        {"purpose": "sharing_with_partners", "granted": True, "recorded_on": "2023-01-01"},
        {"purpose": "sharing_with_partners", "granted": False, "recorded_on": "2024-06-01"},
    ]
    expired = [{"purpose": "sharing_with_partners", "granted": True, "recorded_on": "2023-01-01",
                "expires_on": "2025-01-01"}]  # fmt: skip
    for consents in (refused, expired, factories.defender()["consents"]):
        victim = registry.defenders.add(factories.defender(display_name="Zqx", consents=consents))
        registry.incidents.add(factories.incident(
            acts=[{"act_type": "A09", "victim_defender_id": victim.id}]))  # fmt: skip
    registry.incidents.add(factories.incident())  # no defender linked: nobody to ask
    stats = PartnerStats()
    text = "".join(partner_csv(registry, CHEAP, stats=stats))
    assert (stats.written, stats.withheld) == (4, 3)
    assert len(list(csv.DictReader(io.StringIO(text)))) == 4
    everyone = PartnerStats()
    "".join(partner_csv(registry, PartnerOptions(ignore_consent=True, kdf=CHEAP_KDF),
                        stats=everyone))  # fmt: skip
    assert (everyone.written, everyone.withheld) == (7, 0)
