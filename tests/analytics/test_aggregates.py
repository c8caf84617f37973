"""Golden tests on the demo data: every aggregate recomputed from the record tables in SQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from amparo.analytics.aggregates import (
    CROSSWALKS,
    DIMENSIONS,
    MULTI_VALUED,
    PHYSICAL_ACTS,
    THREAT_ACTS,
    aggregate,
    escalations,
    trend,
)
from amparo.clock import Clock
from amparo.demo import DemoSize, populate
from amparo.errors import Forbidden, ValidationError
from amparo.registry import Registry
from amparo.security.permissions import Actor
from amparo.services.incidents import IncidentFilter
from amparo.vault import init_vault
from tests.conftest import CHEAP_KDF, NOW, PASSPHRASE, PostgresDatabases

SIZE = DemoSize(defenders=60, incidents=320)
MULTI_COLUMN = {"sector": "d.sectors", "gender_feature": "a.gender_features"}
PLAIN = {
    "act_type": "a.act_type", "country": "i.country", "region": "i.region",
    "gender_identity": "d.gender_identity", "defender_kind": "d.kind",
    "modality": "a.modality", "gender_specific": "a.gender_specific",
    "target_relation": "a.target_relation",
}  # fmt: skip
FROM = (
    "FROM acts a JOIN incidents i ON i.id = a.incident_id "
    "LEFT JOIN defenders d ON d.id = a.victim_defender_id"
)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresDatabases | None
) -> Iterator[Registry]:
    url = postgres.new() if postgres else None
    vault = tmp_path_factory.mktemp("demo") / "vault"
    init_vault(vault, PASSPHRASE, database_url=url, kdf=CHEAP_KDF)
    registry = Registry.open(vault, PASSPHRASE, clock=Clock(NOW), actor="tester")
    populate(registry, size=SIZE)
    try:
        yield registry
    finally:
        registry.close()
        if postgres is not None and url:
            postgres.drop(url)


def sql(registry: Registry, text: str, **params: Any) -> list[Any]:
    with registry.store.read() as conn:
        return list(conn.execute(sa.text(text), params).all())


def period_expr(registry: Registry, period: str) -> str:
    if registry.store.dialect == "sqlite":
        return {"year": "substr(i.date_start, 1, 4)", "month": "substr(i.date_start, 1, 7)",
                "quarter": "substr(i.date_start, 1, 4) || '-Q' || "
                "((CAST(substr(i.date_start, 6, 2) AS INTEGER) + 2) / 3)"}[period]  # fmt: skip
    return {"year": "to_char(i.date_start, 'YYYY')", "month": "to_char(i.date_start, 'YYYY-MM')",
            "quarter": "to_char(i.date_start, 'YYYY') || '-Q' || "
            "to_char(i.date_start, 'Q')"}[period]  # fmt: skip


def expected_1d(registry: Registry, dim: str, where: str = "", **params: Any) -> Counter[Any]:
    """The count per value of ``dim``, from the record tables (not act_facts)."""
    out: Counter[Any] = Counter()
    if dim in PLAIN or dim in ("year", "quarter", "month"):
        expr = PLAIN.get(dim) or period_expr(registry, dim)
        for value, n in sql(registry, f"SELECT {expr}, COUNT(*) {FROM} {where} GROUP BY 1",
                            **params):  # fmt: skip
            out[value] = n
        return out
    vocab = {"sector": "sectors", "gender_feature": "gender_features",
             "perpetrator_type": "perpetrator_types"}[dim]  # fmt: skip
    for code in registry.vocab[vocab].codes:
        if dim == "perpetrator_type":
            cond = (
                "EXISTS (SELECT 1 FROM involvements v JOIN perpetrators p ON "
                "p.id = v.perpetrator_id WHERE v.act_id = a.id AND p.perpetrator_type = :c)"
            )
        else:
            cond = f"{MULTI_COLUMN[dim]} LIKE :c"
        glue = "AND" if where else "WHERE"
        c = code if dim == "perpetrator_type" else f"%,{code},%"
        (n,) = sql(registry, f"SELECT COUNT(*) {FROM} {where} {glue} {cond}", c=c, **params)[0]
        if n:
            out[code] = n
    if dim == "perpetrator_type":
        none = "NOT EXISTS (SELECT 1 FROM involvements v WHERE v.act_id = a.id)"
    else:
        none = f"COALESCE({MULTI_COLUMN[dim]}, '') = ''"
    glue = "AND" if where else "WHERE"
    (n,) = sql(registry, f"SELECT COUNT(*) {FROM} {where} {glue} {none}", **params)[0]
    if n:
        out[None] = n
    return out


@pytest.mark.parametrize("dim", list(DIMENSIONS))
def test_one_dimension_matches_plain_sql(demo: Registry, dim: str) -> None:
    table = aggregate(demo, [dim])
    assert dict(table.cells()) == {(v,): n for v, n in expected_1d(demo, dim).items()}
    (acts,) = sql(demo, "SELECT COUNT(*) FROM acts")[0]
    assert table.total == acts
    if dim not in MULTI_VALUED:
        assert sum(r[-1] for r in table.rows) == acts


@pytest.mark.parametrize("crosswalk", CROSSWALKS)
def test_crosswalks_fold_amparo_codes(demo: Registry, crosswalk: str) -> None:
    by_code = expected_1d(demo, "act_type")
    expected: Counter[Any] = Counter()
    for code, n in by_code.items():
        mapped = code if crosswalk == "amparo" else demo.vocab["act_types"].term(code).attributes[
            crosswalk
        ]  # fmt: skip
        expected[mapped or None] += n
    assert aggregate(demo, ["act_type"], crosswalk=crosswalk).cells() == {
        (v,): n for v, n in expected.items()
    }


@pytest.mark.parametrize(
    "dims",
    [("country", "act_type"), ("year", "gender_identity"), ("modality", "target_relation"),
     ("quarter", "country"), ("gender_identity", "gender_feature")],
)  # fmt: skip
def test_cross_tabulations_match_plain_sql(demo: Registry, dims: tuple[str, str]) -> None:
    table = aggregate(demo, list(dims))
    first, second = dims
    expected: dict[tuple[Any, ...], int] = {}
    for value, _ in expected_1d(demo, first).items():
        expr = PLAIN.get(first) or period_expr(demo, first)
        where = f"WHERE {expr} = :v" if value is not None else f"WHERE {expr} IS NULL"
        for other, n in expected_1d(demo, second, where, v=value).items():
            expected[(value, other)] = n
    assert table.cells() == expected


def test_counting_in_rowid_ranges_side_by_side_changes_no_count(
    demo: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amparo.analytics import aggregates

    queries = [(["act_type"], None), (["country", "act_type"], None),
               (["sector", "modality"], None), (["quarter"], IncidentFilter(year=2024)),
               (["gender_feature"], IncidentFilter(modality="online"))]  # fmt: skip
    whole = [aggregate(demo, by, q) for by, q in queries]
    pools: list[int] = []

    class Counted(ThreadPoolExecutor):
        def __init__(self, workers: int) -> None:
            pools.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(aggregates, "PARTITION_MIN_ROWS", 1)
    monkeypatch.setattr(aggregates, "ThreadPoolExecutor", Counted)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert [aggregate(demo, by, q) for by, q in queries] == whole
    if demo.store.dialect == "sqlite":
        assert pools == [3] * len(queries)  # each count was cut in three ranges
    else:
        assert pools == []  # PostgreSQL parallelises by itself


def test_filters_match_the_list_semantics(demo: Registry) -> None:
    (country,) = sql(demo, "SELECT country FROM incidents GROUP BY country "
                           "ORDER BY COUNT(*) DESC LIMIT 1")[0]  # fmt: skip
    q = IncidentFilter(country=country, year=2024, modality="online")
    table = aggregate(demo, ["act_type"], q)
    where = ("WHERE i.country = :c AND i.date_start BETWEEN :a AND :b "
             "AND a.modality = 'online'")  # fmt: skip
    expected = expected_1d(demo, "act_type", where, c=country, a="2024-01-01", b="2024-12-31")
    assert table.cells() == {(v,): n for v, n in expected.items()}
    assert table.filters == {"country": country, "year": 2024, "modality": "online"}
    women = aggregate(demo, ["country"], IncidentFilter(gender_identity="woman", sector="land"))
    expected = expected_1d(demo, "country", "WHERE d.gender_identity = 'woman' AND "
                                            "d.sectors LIKE '%,land,%'")  # fmt: skip
    assert women.cells() == {(v,): n for v, n in expected.items()}
    with pytest.raises(ValidationError):
        aggregate(demo, ["country"], IncidentFilter(text="amenaza"))
    with pytest.raises(ValidationError):
        aggregate(demo, ["nope"])


def test_trend_counts_and_changes(demo: Registry) -> None:
    result = trend(demo, "year")
    expected = expected_1d(demo, "year")
    years = [r.period for r in result.rows]
    assert years == [str(y) for y in range(int(min(expected)), int(max(expected)) + 1)]
    for prev, row in zip(result.rows, result.rows[1:], strict=False):
        assert row.count == expected.get(row.period, 0)
        assert row.change == row.count - prev.count
    by_type = trend(demo, "quarter", by=["modality"])
    assert {r.values for r in by_type.rows} == {(m,) for m in expected_1d(demo, "modality")}


def _expected_escalations(registry: Registry, first: str, second: str) -> tuple[int, list[int]]:
    rows = sql(
        registry,
        "SELECT a.victim_defender_id, COALESCE(a.act_date, i.date_start), a.act_type, "
        f"a.modality {FROM} WHERE a.victim_defender_id IS NOT NULL",
    )
    acts: dict[str, list[tuple[str, str, str]]] = {}
    for who, day, act_type, modality in rows:
        acts.setdefault(who, []).append((str(day)[:10], act_type, modality))

    def kind(name: str, act_type: str, modality: str) -> bool:
        return {
            "online": modality == "online", "offline": modality in ("in_person", "both"),
            "threat": act_type in THREAT_ACTS, "physical": act_type in PHYSICAL_ACTS,
        }[name]  # fmt: skip

    from datetime import date

    with_first, days = 0, []
    for items in acts.values():
        firsts = [d for d, t, m in items if kind(first, t, m)]
        if not firsts:
            continue
        with_first += 1
        start = min(firsts)
        later = [d for d, t, m in items if kind(second, t, m) and d > start]
        if later:
            days.append((date.fromisoformat(min(later)) - date.fromisoformat(start)).days)
    return with_first, sorted(days)


def test_escalations_match_a_recount(demo: Registry) -> None:
    result = {p.pattern: p for p in escalations(demo).patterns}
    for name, first, second in (("online_before_offline", "online", "offline"),
                                ("threat_before_physical", "threat", "physical")):  # fmt: skip
        with_first, days = _expected_escalations(demo, first, second)
        p = result[name]
        assert p.defenders_with_first == with_first
        assert p.escalated == len(days)
        assert sum(v or 0 for v in p.intervals.values()) == len(days)
        if days:
            import statistics

            assert p.median_days == statistics.median(days)


def as_user(registry: Registry, role: str, grants: dict[str, str]) -> Registry:
    return registry.acting_as(Actor("u1", role, grants, mfa_complete=True), f"user:{role}")


def test_counts_only_cases_the_principal_may_read(demo: Registry) -> None:
    cases = [c for (c,) in sql(demo, "SELECT case_id FROM incidents GROUP BY case_id "
                                     "ORDER BY case_id LIMIT 5")]  # fmt: skip
    documenter = as_user(demo, "documenter", {c: "read" for c in cases})
    table = aggregate(documenter, ["act_type"])
    marks = ",".join(f"'{c}'" for c in cases)
    expected = expected_1d(demo, "act_type", f"WHERE i.case_id IN ({marks})")
    assert table.scope == "cases" and not table.protected
    assert table.cells() == {(v,): n for v, n in expected.items()}
    assert aggregate(as_user(demo, "documenter", {}), ["act_type"]).rows == ()
    with pytest.raises(Forbidden):
        aggregate(as_user(demo, "viewer", {}), ["act_type"])


def test_analysts_see_the_registry_with_small_counts_suppressed(demo: Registry) -> None:
    table = aggregate(as_user(demo, "analyst", {}), ["country", "act_type"])
    assert table.scope == "registry" and table.protected and table.k == 5
    published = [r[-1] for r in table.rows if r[-1] is not None]
    assert all(n == 0 or n >= 5 for n in published)
    assert any(r[-1] is None for r in table.rows)
    result = escalations(as_user(demo, "analyst", {}))
    assert result.scope == "registry"
    with pytest.raises(Forbidden):
        aggregate(as_user(demo, "analyst", {}), ["country"], scope="cases")


def test_facts_follow_amendments_merges_and_deletions(registry: Registry) -> None:
    populate(registry, size=DemoSize(defenders=12, incidents=30))
    incident = registry.incidents.list(IncidentFilter(limit=1))[0]
    record = registry.incidents.get(incident.id).to_dict()
    record["country"] = "PE"
    record["acts"][0]["act_type"] = "A27"
    registry.incidents.amend(incident.id, record)
    victim = record["acts"][0].get("victim_defender_id")
    if victim:
        profile = registry.defenders.get(victim).to_dict()
        profile["gender_identity"] = "non_binary"
        profile["sectors"] = ["digital_rights"]
        registry.defenders.amend(victim, profile)
    registry.incidents.delete(registry.incidents.list(IncidentFilter(limit=2))[1].id)
    for dim in ("country", "act_type", "gender_identity", "sector", "perpetrator_type"):
        assert aggregate(registry, [dim]).cells() == {
            (v,): n for v, n in expected_1d(registry, dim).items()
        }, dim
