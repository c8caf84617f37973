"""``amparo stats``: tables, trends, escalations and public tables from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from amparo.analytics.aggregates import aggregate, escalations, trend
from amparo.clock import Clock
from amparo.demo import DemoSize, populate
from amparo.registry import Registry
from amparo.services.incidents import IncidentFilter
from tests.cli.test_cli import assert_error_line, ok, run
from tests.conftest import NOW, PASSPHRASE


@pytest.fixture
def demo_vault(vault_dir: Path) -> Path:
    with Registry.open(vault_dir, PASSPHRASE, clock=Clock(NOW), actor="tester") as registry:
        populate(registry, size=DemoSize(defenders=30, incidents=120))
    return vault_dir


def test_stats_table_json_and_csv_match_the_library(demo_vault: Path) -> None:
    v = str(demo_vault)
    with Registry.open(demo_vault, PASSPHRASE) as registry:
        expected = aggregate(registry, ["country", "act_type"], IncidentFilter(year=2025),
                             crosswalk="front_line_defenders")  # fmt: skip
        year_trend = trend(registry, "year", ["modality"])
        patterns = escalations(registry)
    args = ["stats", "--vault", v, "--by", "country", "--by", "act_type", "--crosswalk",
            "front_line_defenders", "--year", "2025"]  # fmt: skip
    data = json.loads(ok(*args, "--format", "json"))
    assert data["dimensions"] == ["country", "act_type"] and data["total"] == expected.total
    assert [[r["country"], r["act_type"], r["count"]] for r in data["rows"]] == [
        list(r) for r in expected.rows
    ]
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert sum(int(r["count"]) for r in rows) == expected.total
    table = ok(*args)
    assert "country" in table.splitlines()[0] and f"acts counted: {expected.total}" in table
    out = json.loads(ok("stats", "trend", "--vault", v, "--by", "modality", "--format", "json"))
    assert out == year_trend.to_dict()
    esc = json.loads(ok("stats", "escalations", "--vault", v, "--format", "json"))
    assert esc == patterns.to_dict()
    assert "threat_before_physical" in ok("stats", "escalations", "--vault", v)


def test_public_tables_suppress_small_counts(demo_vault: Path, tmp_path: Path) -> None:
    v = str(demo_vault)
    target = tmp_path / "public.json"
    ok("stats", "--vault", v, "--by", "country", "--by", "modality", "--public", "--k", "5",
       "--format", "json", "--out", str(target))  # fmt: skip
    data = json.loads(target.read_text())
    assert data["protected"] and data["k"] == 5
    assert all(r["count"] is None or r["count"] == 0 or r["count"] >= 5 for r in data["rows"])
    noisy = ok("stats", "--vault", v, "--by", "country", "--public", "--epsilon", "1",
               "--seed", "7", "--format", "json")  # fmt: skip
    assert json.loads(noisy)["epsilon"] == 1.0
    assert noisy == ok("stats", "--vault", v, "--by", "country", "--public", "--epsilon", "1",
                       "--seed", "7", "--format", "json")  # fmt: skip
    assert_error_line(run("stats", "--vault", v, "--by", "region", "--public"), 3)
    audit = json.loads(ok("audit", "list", "--vault", v, "--action", "stats.export_public",
                          "--format", "json"))  # fmt: skip
    assert len(audit) == 3  # the refused region table left nothing


def test_stats_errors(demo_vault: Path) -> None:
    v = str(demo_vault)
    assert_error_line(run("stats", "--vault", v, "--by", "colour"), 3)
    assert_error_line(run("stats", "--vault", v, "--crosswalk", "nope"), 3)
    assert run("stats", "--vault", v, "--epsilon", "1").exit_code == 2
    assert run("stats", "trend", "--vault", v, "--period", "decade").exit_code == 2
