"""Blind-index queries: the capped count that picks a search plan, and both plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from amparo.registry import Registry
from amparo.services.incidents import IncidentFilter
from amparo.services.search_index import count_matches, matching_ids
from tests import factories

FIELDS = ("title", "narrative", "place", "people", "details")


def test_count_matches_counts_up_to_the_cap_and_leaves_the_planner_as_it_was(
    registry: Registry,
) -> None:
    for n in range(5):
        registry.incidents.add(factories.incident(title=f"Threat by letter {n}"))
    registry.incidents.add(factories.incident(title="Raid on the office"))
    with registry.store.read() as conn:
        dialect = conn.dialect.name
        letters = matching_ids(registry.keyring, dialect, "incident", FIELDS, "letter")
        raid = matching_ids(registry.keyring, dialect, "incident", FIELDS, "raid")
        assert letters is not None and raid is not None
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # an operator's choice
        assert count_matches(conn, letters, 100) == 5
        assert count_matches(conn, letters, 3) == 3
        assert count_matches(conn, raid, 100) == 1
        if dialect == "postgresql":
            setting = conn.exec_driver_sql("SHOW enable_seqscan").scalar_one()
            assert setting == "off"  # put back as it was, not to the default
            conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
            assert count_matches(conn, raid, 100) == 1
            assert conn.exec_driver_sql("SHOW enable_seqscan").scalar_one() == "on"


@pytest.mark.parametrize("sort", ["-date", "date", "-created", "country"])
def test_searches_answer_the_same_whichever_plan_the_match_count_picks(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """Many matches walk the sort order and probe each record; few fetch the matches by id.
    Both plans, with filters and keyset paging, must return the same records in order."""
    from amparo.services import incidents as incidents_module

    for n in range(12):
        registry.incidents.add(factories.incident(
            title=f"Threat by letter {n}" if n % 3 else f"Raid {n}",
            date_start=f"2024-0{1 + n % 9}-1{n % 10}",
            country=("HN", "GT", "CO")[n % 3],
        ))  # fmt: skip

    def pages(query: IncidentFilter) -> list[list[str]]:
        out, after = [], None
        while True:
            page = registry.incidents.list(replace(query, after=after, limit=3, sort=sort))
            if not page:
                return out
            out.append([s.id for s in page])
            after = (page[-1].sort_value, page[-1].id)

    queries = [IncidentFilter(text="letter"), IncidentFilter(text="letter", country="GT"),
               IncidentFilter(text="threat letter")]  # fmt: skip
    monkeypatch.setattr(incidents_module, "DATE_SCAN_ABOVE", 10_000)
    few = [pages(q) for q in queries]
    from amparo.services import visibility

    monkeypatch.setattr(visibility, "ARRAY_ABOVE", 2)  # the matches' ids as one parameter
    assert [pages(q) for q in queries] == few
    monkeypatch.setattr(incidents_module, "DATE_SCAN_ABOVE", 1)
    many = [pages(q) for q in queries]
    assert many == few
    assert sum(len(p) for p in few[0]) == 8
    assert sum(len(p) for p in few[1]) == 4
