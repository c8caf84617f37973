"""The key file: slots that wrap one master key, and clean errors for anything odd."""

from __future__ import annotations

import base64
import json
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from amparo.errors import VaultError, WrongPassphrase
from amparo.security.keyfile import (
    RECOVERY_ALPHABET,
    KeyFile,
    new_recovery_code,
    normalise_recovery_code,
)
from tests.conftest import CHEAP_KDF, PASSPHRASE

NFC_PASSPHRASE = unicodedata.normalize("NFC", "contraseña de Ñandú, vérité")
NFD_PASSPHRASE = unicodedata.normalize("NFD", NFC_PASSPHRASE)


@pytest.fixture
def created() -> tuple[KeyFile, bytes, str]:
    return KeyFile.create(PASSPHRASE, CHEAP_KDF)


def _doc(keyfile: KeyFile) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keyfile.dumps())
    return doc


def _slot(keyfile: KeyFile, kind: str) -> dict[str, Any]:
    (slot,) = [s for s in _doc(keyfile)["slots"] if s["kind"] == kind]
    return slot


def test_create_unlock_and_recovery_give_the_master_key(
    created: tuple[KeyFile, bytes, str],
) -> None:
    keyfile, master, code = created
    assert len(master) == 32
    assert keyfile.slot_kinds == ["passphrase", "recovery"]
    assert keyfile.kdf_params("passphrase") == CHEAP_KDF
    assert keyfile.unlock(PASSPHRASE) == master
    assert keyfile.unlock_with_recovery(code) == master


def test_save_load_round_trip(tmp_path: Path, created: tuple[KeyFile, bytes, str]) -> None:
    keyfile, master, code = created
    path = tmp_path / "vault.key"
    keyfile.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyFile.load(path)
    assert loaded.vault_id == keyfile.vault_id
    assert loaded.dumps() == keyfile.dumps()
    assert loaded.unlock(PASSPHRASE) == master
    assert loaded.unlock_with_recovery(code) == master
    assert [p.name for p in tmp_path.iterdir()] == ["vault.key"]  # no temp file left behind


def test_key_file_holds_no_secret(created: tuple[KeyFile, bytes, str]) -> None:
    keyfile, master, code = created
    text = keyfile.dumps()
    assert master not in text
    assert master.hex().encode() not in text
    assert PASSPHRASE.encode() not in text
    assert code.encode() not in text
    assert normalise_recovery_code(code).replace("-", "").encode() not in text


def test_two_vaults_get_different_ids_and_masters() -> None:
    a, master_a, code_a = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    b, master_b, code_b = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    assert a.vault_id != b.vault_id
    assert master_a != master_b
    assert code_a != code_b


@pytest.mark.parametrize(
    "wrong",
    ["", "correct horse battery stapl", "Correct horse battery staple", PASSPHRASE + " "],
)
def test_wrong_passphrase(created: tuple[KeyFile, bytes, str], wrong: str) -> None:
    keyfile, _master, _code = created
    with pytest.raises(WrongPassphrase, match="passphrase does not open"):
        keyfile.unlock(wrong)


def test_recovery_code_does_not_open_the_passphrase_slot_and_vice_versa(
    created: tuple[KeyFile, bytes, str],
) -> None:
    keyfile, _master, code = created
    with pytest.raises(WrongPassphrase):
        keyfile.unlock(code)
    with pytest.raises(WrongPassphrase, match="recovery"):
        keyfile.unlock_with_recovery(PASSPHRASE)


def test_recovery_code_shape() -> None:
    code = new_recovery_code()
    groups = code.split("-")
    assert len(groups) == 6
    assert all(len(g) == 5 and set(g) <= set(RECOVERY_ALPHABET) for g in groups)


def test_recovery_code_typed_loosely(created: tuple[KeyFile, bytes, str]) -> None:
    keyfile, master, code = created
    spaced = code.lower().replace("-", " ")
    assert spaced != code
    assert keyfile.unlock_with_recovery(spaced) == master
    assert keyfile.unlock_with_recovery("  " + code.replace("-", "").lower() + "\n") == master
    assert keyfile.unlock_with_recovery(code.replace("-", " - ")) == master


def test_wrong_recovery_code(created: tuple[KeyFile, bytes, str]) -> None:
    keyfile, _master, code = created
    other = new_recovery_code()
    assert other != code
    with pytest.raises(WrongPassphrase):
        keyfile.unlock_with_recovery(other)
    with pytest.raises(WrongPassphrase):
        keyfile.unlock_with_recovery(code[:-1])


def test_set_passphrase_rewraps_only_the_passphrase_slot(
    tmp_path: Path, created: tuple[KeyFile, bytes, str]
) -> None:
    keyfile, master, code = created
    path = tmp_path / "vault.key"
    keyfile.save(path)
    before = _doc(keyfile)
    recovery_before = _slot(keyfile, "recovery")
    passphrase_before = _slot(keyfile, "passphrase")

    loaded = KeyFile.load(path)
    loaded.set_passphrase(loaded.unlock(PASSPHRASE), "a whole new passphrase")
    loaded.save(path)
    after = KeyFile.load(path)

    assert after.vault_id == before["vault_id"]
    assert _slot(after, "recovery") == recovery_before  # byte for byte
    new_slot = _slot(after, "passphrase")
    assert new_slot["salt"] != passphrase_before["salt"]
    assert new_slot["wrapped"] != passphrase_before["wrapped"]
    assert new_slot["kdf"] == passphrase_before["kdf"]
    assert sorted(after.slot_kinds) == ["passphrase", "recovery"]
    assert after.unlock("a whole new passphrase") == master
    assert after.unlock_with_recovery(code) == master
    with pytest.raises(WrongPassphrase):
        after.unlock(PASSPHRASE)


def test_rotate_recovery_rewraps_only_the_recovery_slot(
    created: tuple[KeyFile, bytes, str],
) -> None:
    keyfile, master, code = created
    passphrase_before = _slot(keyfile, "passphrase")
    new_code = keyfile.rotate_recovery(master)
    assert new_code != code
    assert _slot(keyfile, "passphrase") == passphrase_before
    assert keyfile.unlock_with_recovery(new_code) == master
    with pytest.raises(WrongPassphrase):
        keyfile.unlock_with_recovery(code)


def test_nfc_and_nfd_forms_of_a_passphrase_both_open() -> None:
    assert NFC_PASSPHRASE != NFD_PASSPHRASE
    for created_with, typed in [(NFC_PASSPHRASE, NFD_PASSPHRASE), (NFD_PASSPHRASE, NFC_PASSPHRASE)]:
        keyfile, master, _code = KeyFile.create(created_with, CHEAP_KDF)
        assert keyfile.unlock(typed) == master
        assert keyfile.unlock(created_with) == master
    keyfile, master, _code = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    keyfile.set_passphrase(master, NFD_PASSPHRASE)
    assert keyfile.unlock(NFC_PASSPHRASE) == master


# -- slots out of place -------------------------------------------------------------------
def test_slot_moved_to_another_vault_fails(tmp_path: Path) -> None:
    a, _master_a, _ = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    b, master_b, _ = KeyFile.create(PASSPHRASE, CHEAP_KDF)
    doc = _doc(b)
    doc["slots"] = [_slot(a, "passphrase"), _slot(b, "recovery")]
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    grafted = KeyFile.load(path)
    with pytest.raises(WrongPassphrase):
        grafted.unlock(PASSPHRASE)
    assert b.unlock(PASSPHRASE) == master_b


def test_vault_id_changed_fails(tmp_path: Path, created: tuple[KeyFile, bytes, str]) -> None:
    keyfile, _master, code = created
    doc = _doc(keyfile)
    doc["vault_id"] = "0" * 32
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    moved = KeyFile.load(path)
    with pytest.raises(WrongPassphrase):
        moved.unlock(PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        moved.unlock_with_recovery(code)


def test_recovery_slot_relabelled_as_passphrase_fails(
    tmp_path: Path, created: tuple[KeyFile, bytes, str]
) -> None:
    keyfile, _master, code = created
    doc = _doc(keyfile)
    relabelled = _slot(keyfile, "recovery") | {"kind": "passphrase"}
    doc["slots"] = [relabelled]
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        KeyFile.load(path).unlock(normalise_recovery_code(code))


@pytest.mark.parametrize("field", ["wrapped", "salt"])
def test_tampered_slot_bytes_fail(
    tmp_path: Path, created: tuple[KeyFile, bytes, str], field: str
) -> None:
    keyfile, _master, _code = created
    doc = _doc(keyfile)
    slot = next(s for s in doc["slots"] if s["kind"] == "passphrase")
    raw = bytearray(base64.b64decode(slot[field]))
    raw[len(raw) // 2] ^= 0x01
    slot[field] = base64.b64encode(bytes(raw)).decode()
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        KeyFile.load(path).unlock(PASSPHRASE)


# -- malformed key files ------------------------------------------------------------------
def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match=r"no key file.*amparo init"):
        KeyFile.load(tmp_path / "vault.key")


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"not json at all", b"\xff\xfe\x00garbage", b'{"format": "amparo-keyfile",'],
)
def test_key_file_that_is_not_json(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "vault.key"
    path.write_bytes(content)
    with pytest.raises(VaultError, match="not valid JSON"):
        KeyFile.load(path)


def _mutations() -> list[tuple[str, Any, str]]:
    def drop(key: str) -> Any:
        return lambda d: d.pop(key)

    def slot0(**values: Any) -> Any:
        return lambda d: d["slots"][0].update(values)

    return [
        ("wrong format", lambda d: d.update(format="luks"), "unsupported format"),
        ("future version", lambda d: d.update(version=2), "unsupported format"),
        ("no format", drop("format"), "malformed"),
        ("no slots", drop("slots"), "malformed"),
        ("no vault id", drop("vault_id"), "malformed"),
        ("slots not a list", lambda d: d.update(slots=[1, 2]), "malformed"),
        ("slot without salt", lambda d: d["slots"][0].pop("salt"), "malformed"),
        ("salt not base64", slot0(salt="***"), "malformed"),
        ("wrapped not base64", slot0(wrapped="é"), "malformed"),
        ("salt a number", slot0(salt=12), "malformed"),
        ("kdf not numbers", slot0(kdf={"t": "x", "m": 8, "p": 1}), "malformed"),
        ("kdf missing", slot0(kdf={}), "malformed"),
    ]


@pytest.mark.parametrize(("name", "mutate", "message"), _mutations(), ids=lambda x: str(x))
def test_malformed_key_file(
    tmp_path: Path, created: tuple[KeyFile, bytes, str], name: str, mutate: Any, message: str
) -> None:
    keyfile, _master, _code = created
    doc = _doc(keyfile)
    mutate(doc)
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(VaultError, match=message) as info:
        KeyFile.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("document", ["null", "42", '"text"', "[]"])
def test_key_file_json_of_the_wrong_shape(tmp_path: Path, document: str) -> None:
    path = tmp_path / "vault.key"
    path.write_text(document)
    with pytest.raises(VaultError, match="malformed"):
        KeyFile.load(path)


def test_key_file_without_a_passphrase_slot(
    tmp_path: Path, created: tuple[KeyFile, bytes, str]
) -> None:
    keyfile, master, code = created
    doc = _doc(keyfile)
    doc["slots"] = [_slot(keyfile, "recovery")]
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    loaded = KeyFile.load(path)
    with pytest.raises(VaultError, match="no passphrase slot"):
        loaded.unlock(PASSPHRASE)
    assert loaded.unlock_with_recovery(code) == master


@pytest.mark.parametrize(
    "slot_change",
    [
        {"kdf": {"t": 0, "m": 8, "p": 1}},
        {"kdf": {"t": 1, "m": 0, "p": 1}},
        {"kdf": {"t": 1, "m": 8, "p": 0}},
        {"salt": "AAAA"},  # 3 bytes: below Argon2's minimum salt
    ],
    ids=["t=0", "m=0", "p=0", "short-salt"],
)
def test_tampered_kdf_parameters_give_a_vault_error(
    tmp_path: Path, created: tuple[KeyFile, bytes, str], slot_change: dict[str, Any]
) -> None:
    keyfile, _master, _code = created
    doc = _doc(keyfile)
    next(s for s in doc["slots"] if s["kind"] == "passphrase").update(slot_change)
    path = tmp_path / "vault.key"
    path.write_text(json.dumps(doc))
    with pytest.raises(VaultError):
        KeyFile.load(path).unlock(PASSPHRASE)
