"""Importing files of incident records: mapping, dry run, the validation report, big files."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from amparo.errors import ValidationError
from amparo.registry import Registry
from amparo.services.import_mapping import ColumnMapping
from amparo.services.record_import import import_file, render_report
from amparo.store import schema
from tests.services.test_archive import everything

HEADER = "title,date_start,country,region,place,act_type,violation_status,narrative\n"


def count(registry: Registry) -> int:
    with registry.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.incidents))
                   .scalar_one())  # fmt: skip


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


SMALL = (
    HEADER.encode()
    + b'ok,2024-05-01,HN,Intibuca,"Radio, La Esperanza",A09,confirmed,\n'
    + b"bad date,2024-13-45,HN,,,A09,confirmed,\n"
    + b"bad code,2024-05-01,HN,,,Z77,confirmed,\n"
    + b"missing date,,HN,,,A09,confirmed,\n"
    + b'broken "quote,2024-05-01,HN,,"unclosed,A09,confirmed,\n'
    + b"utf \xff\xfe,2024-05-01,HN,,,A09,confirmed,\n"
    + b'multi,2024-05-01,HN,,,A09,confirmed,"line one\nline two, with a comma"\n'
    + b"too,many,cells,HN,,,A09,confirmed,,\n"
    + b"ok2,2024-05,CO,Cauca,,A01;A09,likely,\n"
)


def test_bad_rows_are_named_and_good_rows_stored(registry: Registry, tmp_path: Path) -> None:
    outcome = import_file(registry, write(tmp_path, "in.csv", SMALL))
    found = [(p.row, p.line, p.field) for p in outcome.problems]
    assert found == [
        (2, 3, "date_start"), (3, 4, "acts[0].act_type"), (4, 5, "date_start"), (5, 6, ""),
        (6, 7, ""), (8, 10, ""),
    ]  # fmt: skip
    reasons = {p.row: p.reason for p in outcome.problems}
    assert "not a real date" in reasons[2] and "Z77" in reasons[3]
    assert "quot" in reasons[5] and "UTF-8" in reasons[6] and "cells" in reasons[8]
    assert outcome.rows == 9 and len(outcome.added) == 3 == count(registry)
    narratives = [registry.incidents.get(i).narrative for i in outcome.added]
    assert "line one\nline two, with a comma" in narratives


def test_dry_run_reports_the_same_and_writes_nothing(registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "in.csv", SMALL)
    before = everything(registry)
    dry = import_file(registry, path, dry_run=True)
    after = everything(registry)
    # Only the dry run's own audit entry.
    assert [r[3] for r in after["audit_log"][len(before["audit_log"]) :]] == ["records.validate"]
    assert {k: v for k, v in after.items() if k not in ("audit_log", "meta")} == {
        k: v for k, v in before.items() if k not in ("audit_log", "meta")
    }
    real = import_file(registry, path)
    assert [p.to_dict() for p in dry.problems] == [p.to_dict() for p in real.problems]
    assert dry.valid == len(real.added) == 3


def test_a_dry_run_checks_references(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({
        "title": "x", "date_start": "2024-01-01", "country": "HN",
        "acts": [{"act_type": "A09", "victim_defender_id": "f" * 32}],
    }) + "\n{not json\n", encoding="utf-8")  # fmt: skip
    outcome = import_file(registry, path, dry_run=True)
    assert [(p.row, p.line) for p in outcome.problems] == [(1, 1), (2, 2)]
    assert "victim_defender_id" in outcome.problems[0].field
    assert "JSON" in outcome.problems[1].reason


PARTNER = (
    "Título;Fecha;País;Tipo de agresión;Estado;Observaciones\n"
    "Amenaza en la radio;14/05/2024;Honduras;amenaza;confirmado;no importar\n"
    "Vigilancia;02/06/2024;Colombia;Vigilancia;alegado;\n"
    "Desconocida;03/06/2024;Colombia;otra cosa;alegado;\n"
)


def _partner_csv(tmp_path: Path) -> Path:
    # Their file uses ';' as separator: turn it into a CSV as a spreadsheet would save it.
    rows = [line.split(";") for line in PARTNER.splitlines()]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return write(tmp_path, "partner.csv", buffer.getvalue().encode())


MAPPING_TOML = """
date_format = "%d/%m/%Y"
[columns]
"Título" = "title"
"Fecha" = "date_start"
"País" = "country"
"Tipo de agresión" = "act_type"
"Estado" = "violation_status"
"Observaciones" = ""
[values.country]
"Honduras" = "HN"
"Colombia" = "CO"
[values.act_type]
"amenaza" = "A09"
"vigilancia" = "A13"
[values.violation_status]
"confirmado" = "confirmed"
"alegado" = "likely"
"""


def test_a_mapping_file_renames_columns_and_values(registry: Registry, tmp_path: Path) -> None:
    mapping = ColumnMapping.load(write(tmp_path, "map.toml", MAPPING_TOML.encode()))
    outcome = import_file(registry, _partner_csv(tmp_path), mapping=mapping)
    assert [(p.row, p.field) for p in outcome.problems] == [(3, "acts[0].act_type")]
    first = registry.incidents.get(outcome.added[0])
    assert (first.title, first.country, str(first.date_start)) == (
        "Amenaza en la radio", "HN", "2024-05-14")  # fmt: skip
    assert [a.act_type for a in first.acts] == ["A09"]
    assert first.violation_status == "confirmed"
    second = registry.incidents.get(outcome.added[1])
    assert [a.act_type for a in second.acts] == ["A13"]


def test_map_options_override_the_file_and_unknown_columns_are_named(
    registry: Registry, tmp_path: Path
) -> None:
    path = _partner_csv(tmp_path)
    with pytest.raises(ValidationError, match="Observaciones"):
        import_file(registry, path, mapping=ColumnMapping.from_specs(["Título=title"]))
    file_map = ColumnMapping.load(write(tmp_path, "map.toml", MAPPING_TOML.encode()))
    options = ColumnMapping.from_specs(["act_type:otra cosa=A99", "Observaciones=narrative"])
    outcome = import_file(registry, path, mapping=file_map.merged(options))
    assert outcome.problems == [] and len(outcome.added) == 3
    assert registry.incidents.get(outcome.added[0]).narrative == "no importar"


def test_json_records_are_mapped_at_every_depth(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{
        "titulo": "Hostigamiento", "fecha": "01/02/2024", "pais": "HN",
        "acts": [{"act_type": "hostigamiento"}],
    }]), encoding="utf-8")  # fmt: skip
    mapping = ColumnMapping.from_specs([
        "titulo=title", "fecha=date_start", "pais=country", "act_type:hostigamiento=A10",
        "date_format=%d/%m/%Y",
    ])  # fmt: skip
    outcome = import_file(registry, path, mapping=mapping)
    assert outcome.problems == []
    incident = registry.incidents.get(outcome.added[0])
    assert [a.act_type for a in incident.acts] == ["A10"] and str(incident.date_start) == (
        "2024-02-01"
    )


def test_reports_in_json_and_formula_safe_csv(registry: Registry, tmp_path: Path) -> None:
    data = HEADER.encode() + b"=cmd|' /C calc'!A0,2024-13-01,HN,,,A09,confirmed,\n"
    outcome = import_file(registry, write(tmp_path, "in.csv", data), dry_run=True)
    as_json = json.loads(render_report(outcome, "json"))
    assert as_json["rejected"] == 1 and as_json["problems"][0]["row"] == 1
    rows = list(csv.reader(io.StringIO(render_report(outcome, "csv"))))
    assert rows[0] == ["row", "line", "field", "reason"] and rows[1][:3] == ["1", "2", "date_start"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# -- 100,000 rows with 1% bad ones --------------------------------------------------------
FAULTS = ("bad_date", "unknown_code", "missing_field", "broken_quoting", "invalid_utf8")


def big_csv(n: int) -> tuple[bytes, dict[int, str]]:
    """n rows; every 100th (offset 37) bad, the faults in turn; expected: row -> fault."""
    out = [HEADER.encode()]
    bad: dict[int, str] = {}
    acts = ("A01", "A09", "A13", "A10;A09")
    for row in range(1, n + 1):
        country, act = ("HN", "CO", "MX", "GT")[row % 4], acts[row % 4]
        date = f"20{10 + row % 14}-{1 + row % 12:02d}-{1 + row % 28:02d}"
        place = f'"Vereda {row % 97}, municipio {row % 13}"'
        narrative = '"Dos hombres en moto; dijo ""ya sabes"".\nSegunda línea."' if (
            row % 50 == 0) else ""  # fmt: skip
        title = f"Incidente {row}"
        if row % 100 == 37:
            fault = FAULTS[(row // 100) % len(FAULTS)]
            bad[row] = fault
            if fault == "bad_date":
                date = "2024-02-30"
            elif fault == "unknown_code":
                act = "Z42"
            elif fault == "missing_field":
                country = ""
            elif fault == "broken_quoting":
                title = f'"Incidente {row} sin cerrar'
            else:
                out.append(f"Incidente {row} ".encode() + b"\xc3\x28" + (
                    f",{date},{country},Region,{place},{act},confirmed,\n".encode()))  # fmt: skip
                continue
        out.append(f"{title},{date},{country},Region,{place},{act},confirmed,{narrative}\n"
                   .encode())  # fmt: skip
    return b"".join(out), bad


@pytest.mark.slow
def test_a_100000_row_file_with_1_percent_bad_rows(registry: Registry, tmp_path: Path) -> None:
    data, bad = big_csv(100_000)
    assert len(bad) == 1000 and set(bad.values()) == set(FAULTS)
    path = write(tmp_path, "big.csv", data)
    started = time.perf_counter()
    outcome = import_file(registry, path)
    elapsed = time.perf_counter() - started
    assert outcome.rejected_rows == sorted(bad)
    assert outcome.rows == 100_000 and len(outcome.added) == 99_000 == count(registry)
    by_row = {p.row: p for p in outcome.problems}
    for row, fault in bad.items():
        expected = {"bad_date": "date_start", "unknown_code": "acts[0].act_type",
                    "missing_field": "country", "broken_quoting": "",
                    "invalid_utf8": ""}[fault]  # fmt: skip
        assert by_row[row].field == expected, (row, fault, by_row[row])
        assert by_row[row].line == row + 1 + row // 50  # multi-line narratives before it
    print(f"\n100,000-row import: {elapsed:.1f} s")
