"""The ``amparo`` command line: every verb, its output formats, exit codes and error lines."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from amparo.cli.main import cli
from amparo.vault import init_vault
from tests.conftest import CHEAP_KDF, PASSPHRASE
from tests.factories import defender, incident

PG = bool(os.environ.get("AMPARO_TEST_DATABASE_URL"))
NEW_PASSPHRASE = "a brand new passphrase"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def run(*args: str, passphrase: str | None = PASSPHRASE, **env: str | None) -> Result:
    environment: dict[str, str | None] = {
        "AMPARO_PASSPHRASE": passphrase,
        "AMPARO_VAULT": None,
        "AMPARO_DATABASE_URL": None,
        "AMPARO_NEW_PASSPHRASE": None,
        "AMPARO_RECOVERY_CODE": None,
        **env,
    }
    return CliRunner(env=environment).invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str, **env: str | None) -> str:
    result = run(*args, **env)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout


def assert_error_line(result: Result, code: int) -> str:
    """A failed command: the documented exit code and one 'error: ...' line, no traceback."""
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


# -- help -----------------------------------------------------------------------------------


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


ALL_COMMANDS = list(command_paths(cli))


def test_the_command_tree_is_complete() -> None:
    names = {" ".join(p) for p in ALL_COMMANDS}
    expected = {
        "init", "demo", "serve", "check", "vault change-passphrase", "vault recover",
        "vault shred-case", "incidents add", "incidents import", "incidents list",
        "incidents show", "incidents search", "incidents amend", "incidents history",
        "incidents diff", "incidents restore", "incidents delete", "defenders add",
        "defenders list", "defenders show", "defenders search", "defenders merge",
    }  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "amparo")
def test_help(path: tuple[str, ...]) -> None:
    result = run(*path, "--help", passphrase=None)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert result.stderr == ""
    short = run(*path, "-h", passphrase=None)
    assert short.exit_code == 0
    assert short.stdout == result.stdout


def test_version() -> None:
    result = run("--version", passphrase=None)
    assert result.exit_code == 0
    assert result.stdout.startswith("amparo, version ")


# -- vault life cycle -----------------------------------------------------------------------


@pytest.mark.skipif(PG, reason="about the CLI, not the database: runs on the SQLite default")
def test_init_creates_a_vault_and_prints_a_recovery_code(tmp_path: Path) -> None:
    vault = tmp_path / "new-vault"
    out = ok("init", "--vault", str(vault))  # the real Argon2id floor: about a second
    assert f"Created vault {vault} (sqlite)" in out
    assert "RECOVERY CODE" in out
    lines = out.splitlines()
    code = lines[lines.index(next(x for x in lines if x.startswith("RECOVERY CODE"))) + 2].strip()
    assert len(code) >= 20, out
    assert PASSPHRASE not in out
    assert (vault / "vault.key").is_file()
    assert (vault / "amparo.toml").is_file()
    assert (vault / "amparo.db").is_file()
    assert oct((vault).stat().st_mode & 0o777) == "0o700"
    for private in (vault / "files", vault / "amparo.db", vault / "vault.key"):
        assert private.stat().st_mode & 0o077 == 0, private  # owner only, whatever the umask
    again = run("init", "--vault", str(vault))
    assert "already holds a vault" in assert_error_line(again, 7)


def test_init_refuses_a_short_passphrase(tmp_path: Path) -> None:
    result = run("init", "--vault", str(tmp_path / "v"), passphrase="short")
    assert "at least 8 characters" in assert_error_line(result, 7)
    assert not (tmp_path / "v" / "vault.key").exists()


def test_check(vault_dir: Path) -> None:
    ok("incidents", "add", "--vault", str(vault_dir), "--json", json.dumps(incident()))
    out = ok("check", "--vault", str(vault_dir))
    assert "integrity  ok" in out
    assert "1 incidents, 0 defenders" in out
    assert ("postgresql" if PG else "sqlite") in out


def test_wrong_passphrase(vault_dir: Path) -> None:
    result = run("incidents", "list", "--vault", str(vault_dir), passphrase="not the passphrase")
    assert_error_line(result, 5)


def test_vault_from_environment_and_missing_vault(vault_dir: Path, tmp_path: Path) -> None:
    assert "(0 rows)" in ok("incidents", "list", AMPARO_VAULT=str(vault_dir))
    result = run("incidents", "list", "--vault", str(tmp_path / "nowhere"))
    assert "not a vault" in assert_error_line(result, 7)


def test_change_passphrase(vault_dir: Path) -> None:
    out = ok("vault", "change-passphrase", "--vault", str(vault_dir),
             AMPARO_NEW_PASSPHRASE=NEW_PASSPHRASE)  # fmt: skip
    assert "Passphrase changed." in out
    old = run("incidents", "list", "--vault", str(vault_dir))
    assert_error_line(old, 5)
    ok("incidents", "list", "--vault", str(vault_dir), passphrase=NEW_PASSPHRASE)
    too_short = run("vault", "change-passphrase", "--vault", str(vault_dir),
                    passphrase=NEW_PASSPHRASE, AMPARO_NEW_PASSPHRASE="tiny")  # fmt: skip
    assert_error_line(too_short, 7)


def test_recover(tmp_path: Path, database_url: str | None) -> None:
    vault = tmp_path / "v"
    code = init_vault(vault, PASSPHRASE, database_url=database_url, kdf=CHEAP_KDF).recovery_code
    wrong = run("vault", "recover", "--vault", str(vault), "--code", "WRONG-CODE-1234",
                AMPARO_NEW_PASSPHRASE=NEW_PASSPHRASE)  # fmt: skip
    assert_error_line(wrong, 5)
    out = ok("vault", "recover", "--vault", str(vault), "--code", code,
             AMPARO_NEW_PASSPHRASE=NEW_PASSPHRASE)  # fmt: skip
    assert "RECOVERY CODE" in out
    assert code not in out  # a fresh code replaces the used one
    ok("incidents", "list", "--vault", str(vault), passphrase=NEW_PASSPHRASE)
    assert_error_line(run("incidents", "list", "--vault", str(vault)), 5)
    reused = run("vault", "recover", "--vault", str(vault), "--code", code,
                 AMPARO_NEW_PASSPHRASE=PASSPHRASE)  # fmt: skip
    assert_error_line(reused, 5)


def test_shred_case(vault_dir: Path) -> None:
    v = str(vault_dir)
    victim = json.loads(
        ok("defenders", "show", "--vault", v,
           ok("defenders", "add", "--vault", v, "--json", json.dumps(defender())).strip())
    )  # fmt: skip
    record = incident(acts=[{"act_type": "A09", "victim_defender_id": victim["id"]}])
    record["perpetrators"] = []
    inc_id = ok("incidents", "add", "--vault", v, "--json", json.dumps(record)).strip()
    other = ok("incidents", "add", "--vault", v, "--json", json.dumps(incident())).strip()
    out = ok("vault", "shred-case", "--vault", v, victim["case_id"], "--yes")
    assert f"Shredded case {victim['case_id']}: 1 incidents, 1 defenders" in out
    listed = json.loads(ok("incidents", "list", "--vault", v, "--format", "json"))
    assert [r["id"] for r in listed] == [other]
    assert_error_line(run("incidents", "show", "--vault", v, inc_id), 4)
    assert_error_line(run("defenders", "show", "--vault", v, victim["id"]), 4)
    assert_error_line(run("vault", "shred-case", "--vault", v, "0" * 32, "--yes"), 4)


def test_shred_case_asks_first(vault_dir: Path) -> None:
    v = str(vault_dir)
    ok("defenders", "add", "--vault", v, "--json", json.dumps(defender()))
    case_id = json.loads(ok("defenders", "list", "--vault", v, "--format", "json"))[0]["case_id"]
    result = CliRunner(env={"AMPARO_PASSPHRASE": PASSPHRASE}).invoke(
        cli, ["vault", "shred-case", "--vault", v, case_id], input="n\n"
    )
    assert result.exit_code == 1  # aborted
    assert len(json.loads(ok("defenders", "list", "--vault", v, "--format", "json"))) == 1


# -- incidents ------------------------------------------------------------------------------


def test_incident_life_cycle(vault_dir: Path) -> None:
    v = str(vault_dir)
    inc_id = ok("incidents", "add", "--vault", v, "--json", json.dumps(incident())).strip()
    assert HEX32.match(inc_id)
    prefix = inc_id[-8:]

    shown = json.loads(ok("incidents", "show", "--vault", v, prefix))
    assert shown["id"] == inc_id
    assert shown["title"] == incident()["title"]
    assert shown["acts"][0]["act_type"] == "A09"

    hits = json.loads(ok("incidents", "search", "--vault", v, "--text", "MOTORBIKE",
                         "--format", "json"))  # fmt: skip
    assert [h["id"] for h in hits] == [inc_id]
    assert json.loads(ok("incidents", "search", "--vault", v, "--text", "motorbike",
                         "--country", "MX", "--format", "json")) == []  # fmt: skip

    out = ok("incidents", "amend", "--vault", v, prefix, "--json",
             '{"title": "Renamed", "violation_status": "likely"}')  # fmt: skip
    assert out.strip() == f"{inc_id} now at version 2"
    stale = run("incidents", "amend", "--vault", v, prefix, "--json", '{"title": "X"}',
                "--expect-version", "1")  # fmt: skip
    assert stale.exit_code == 8 and stale.stderr.startswith("error: ")  # Conflict

    history = json.loads(ok("incidents", "history", "--vault", v, prefix, "--format", "json"))
    assert [(h["version"], h["action"]) for h in history] == [(1, "create"), (2, "amend")]
    assert history[1]["changed_fields"] == ["title", "violation_status"]
    assert "Renamed" not in json.dumps(history)
    table = ok("incidents", "history", "--vault", v, prefix)
    assert "changed_fields" in table and "(2 rows)" in table

    diff = json.loads(ok("incidents", "diff", "--vault", v, prefix, "1", "2", "--format", "json"))
    assert {d["field"]: (d["before"], d["after"]) for d in diff} == {
        "title": (incident()["title"], "Renamed"),
        "violation_status": ("confirmed", "likely"),
    }

    out = ok("incidents", "restore", "--vault", v, prefix, "--version", "1")
    assert out.strip() == f"{inc_id} restored from version 1; now at version 3"
    assert json.loads(ok("incidents", "show", "--vault", v, inc_id))["title"] == incident()["title"]

    assert ok("incidents", "delete", "--vault", v, prefix, "--yes").strip() == f"deleted {inc_id}"
    assert_error_line(run("incidents", "show", "--vault", v, prefix), 4)
    assert json.loads(ok("incidents", "list", "--vault", v, "--format", "json")) == []
    # a deleted incident is found by prefix in its history and comes back
    out = ok("incidents", "restore", "--vault", v, prefix, "--version", "3")
    assert "now at version 5" in out
    assert json.loads(ok("incidents", "show", "--vault", v, prefix))["version"] == 5


def test_delete_asks_first(vault_dir: Path) -> None:
    v = str(vault_dir)
    inc_id = ok("incidents", "add", "--vault", v, "--json", json.dumps(incident())).strip()
    result = CliRunner(env={"AMPARO_PASSPHRASE": PASSPHRASE}).invoke(
        cli, ["incidents", "delete", "--vault", v, inc_id], input="n\n"
    )
    assert result.exit_code == 1
    assert ok("incidents", "show", "--vault", v, inc_id)


@pytest.fixture
def listed(vault_dir: Path) -> dict[str, str]:
    v = str(vault_dir)
    records = {
        "formula": incident(title='=HYPERLINK("http://evil")', country="CO", region="-Cauca"),
        "plain": incident(title="Plain, with comma", date_start="2023"),
        "at": incident(title="@mention +1", date_start="2022-02"),
    }
    return {
        k: ok("incidents", "add", "--vault", v, "--json", json.dumps(r)).strip()
        for k, r in records.items()
    }


def test_list_formats(vault_dir: Path, listed: dict[str, str]) -> None:
    v = str(vault_dir)
    rows = json.loads(ok("incidents", "list", "--vault", v, "--format", "json"))
    assert [r["id"] for r in rows] == [listed["formula"], listed["plain"], listed["at"]]
    assert rows[0]["act_types"] == ["A09"]
    assert rows[1]["date_start"] == "2023"

    text = ok("incidents", "list", "--vault", v, "--format", "csv")
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    assert header == ["id", "date_start", "country", "region", "act_types", "violation_status",
                      "title"]  # fmt: skip
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert by_id[listed["formula"]]["title"] == '\'=HYPERLINK("http://evil")'
    assert by_id[listed["formula"]]["region"] == "'-Cauca"
    assert by_id[listed["at"]]["title"] == "'@mention +1"
    assert by_id[listed["plain"]]["title"] == "Plain, with comma"
    for row in table[1:]:
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)

    default = ok("incidents", "list", "--vault", v)
    assert default == ok("incidents", "list", "--vault", v, "--format", "table")
    assert default.splitlines()[0].split() == list(header)
    assert "(3 rows)" in default
    assert "Plain, with comma" in default


def test_list_filters_and_pages(vault_dir: Path, listed: dict[str, str]) -> None:
    v = str(vault_dir)

    def ids(*args: str) -> list[str]:
        out = ok("incidents", "list", "--vault", v, "--format", "json", *args)
        return [r["id"] for r in json.loads(out)]

    assert ids("--country", "CO") == [listed["formula"]]
    assert ids("--year", "2023") == [listed["plain"]]
    assert ids("--from", "2022-06-01", "--to", "2023-12-31") == [listed["plain"]]
    assert ids("--act-type", "A01") == []
    assert ids("--gender-feature", "rape_threat", "--limit", "1", "--offset", "1") == [
        listed["plain"]
    ]
    bad = run("incidents", "list", "--vault", v, "--from", "yesterday")
    assert bad.exit_code == 2  # click's usage error


def test_add_bad_input_names_the_field(vault_dir: Path) -> None:
    v = str(vault_dir)
    result = run("incidents", "add", "--vault", v, "--json", json.dumps(incident(country="XX")))
    assert assert_error_line(result, 3).startswith("error: country: ")
    result = run("incidents", "add", "--vault", v, "--json",
                 json.dumps(incident(acts=[{"act_type": "A98"}], perpetrators=[])))  # fmt: skip
    assert "acts[0].act_type" in assert_error_line(result, 3)
    result = run("incidents", "add", "--vault", v, "--json", '{"title": ')
    assert "not valid JSON" in assert_error_line(result, 3)
    amend_target = ok("incidents", "add", "--vault", v, "--json", json.dumps(incident())).strip()
    result = run("incidents", "amend", "--vault", v, amend_target, "--json",
                 '{"date_start": "2031-01-01"}')  # fmt: skip
    assert "date_start" in assert_error_line(result, 3)
    assert "(1 rows)" in ok("incidents", "list", "--vault", v)


def test_add_from_file_and_stdin(vault_dir: Path, tmp_path: Path) -> None:
    v = str(vault_dir)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(incident(title="From a file")), encoding="utf-8")
    first = ok("incidents", "add", "--vault", v, "--file", str(path)).strip()
    result = CliRunner(env={"AMPARO_PASSPHRASE": PASSPHRASE}).invoke(
        cli, ["incidents", "add", "--vault", v], input=json.dumps(incident(title="From stdin"))
    )
    assert result.exit_code == 0, result.output
    titles = {r["id"]: r["title"] for r in
              json.loads(ok("incidents", "list", "--vault", v, "--format", "json"))}  # fmt: skip
    assert titles == {first: "From a file", result.stdout.strip(): "From stdin"}


def test_ambiguous_or_short_prefix(vault_dir: Path) -> None:
    v = str(vault_dir)
    assert "at least 6" in assert_error_line(run("incidents", "show", "--vault", v, "abc"), 3)
    assert_error_line(run("incidents", "show", "--vault", v, "abcdef0123"), 4)


# -- defenders ------------------------------------------------------------------------------


def test_defenders(vault_dir: Path) -> None:
    v = str(vault_dir)
    berta = ok("defenders", "add", "--vault", v, "--json", json.dumps(defender())).strip()
    pedro = ok("defenders", "add", "--vault", v, "--json",
               json.dumps(defender(display_name="Pedro Canul", gender_identity="man",
                                   country="MX", aliases=["El Cronista"])))  # fmt: skip
    pedro = pedro.strip()
    assert HEX32.match(berta) and HEX32.match(pedro)

    rows = json.loads(ok("defenders", "list", "--vault", v, "--format", "json"))
    assert {r["id"]: r["display_name"] for r in rows} == {berta: "Berta Flores",
                                                          pedro: "Pedro Canul"}  # fmt: skip
    mx = json.loads(ok("defenders", "list", "--vault", v, "--country", "MX", "--format", "json"))
    assert [r["id"] for r in mx] == [pedro]
    assert "(2 rows)" in ok("defenders", "list", "--vault", v)

    shown = json.loads(ok("defenders", "show", "--vault", v, berta[-8:]))
    assert shown["legal_name"] == "Berta Isabel Flores Cáceres"
    assert shown["close_people"][0]["name"] == "Laura Flores"

    found = json.loads(ok("defenders", "search", "--vault", v, "--text", "cronista",
                          "--format", "json"))  # fmt: skip
    assert [r["id"] for r in found] == [pedro]

    bad = run("defenders", "add", "--vault", v, "--json", json.dumps(defender(kind="alien")))
    assert assert_error_line(bad, 3).startswith("error: kind: ")


def test_defenders_merge(vault_dir: Path) -> None:
    v = str(vault_dir)
    keep = ok("defenders", "add", "--vault", v, "--json", json.dumps(defender())).strip()
    dup = ok("defenders", "add", "--vault", v, "--json",
             json.dumps(defender(display_name="B. Flores"))).strip()  # fmt: skip
    out = ok("defenders", "merge", "--vault", v, keep[-8:], dup[-8:])
    assert out.strip() == f"merged {dup} into {keep} (version 2)"
    rows = json.loads(ok("defenders", "list", "--vault", v, "--format", "json"))
    assert [r["id"] for r in rows] == [keep]
    assert "B. Flores" in json.loads(ok("defenders", "show", "--vault", v, keep))["aliases"]
    itself = run("defenders", "merge", "--vault", v, keep, keep)
    assert "itself" in assert_error_line(itself, 3)


# -- the real entry point, on demo data ------------------------------------------------------


def _entry_point() -> list[str]:
    return [sys.executable, "-m", "amparo"]


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path, database_url: str | None) -> None:
    """The real entry point in a subprocess: a demo vault, then reading it back."""
    vault = tmp_path / "demo"
    env = {**os.environ, "AMPARO_PASSPHRASE": PASSPHRASE}
    env.pop("AMPARO_VAULT", None)
    env.pop("AMPARO_DATABASE_URL", None)
    if database_url:
        env["AMPARO_DATABASE_URL"] = database_url  # the demo vault goes to PostgreSQL too

    def amparo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_entry_point(), *args], env=env, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip

    made = amparo("demo", "--vault", str(vault), "--no-serve")
    assert made.returncode == 0, made.stderr[-2000:]
    assert "DEMO" in made.stdout
    assert "Traceback" not in made.stderr
    settings = (vault / "amparo.toml").read_text(encoding="utf-8")
    assert ("database_url" in settings) == bool(database_url)
    env.pop("AMPARO_DATABASE_URL", None)  # from now on the vault's settings say where

    listed = amparo("incidents", "list", "--vault", str(vault), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    items: list[dict[str, Any]] = json.loads(listed.stdout)
    assert isinstance(items, list) and len(items) >= 3000
    assert all(HEX32.match(i["id"]) and i["act_types"] for i in items[:100])

    found = amparo("incidents", "search", "--vault", str(vault), "--text", "quetzalcoatl",
                   "--format", "json")  # fmt: skip
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert 0 < len(hits) < len(items)

    people = amparo("defenders", "list", "--vault", str(vault), "--format", "json")
    assert people.returncode == 0, people.stderr
    defenders = json.loads(people.stdout)
    assert defenders and all(d["display_name"].strip() for d in defenders)

    again = amparo("demo", "--vault", str(vault), "--no-serve")
    assert again.returncode == 0
    assert "Using existing vault" in again.stdout
