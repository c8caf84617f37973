"""Blind-index queries: the capped count that picks a search plan."""

from __future__ import annotations

from amparo.registry import Registry
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
