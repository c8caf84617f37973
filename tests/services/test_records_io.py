"""Reading incident files (JSON, JSON Lines, CSV), and importing them from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amparo.cli.main import cli
from amparo.domain.models import parse_incident
from amparo.domain.vocabularies import load_vocabularies
from amparo.errors import ValidationError
from amparo.registry import Registry
from amparo.services.records_io import CSV_COLUMNS, read_records
from tests.conftest import NOW, PASSPHRASE
from tests.factories import incident

CSV_HEADER = (
    "title,date_start,country,region,act_type,perpetrator_type,perpetrator_degree,source_type"
)
CSV_GOOD = [
    "Threat at the radio,2024-05-14,HN,Intibucá,A09,private_security,carried_out,victim_testimony",
    "Smear and surveillance,2023-03,MX,Oaxaca,A19;A12,media_outlets;police,suspected,",
    "Office raided,2022,CO,Cauca,A18,,,media_report",
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_array(tmp_path: Path) -> None:
    records = [incident(title="One"), incident(title="Two")]
    got = read_records(write(tmp_path / "in.json", json.dumps(records)))
    assert got == records


def test_json_single_object(tmp_path: Path) -> None:
    got = read_records(write(tmp_path / "one.json", json.dumps(incident())))
    assert got == [incident()]


def test_json_lines(tmp_path: Path) -> None:
    text = json.dumps(incident(title="One")) + "\n\n" + json.dumps(incident(title="Two")) + "\n"
    for suffix in ("jsonl", "ndjson"):
        got = read_records(write(tmp_path / f"in.{suffix}", text))
        assert [r["title"] for r in got] == ["One", "Two"]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([incident()]).encode())
    assert read_records(path) == [incident()]


def test_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "\n".join([CSV_HEADER, *CSV_GOOD]) + "\n")
    got = read_records(path)
    assert len(got) == 3
    first, second, third = got
    assert first["title"] == "Threat at the radio"
    assert first["region"] == "Intibucá"
    assert first["acts"] == [
        {"act_type": "A09", "involvements": [{"perpetrator": 0, "degree": "carried_out"}]}
    ]
    assert first["perpetrators"] == [{"perpetrator_type": "private_security"}]
    assert first["sources"] == [{"source_type": "victim_testimony", "reliability": "unknown"}]
    assert [a["act_type"] for a in second["acts"]] == ["A19", "A12"]
    assert [p["perpetrator_type"] for p in second["perpetrators"]] == ["media_outlets", "police"]
    assert second["acts"][1]["involvements"] == [
        {"perpetrator": 0, "degree": "suspected"},
        {"perpetrator": 1, "degree": "suspected"},
    ]
    assert "sources" not in second
    assert "perpetrators" not in third
    assert "region" in third and "narrative" not in third  # empty cells are left out
    # and every row is a valid incident
    vocab = load_vocabularies()
    parsed = [parse_incident(r, vocab, NOW.date()) for r in got]
    assert [str(p.date_start) for p in parsed] == ["2024-05-14", "2023-03", "2022"]


def test_csv_accepts_every_documented_column(tmp_path: Path) -> None:
    path = write(tmp_path / "all.csv", ",".join(CSV_COLUMNS) + "\n")
    assert read_records(path) == []


def test_csv_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    body = "\n".join([CSV_HEADER, CSV_GOOD[0]]).encode("utf-8")
    path.write_bytes(body + b"\nCaf\xe9 raid,2024-01-01,HN,,A18,,,\n")
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)
    assert "UTF-8" in str(info.value)


def test_csv_unknown_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "extra.csv", CSV_HEADER + ",weapon\n" + CSV_GOOD[0] + ",knife\n")
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert "weapon" in str(info.value)
    assert str(path) in str(info.value)


def test_csv_row_with_too_many_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", CSV_HEADER + "\n" + CSV_GOOD[0] + ",surplus\n")
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert str(path) in str(info.value)
    assert info.value.row == 2


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("broken.json", '[{"title": "x",}]', "not valid JSON"),
        ("scalar.json", "42", "JSON object"),
        ("mixed.json", '[{"title": "x"}, 3]', "object"),
        ("broken.jsonl", '{"title": "x"}\n{"title": \n', "not valid JSON"),
        ("list.jsonl", '{"title": "x"}\n[1, 2]\n', "JSON object"),
    ],
)
def test_malformed_json_names_the_file(tmp_path: Path, name: str, text: str, needle: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert info.value.field == str(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_malformed_json_lines_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.jsonl", '{"title": "x"}\n{"title": \n')
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert info.value.row == 2


def test_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ValidationError) as info:
        read_records(path)
    assert str(path) in str(info.value)


# -- importing through the command line -----------------------------------------------------


def run_import(vault_dir: Path, *args: str) -> Result:
    runner = CliRunner(env={"AMPARO_PASSPHRASE": PASSPHRASE})
    return runner.invoke(cli, ["incidents", "import", "--vault", str(vault_dir), *args])


def count(vault_dir: Path) -> int:
    with Registry.open(vault_dir, PASSPHRASE) as registry:
        return registry.incidents.count()


def csv_with_bad_row(tmp_path: Path) -> Path:
    bad = "Bad country,2024-02-01,XX,,A09,,,"
    return write(tmp_path / "mixed.csv", "\n".join([CSV_HEADER, CSV_GOOD[0], bad, *CSV_GOOD[1:]]))


def test_cli_import_keeps_good_rows_and_lists_bad_ones(tmp_path: Path, vault_dir: Path) -> None:
    result = run_import(vault_dir, str(csv_with_bad_row(tmp_path)))
    assert result.exit_code == 3, result.output
    assert "row 2: country" in result.stderr
    assert "XX" in result.stderr
    assert "3 imported, 1 rejected" in result.stdout
    assert "Traceback" not in result.output
    assert count(vault_dir) == 3


def test_cli_import_atomic_stores_nothing(tmp_path: Path, vault_dir: Path) -> None:
    result = run_import(vault_dir, "--atomic", str(csv_with_bad_row(tmp_path)))
    assert result.exit_code == 3
    assert "row 2: country" in result.stderr
    assert "nothing imported" in result.stderr
    assert count(vault_dir) == 0


def test_cli_import_atomic_stores_nothing_on_a_bad_reference(
    tmp_path: Path, vault_dir: Path
) -> None:
    rows = [incident(), incident(acts=[{"act_type": "A09", "victim_defender_id": "d" * 32}])]
    path = write(tmp_path / "refs.json", json.dumps(rows))
    result = run_import(vault_dir, "--atomic", str(path))
    assert result.exit_code == 3
    assert count(vault_dir) == 0


def test_cli_import_all_good(tmp_path: Path, vault_dir: Path) -> None:
    path = write(tmp_path / "good.jsonl", "\n".join(json.dumps(incident()) for _ in range(4)))
    result = run_import(vault_dir, "--atomic", str(path))
    assert result.exit_code == 0, result.output
    assert "4 imported, 0 rejected." in result.stdout
    assert count(vault_dir) == 4


def test_cli_import_a_row_that_is_not_utf8_costs_that_row(tmp_path: Path, vault_dir: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(CSV_HEADER.encode() + b"\nCaf\xe9,2024-01-01,HN,,A18,,,\n")
    result = run_import(vault_dir, str(path))
    assert result.exit_code == 3
    assert "row 1: is not valid UTF-8" in result.stderr
    assert "line 2" in result.stderr
    assert count(vault_dir) == 0


def test_cli_import_unreadable_header(tmp_path: Path, vault_dir: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"T\xedtulo," + CSV_HEADER.encode() + b"\n")
    result = run_import(vault_dir, str(path))
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ")
    assert str(path) in result.stderr and "header is not valid UTF-8" in result.stderr
    assert count(vault_dir) == 0
