"""Message batches in CSV, JSON and JSON Lines: layouts, mappings and every kind of bad input
(a bad row is skipped and listed by row and column; good rows are kept)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amparo.triage.ingest import MAX_TEXT_CHARS, IngestError, read_messages

CSV = (
    "id,author,created_at,text,url,reply_to,platform\n"
    "m1,@troll1,2026-03-01T10:00:00Z,te vamos a matar,https://x.co/1,,x\n"
    'm2,@troll2,2026-03-01 10:05,"a message, with a comma\nand a new line",,m1,x\n'
)


def test_csv_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_text(CSV, encoding="utf-8")
    result = read_messages(path)
    assert [m.id for m in result.messages] == ["m1", "m2"] and result.skipped == []
    first, second = result.messages
    assert first.created_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert (first.author, first.url, first.platform) == ("@troll1", "https://x.co/1", "x")
    assert second.text == "a message, with a comma\nand a new line" and second.reply_to == "m1"


def test_json_jsonl_and_export_layouts() -> None:
    export = [{"id_str": "1", "full_text": "hola", "screen_name": "a", "created_at":
               "Wed Oct 10 20:19:24 +0000 2018"}]  # fmt: skip
    result = read_messages(json.dumps(export).encode(), fmt="json")
    assert result.columns == {"id": "id_str", "author": "screen_name",
                              "created_at": "created_at", "text": "full_text"}  # fmt: skip
    assert result.messages[0].created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    wrapped = read_messages(json.dumps({"messages": [{"text": "x"}]}).encode(), fmt="json")
    assert wrapped.messages[0].id == "row-1"
    lines = b'{"text": "uno", "timestamp": 1767225600}\n\n{"text": "dos"}\n'
    assert [m.text for m in read_messages(lines, fmt="jsonl").messages] == ["uno", "dos"]


def test_a_mapping_names_other_columns() -> None:
    data = b"Cuerpo;Usuario\nhola;ana\n"
    result = read_messages(data, fmt="csv", mapping={"text": "Cuerpo", "author": "usuario"})
    assert (result.messages[0].text, result.messages[0].author) == ("hola", "ana")
    with pytest.raises(IngestError, match=r"column mapping names 'Nope'.*Cuerpo, Usuario"):
        read_messages(data, fmt="csv", mapping={"text": "Nope"})
    with pytest.raises(IngestError, match="unknown field"):
        read_messages(data, fmt="csv", mapping={"body": "Cuerpo"})


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", "csv", "the file is empty"),
        (b"  \n\n", "jsonl", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "csv", "binary file"),
        (b"\xff\xfet\x00e\x00x\x00t\x00", "csv", "UTF-16"),
        (b"name,country\nana,CO\n", "csv", r"no text column .* columns are name, country"),
        (b'{"text": ', "json", "not valid JSON"),
        (b'"just a string"', "json", "must be a list"),
        (b"text\nhola\n", "xlsx", "unknown format"),
        (b"text,Text\na,b\n", "csv", "repeats a column"),
    ],
)
def test_files_that_cannot_be_read_at_all(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        read_messages(data, fmt=fmt, name="upload.bin")


def test_bad_rows_are_skipped_by_row_and_column_and_good_rows_kept() -> None:
    huge = "x" * (10 * 1024 * 1024)  # a 10 MB "message"
    data = (
        b"id,text,created_at\n"
        b"ok1,fine,2026-01-01\n"
        b"bad1,\xff\xfe broken utf-8,2026-01-01\n"
        + f"bad2,{huge},2026-01-01\n".encode()
        + b"bad3,,2026-01-01\n"
        b"bad4,when?,yesterday\n"
        b"bad5,too,many,cells,here\n"
        b"ok1,duplicate id,2026-01-02\n"
        b"ok2,also fine,1767225600\n"
    )
    result = read_messages(data, fmt="csv")
    assert [m.id for m in result.messages] == ["ok1", "ok2"]
    reasons = {s.row: str(s) for s in result.skipped}
    assert reasons[3] == "row 3, column 'text': is not valid UTF-8 text"
    assert reasons[4] == f"row 4, column 'text': is longer than {MAX_TEXT_CHARS:,} characters"
    assert reasons[5] == "row 5, column 'text': is empty"
    assert reasons[6] == "row 6, column 'created_at': 'yesterday' is not a date and time"
    assert reasons[7] == "row 7: has 5 cells for 3 columns"
    assert reasons[8] == "row 8, column 'id': id 'ok1' appears earlier in the batch"


def test_bad_json_lines_and_items_are_skipped() -> None:
    lines = b'{"text": "a"}\n{"text": \n\xff\n[1]\n{"text": ["x"]}\n{"text": "b"}\n'
    result = read_messages(lines, fmt="jsonl")
    assert [m.text for m in result.messages] == ["a", "b"]
    assert [str(s) for s in result.skipped] == [
        "row 2: is not valid JSON", "row 3: is not valid UTF-8 text",
        "row 4: is not a JSON object", "row 5, column 'text': must be text, not a list, "
        "object or boolean",
    ]  # fmt: skip
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(IngestError, match="not valid JSON"):
        read_messages(nested, fmt="json")


def test_progress_is_reported(tmp_path: Path) -> None:
    rows = "text\n" + "".join(f"message {n}\n" for n in range(2500))
    seen: list[int] = []
    result = read_messages(rows.encode(), fmt="csv", progress=seen.append)
    assert len(result.messages) == 2500 and seen == [1000, 2000]


def test_csv_field_limit_is_restored() -> None:
    import csv

    before = csv.field_size_limit()
    read_messages(("text\n" + "y" * 500_000 + "\n").encode(), fmt="csv")
    assert csv.field_size_limit() == before
    with pytest.raises(IngestError):  # a small file refused part way: the limit is untouched
        read_messages(b"name\nx\n", fmt="csv")
    assert csv.field_size_limit() == before
