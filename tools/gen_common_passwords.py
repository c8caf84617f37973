"""Regenerate ``amparo/security/data/common_passwords.txt`` from zxcvbn's frequency list.

Run from the repository root with the dev dependencies installed::

    .venv/bin/python tools/gen_common_passwords.py

zxcvbn is a development dependency only: Amparo reads the generated file at runtime and never
imports zxcvbn. zxcvbn ranks 30,000 passwords by how often they appeared in leaked password
dumps; we keep the 20,000 most frequent, case-folded and de-duplicated, in rank order, one a
line. That is the "commonly used or compromised values" check NIST SP 800-63B asks for
(section 5.1.1.2): small enough to ship (about 160 KB), large enough to stop the guesses an
online attacker tries first.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

OUTPUT = (
    Path(__file__).resolve().parent.parent / "amparo" / "security" / "data" / "common_passwords.txt"
)
TOP = 20_000  # passwords kept, most frequent first


def common_passwords(top: int = TOP) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for password in FREQUENCY_LISTS["passwords"]:
        folded = unicodedata.normalize("NFC", password.strip()).casefold()
        if folded and "\n" not in folded and folded not in seen:
            seen.add(folded)
            kept.append(folded)
        if len(kept) == top:
            break
    return kept


def main() -> int:
    passwords = common_passwords()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(passwords) + "\n", encoding="utf-8")
    print(f"wrote {len(passwords)} passwords to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
