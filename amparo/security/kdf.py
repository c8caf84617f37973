"""Argon2id key derivation for the vault's key slots.

The vault floor (256 MiB, t=3, p=1) costs about one second on a modest laptop: cheap for a
person unlocking once, expensive for someone guessing passphrases from a seized key file.
Parameters are stored in each key slot, so tests create vaults with cheap parameters through a
fixture and the code path stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

__all__ = ["VAULT_FLOOR", "KdfParams", "derive_key"]


@dataclass(frozen=True, slots=True)
class KdfParams:
    time_cost: int  # passes over memory
    memory_kib: int  # KiB of memory per derivation
    parallelism: int  # lanes

    def as_dict(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> KdfParams:
        return cls(time_cost=int(data["t"]), memory_kib=int(data["m"]), parallelism=int(data["p"]))

    def below(self, other: KdfParams) -> bool:
        return self.time_cost < other.time_cost or self.memory_kib < other.memory_kib


VAULT_FLOOR = KdfParams(time_cost=3, memory_kib=256 * 1024, parallelism=1)


def derive_key(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )
