"""``amparo triage``: run and campaigns on files without a vault, their errors, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amparo.cli.main import cli
from amparo.triage.model import MODELS
from tests.triage.data import EDOS

BATCH = (
    "id,author,created_at,text\n"
    "1,@a,2026-03-01T10:00:00Z,te vamos a m4t4r esta noche\n"
    '2,@b,2026-03-01T10:05:00Z,"call her +57 310 555 1234"\n'
    "3,@c,2026-03-01T10:06:00Z,Lovely day for a walk\n"
    "4,@d,2026-03-01T10:07:00Z,\n"
)


def triage(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["triage", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_ranks_and_reports_skipped_rows(tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text(BATCH, encoding="utf-8")
    code, out, err = triage("run", str(batch), "--format", "jsonl", "--rules-only")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["categories"] == ["threat"] and rows[0]["urgency"] > rows[1]["urgency"] > 0
    assert rows[1]["doxxing"] == [{"kind": "phone", "masked": "+•• ••• ••• ••34"}]
    assert "skipped row 5, column 'text': is empty" in err
    assert "3 messages read, 1 rows skipped" in err
    code, out, _ = triage("run", str(batch), "--format", "csv", "--rules-only", "--limit", "1")
    assert (
        code == 0 and out.splitlines()[0].startswith("id,row,author") and len(out.splitlines()) == 2
    )
    code, out, _ = triage("run", str(batch), "--rules-only")
    assert code == 0 and "(3 rows)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"name,country\nana,CO\n", "no text column"),
    ],
)
def test_files_that_cannot_be_read_exit_3(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code, _, err = triage("run", str(bad), "--rules-only")
    assert code == 3 and message in err and "Traceback" not in err


def test_a_column_mapping(tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"Cuerpo": "te voy a violar", "Cuenta": "@x"}]), encoding="utf-8")
    code, out, err = triage("run", str(batch), "--map", "text=Cuerpo", "--map", "author=Cuenta",
                            "--format", "jsonl", "--rules-only")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["author"] == "@x"
    code, _, err = triage("run", str(batch), "--map", "textCuerpo")
    assert code == 2 and "FIELD=COLUMN" in err


def test_campaigns(tmp_path: Path) -> None:
    lines = ["id,author,created_at,text"] + [
        f"{k},bot{k},2026-03-01T10:{k:02d}:00Z,she is a paid agent of foreigners and lies to "
        f"the whole river community every single day {k % 2}"
        for k in range(6)
    ] + ["9,someone,2026-03-01T11:00:00Z,the weather is fine"]  # fmt: skip
    batch = tmp_path / "batch.csv"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = triage("campaigns", str(batch), "--format", "jsonl")
    assert code == 0, err
    (campaign,) = [json.loads(line) for line in out.splitlines()]
    assert campaign["messages"] == 6 and campaign["accounts"] == 6
    assert campaign["reasons"][0] == "near-identical text from 6 accounts"
    code, out, _ = triage("campaigns", str(batch))
    assert code == 0 and "(1 rows)" in out


@pytest.mark.skipif(not (MODELS / "screen" / "screen.json").exists(),
                    reason="needs the shipped models")  # fmt: skip
def test_no_screen_lets_task_a_read_every_message(tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text(BATCH, encoding="utf-8")
    code, screened, err = triage("run", str(batch), "--format", "jsonl")
    assert code == 0, err
    code, thorough, err = triage("run", str(batch), "--format", "jsonl", "--no-screen")
    assert code == 0, err
    by_id = {r["id"]: r for r in map(json.loads, screened.splitlines())}
    every = {r["id"]: r for r in map(json.loads, thorough.splitlines())}
    assert (
        "+edos-a-tfidf-" in by_id["3"]["model"] and "tfidf" not in every["3"]["model"].split("+")[1]
    )
    # "Lovely day for a walk" is one the screen is sure of: its score is the screen's, not A's.
    assert by_id["3"]["reasons"] != every["3"]["reasons"]
    assert by_id["3"]["categories"] == every["3"]["categories"] == ["none"]


@pytest.mark.skipif(not (MODELS / "a" / "model.onnx").exists() or not EDOS.exists(),
                    reason="needs the shipped models and ../shared/data/edos")  # fmt: skip
def test_evaluate_reports_the_test_split_as_json() -> None:
    code, out, err = triage("evaluate", "--data", str(EDOS), "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert set(scores) == {"A", "B", "C", "model"}
    # The shipped models' results as docs/triage.md reports them; int8 kernels differ a little
    # from one CPU to another.
    assert scores["A"] == pytest.approx(0.8119, abs=0.005)
    assert scores["B"] == pytest.approx(0.5744, abs=0.005)
    assert scores["C"] == pytest.approx(0.3672, abs=0.005)
    assert scores["model"].startswith("edos-a-minilm-int8-c01c0ef25d30+")


@pytest.mark.skipif(not EDOS.exists(), reason="needs ../shared/data/edos")
def test_training_the_screen_without_an_a_model_says_so(tmp_path: Path) -> None:
    code, _, err = triage("train", "--data", str(EDOS), "--task", "screen", "--out", str(tmp_path))
    assert code == 1 and "no model.onnx" in err and "Traceback" not in err
