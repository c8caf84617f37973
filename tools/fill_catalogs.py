"""Merge translations into the catalogs: ``python tools/fill_catalogs.py TABLE.py``.

TABLE.py defines ``T = {msgid: (es, fr, pt, ar)}``. Each catalog gets every msgid of
``messages.pot``; a translation from the table replaces the catalog's, others are kept.
Used to add a batch of strings written together (a page, a form) in one step.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parents[1] / "amparo" / "web" / "locale"
ORDER = ("es", "fr", "pt", "ar")


def main(tables: list[str]) -> None:
    table: dict[str, tuple[str, ...]] = {}
    for path in tables:
        table.update(runpy.run_path(path)["T"])
    with (LOCALE / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    for position, lang in enumerate(ORDER):
        target = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        old: Catalog | None = None
        if target.exists():
            with target.open("rb") as handle:
                old = read_po(handle, locale=lang)
        catalog = Catalog(locale=lang, project="Amparo", fuzzy=False)
        for message in template:
            if not message.id:
                continue
            text = table.get(message.id, (None,) * len(ORDER))[position]
            if text is None and old is not None and old.get(message.id) is not None:
                text = old[message.id].string
            catalog.add(message.id, text or "", context=message.context)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, sort_output=True, width=100,
                     no_location=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
