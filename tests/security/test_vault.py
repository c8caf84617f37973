"""Unlocking real vaults: wrong secrets fail cleanly, re-keying touches the key slot only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amparo.clock import Clock
from amparo.errors import VaultError, WrongPassphrase
from amparo.registry import Registry
from amparo.security.keyfile import KeyFile
from amparo.settings import Settings
from amparo.vault import UNLOCK_FAILURES, InitResult, change_passphrase, init_vault, recover_vault
from tests import factories
from tests.conftest import CHEAP_KDF, PASSPHRASE, PG_URL
from tests.security.leaks import database_dump, vault_files

NEW_PASSPHRASE = "una frase de paso completamente nueva"


def _open(vault_dir: Path, passphrase: str = PASSPHRASE) -> Registry:
    return Registry.open(vault_dir, passphrase, clock=Clock(), actor="tester")


def _populate(vault_dir: Path) -> tuple[str, str]:
    with _open(vault_dir) as reg:
        defender = reg.defenders.add(factories.defender())
        assert defender.id
        incident = reg.incidents.add(
            factories.incident(
                acts=[{"act_type": "A09", "victim_defender_id": defender.id}],
                perpetrators=[],
            )
        )
        assert incident.id
        reg.incidents.amend(incident.id, {"title": "Amended title"})
        return defender.id, incident.id


def _assert_readable(vault_dir: Path, passphrase: str, ids: tuple[str, str]) -> None:
    defender_id, incident_id = ids
    with _open(vault_dir, passphrase) as reg:
        assert reg.defenders.get(defender_id).display_name == "Berta Flores"
        assert reg.defenders.get(defender_id).close_people[0].name == "Laura Flores"
        incident = reg.incidents.get(incident_id)
        assert incident.title == "Amended title"
        assert incident.narrative == factories.incident()["narrative"]
        assert [s.id for s in reg.defenders.search("Flores")] == [defender_id]
        first = reg.incidents.versions.snapshot(incident_id, 1)
        assert first is not None
        assert first["title"] == factories.incident()["title"]


def _slots(vault_dir: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(Settings.load(vault_dir).key_file.read_bytes())
    return {s["kind"]: s for s in doc["slots"]}


def _records(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The dump without the audit trail (key operations are audited, by design)."""
    out = {name: rows for name, rows in dump.items() if not name.startswith("audit")}
    out["meta"] = [row for row in dump.get("meta", []) if not str(row[0]).startswith("audit")]
    return out


def _state(vault_dir: Path) -> tuple[dict[Path, bytes], dict[str, list[tuple[Any, ...]]]]:
    url = Settings.load(vault_dir).database_url
    dump = database_dump(url)
    return vault_files(vault_dir), dump


def test_wrong_passphrase_fails_and_leaves_everything_untouched(vault_dir: Path) -> None:
    ids = _populate(vault_dir)
    files_before, rows_before = _state(vault_dir)
    assert rows_before["incidents"] and rows_before["defenders"]

    for wrong in ("", "wrong passphrase", PASSPHRASE.upper(), PASSPHRASE + " "):
        with pytest.raises(WrongPassphrase, match="passphrase does not open this vault"):
            Registry.open(vault_dir, wrong)

    files_after, rows_after = _state(vault_dir)
    # Only the note of the failed attempts is new: times and slot, never what was typed.
    failures = (vault_dir / UNLOCK_FAILURES).read_text("ascii").splitlines()
    assert len(failures) == 4 and all(line.endswith(" passphrase") for line in failures)
    del files_after[vault_dir / UNLOCK_FAILURES]
    assert files_after == files_before
    assert rows_after == rows_before
    _assert_readable(vault_dir, PASSPHRASE, ids)


def test_failed_unlocks_reach_the_audit_log(vault_dir: Path) -> None:
    for wrong in ("nope", "still wrong"):
        with pytest.raises(WrongPassphrase):
            Registry.open(vault_dir, wrong)
    with Registry.open(vault_dir, PASSPHRASE) as reg:
        entries = reg.audit.entries(action="vault.unlock_failed")
        assert len(entries) == 2
        assert reg.audit.verify().ok
    assert not (vault_dir / UNLOCK_FAILURES).exists()
    for entry in entries:
        assert "nope" not in repr(entry) and "still wrong" not in repr(entry)


def test_recovery_code_is_not_a_passphrase(tmp_path: Path) -> None:
    other = init_vault(tmp_path / "other", PASSPHRASE, kdf=CHEAP_KDF)
    with pytest.raises(WrongPassphrase):
        Registry.open(other.settings.vault_dir, other.recovery_code)


def test_missing_key_file_is_a_clean_error(vault_dir: Path) -> None:
    Settings.load(vault_dir).key_file.unlink()
    with pytest.raises(VaultError, match="no key file"):
        Registry.open(vault_dir, PASSPHRASE)


def test_key_file_of_another_vault_is_refused(vault_dir: Path) -> None:
    ids = _populate(vault_dir)
    key_path = Settings.load(vault_dir).key_file
    own_key = key_path.read_bytes()
    foreign, _master, _code = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    foreign.save(key_path)
    _files, rows_before = _state(vault_dir)

    with pytest.raises(VaultError, match="does not belong to this database"):
        Registry.open(vault_dir, PASSPHRASE)

    assert database_dump(Settings.load(vault_dir).database_url) == rows_before
    key_path.write_bytes(own_key)
    _assert_readable(vault_dir, PASSPHRASE, ids)


@pytest.mark.skipif(bool(PG_URL), reason="the vault's own SQLite file")
def test_missing_database_is_a_clean_error_and_creates_nothing(tmp_path: Path) -> None:
    vault = init_vault(tmp_path / "v", PASSPHRASE, kdf=CHEAP_KDF).settings.vault_dir
    (vault / "amparo.db").rename(tmp_path / "elsewhere.db")
    with pytest.raises(VaultError, match=r"(?i)database"):
        Registry.open(vault, PASSPHRASE)
    assert not (vault / "amparo.db").exists()


def test_init_refuses_an_existing_vault(vault_dir: Path, database_url: str | None) -> None:
    key_before = Settings.load(vault_dir).key_file.read_bytes()
    with pytest.raises(VaultError, match="already holds a vault"):
        init_vault(vault_dir, PASSPHRASE, database_url=database_url, kdf=CHEAP_KDF)
    assert Settings.load(vault_dir).key_file.read_bytes() == key_before


def test_init_refuses_a_short_passphrase(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="at least 8"):
        init_vault(tmp_path / "v", "short", kdf=CHEAP_KDF)
    assert not (tmp_path / "v").exists()


def test_change_passphrase(vault_dir: Path) -> None:
    ids = _populate(vault_dir)
    slots_before = _slots(vault_dir)
    _files, rows_before = _state(vault_dir)
    key_file = Settings.load(vault_dir).key_file
    master = KeyFile.load(key_file).unlock(PASSPHRASE)

    change_passphrase(vault_dir, PASSPHRASE, NEW_PASSPHRASE)

    assert KeyFile.load(key_file).unlock(NEW_PASSPHRASE) == master

    slots_after = _slots(vault_dir)
    assert slots_after["recovery"] == slots_before["recovery"]
    assert slots_after["passphrase"]["wrapped"] != slots_before["passphrase"]["wrapped"]
    assert slots_after["passphrase"]["kdf"] == slots_before["passphrase"]["kdf"]
    # No record was touched: re-keying is the key slot only.
    assert _records(database_dump(Settings.load(vault_dir).database_url)) == _records(rows_before)
    with pytest.raises(WrongPassphrase):
        Registry.open(vault_dir, PASSPHRASE)
    _assert_readable(vault_dir, NEW_PASSPHRASE, ids)


def test_change_passphrase_with_the_wrong_old_one_changes_nothing(vault_dir: Path) -> None:
    key_file = Settings.load(vault_dir).key_file
    before = key_file.read_bytes()
    with pytest.raises(WrongPassphrase):
        change_passphrase(vault_dir, "not the passphrase", NEW_PASSPHRASE)
    with pytest.raises(VaultError, match="at least 8"):
        change_passphrase(vault_dir, PASSPHRASE, "short")
    assert key_file.read_bytes() == before
    _open(vault_dir).close()


@pytest.fixture
def recoverable(tmp_path: Path, database_url: str | None) -> InitResult:
    """A vault whose recovery code we know (the vault_dir fixture does not keep it)."""
    return init_vault(
        tmp_path / "recoverable", PASSPHRASE, database_url=database_url, kdf=CHEAP_KDF
    )


def test_recover_vault(recoverable: InitResult) -> None:
    result = recoverable
    vault = result.settings.vault_dir
    ids = _populate(vault)
    slots_before = _slots(vault)
    master = KeyFile.load(result.settings.key_file).unlock(PASSPHRASE)

    new_code = recover_vault(vault, result.recovery_code.lower().replace("-", " "), NEW_PASSPHRASE)

    assert new_code != result.recovery_code
    slots_after = _slots(vault)
    assert slots_after["recovery"]["wrapped"] != slots_before["recovery"]["wrapped"]
    keyfile = KeyFile.load(result.settings.key_file)
    assert keyfile.unlock(NEW_PASSPHRASE) == master
    assert keyfile.unlock_with_recovery(new_code) == master
    with pytest.raises(WrongPassphrase):
        Registry.open(vault, PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        recover_vault(vault, result.recovery_code, "yet another passphrase")
    _assert_readable(vault, NEW_PASSPHRASE, ids)


def test_recover_vault_with_a_wrong_code_changes_nothing(vault_dir: Path) -> None:
    key_file = Settings.load(vault_dir).key_file
    before = key_file.read_bytes()
    with pytest.raises(WrongPassphrase):
        recover_vault(vault_dir, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF", NEW_PASSPHRASE)
    with pytest.raises(VaultError, match="at least 8"):
        recover_vault(vault_dir, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF", "short")
    assert key_file.read_bytes() == before


def test_vault_directory_and_key_file_are_private(vault_dir: Path) -> None:
    assert vault_dir.stat().st_mode & 0o077 == 0
    assert Settings.load(vault_dir).key_file.stat().st_mode & 0o077 == 0
