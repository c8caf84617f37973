"""``amparo cases``, ``risk``, ``checkins`` and ``worker`` over a real vault."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.test_cli import ok, run
from tests.factories import defender


def _zeros(**scores: int) -> str:
    codes = [f"T{i}" for i in range(1, 9)] + [f"V{i}" for i in range(1, 13)]
    codes += [f"C{i}" for i in range(1, 11)]
    return json.dumps({code: scores.get(code, 0) for code in codes})


def test_protection_commands(vault_dir: Path) -> None:
    v = str(vault_dir)
    defender_id = ok("defenders", "add", "--vault", v, "--json", json.dumps(defender())).strip()
    case_id = json.loads(ok("defenders", "show", defender_id, "--vault", v))["case_id"]
    assert ok("risk", "form", "--lang", "es").startswith("T1   0-4  Gravedad")
    assessed = json.loads(
        ok(
            "risk",
            "assess",
            defender_id,
            "--vault",
            v,
            "--scores",
            _zeros(T1=4, T2=3, V2=2),
            "--fact",
            "disappeared",
        )
    )
    assert assessed["band"] == "extreme" and assessed["urgent_action"] is True
    ok("risk", "assess", defender_id, "--vault", v, "--scores", _zeros(T1=1))
    history = ok("risk", "history", defender_id, "--vault", v).splitlines()
    assert [line.split()[0] for line in history] == ["v1", "v2"]
    shown = json.loads(ok("risk", "show", defender_id, "--vault", v, "--version", "1"))
    assert shown["drivers"][0]["code"] == "T1" and shown["drivers"][0]["action"]
    bad = run("risk", "assess", defender_id, "--vault", v, "--scores", '{"T1": 9}')
    assert bad.exit_code == 3

    ok(
        "cases",
        "set",
        case_id,
        "--vault",
        v,
        "--defender",
        defender_id,
        "--priority",
        "urgent",
        "--status",
        "active",
    )
    measure = ok(
        "cases",
        "add-measure",
        case_id,
        "--vault",
        v,
        "--kind",
        "preventive",
        "--description",
        "Change routes to work",
        "--due",
        "2030-01-01",
        "--driver",
        "T5",
    ).strip()
    ok("cases", "update-measure", measure, "--vault", v, "--status", "closed", "--outcome", "done")
    action = json.loads(ok("cases", "urgent", case_id, "--vault", v, "--kind", "legal_aid"))
    ticked = json.loads(ok("cases", "tick", action["id"], "lawyer", "--vault", v))
    assert ticked["checklist"][0]["done"] is True
    shown_case = json.loads(ok("cases", "show", case_id, "--vault", v))
    assert shown_case["priority"] == "urgent" and shown_case["people"][0]["band"] == "low"
    assert shown_case["measures"][0]["status"] == "closed"
    assert case_id in ok("cases", "list", "--vault", v)

    out = ok(
        "checkins",
        "schedule",
        defender_id,
        "--vault",
        v,
        "--every",
        "4",
        "--notify-email",
        "contact@example.test",
    )
    schedule_id = re.search(r"schedule ([0-9a-f]{32})", out).group(1)  # type: ignore[union-attr]
    assert "/c/" in out
    ok("checkins", "record", schedule_id, "--vault", v, "--note", "phoned")
    assert "http" in ok("checkins", "link", schedule_id, "--vault", v)
    assert schedule_id in ok("checkins", "status", "--vault", v)
    ok("checkins", "stop", schedule_id, "--vault", v)
    assert schedule_id not in ok("checkins", "status", "--vault", v)
    worker = run("worker", "--vault", v, "--once")  # SQLite: one round; PostgreSQL: procrastinate
    assert worker.exit_code == 0, worker.output
