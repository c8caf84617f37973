"""Regenerate ``amparo/vocab/countries.csv`` from pycountry (ISO 3166-1).

Run from the repository root with the dev dependencies installed::

    .venv/bin/python tools/gen_countries.py

pycountry is a development dependency only: Amparo reads the generated CSV at runtime and never
imports pycountry. Labels come from the iso-codes gettext catalogues shipped with pycountry;
English uses the common name where ISO gives one ("Bolivia" rather than "Bolivia,
Plurinational State of"). A short table of corrections fixes the few catalogue entries that are
wrong or missing (a typo, an untranslated name, Moldova translated as the Maldives in Arabic).
"""

from __future__ import annotations

import csv
import gettext
import sys
from pathlib import Path

import pycountry

OUTPUT = Path(__file__).resolve().parent.parent / "amparo" / "vocab" / "countries.csv"

# Column language -> gettext catalogue. Portuguese uses the Brazilian catalogue (which falls back
# to European Portuguese for missing entries): most Portuguese-speaking users of Amparo are in
# Brazil, and the hand-written vocabularies use Brazilian spelling too.
CATALOGUES = {"es": "es", "fr": "fr", "pt": "pt_BR", "ar": "ar"}

# (language, alpha-2) -> label, for catalogue entries that are wrong, misspelt or missing.
CORRECTIONS: dict[tuple[str, str], str] = {
    ("es", "AX"): "Islas Åland",
    ("es", "BF"): "Burkina Faso",
    ("es", "CI"): "Costa de Marfil",
    ("es", "DZ"): "Argelia",
    ("es", "KM"): "Comoras",
    ("es", "NE"): "Níger",
    ("es", "SR"): "Surinam",
    ("es", "TN"): "Túnez",
    ("es", "VG"): "Islas Vírgenes Británicas",
    ("es", "VI"): "Islas Vírgenes de los Estados Unidos",
    ("pt", "BF"): "Burkina Faso",
    ("pt", "BY"): "Bielorrússia",
    ("pt", "ER"): "Eritreia",
    ("pt", "IR"): "Irã",
    ("ar", "IR"): "إيران",
    ("ar", "KP"): "كوريا الشمالية",
    ("ar", "KR"): "كوريا الجنوبية",
    ("ar", "LA"): "لاوس",
    ("ar", "MD"): "مولدوفا",
    ("ar", "RS"): "صربيا",
    ("ar", "SY"): "سوريا",
    ("ar", "TR"): "تركيا",
    ("ar", "VA"): "الكرسي الرسولي (دولة مدينة الفاتيكان)",
}

HEADER = ["code", "label_en", "label_es", "label_fr", "label_pt", "label_ar", "alpha3", "numeric"]


class _Missing(gettext.NullTranslations):
    """Last fallback of a catalogue: answers "" so that an untranslated name is detectable."""

    def gettext(self, message: str) -> str:
        return ""


def _catalogue(lang: str) -> gettext.NullTranslations:
    translations = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    translations.add_fallback(_Missing())
    return translations


def build_rows() -> list[list[str]]:
    catalogues = {column: _catalogue(lang) for column, lang in CATALOGUES.items()}
    rows = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        common = getattr(country, "common_name", None)
        labels = [common or country.name]
        for column, catalogue in catalogues.items():
            label = CORRECTIONS.get((column, country.alpha_2))
            if label is None and common:
                label = catalogue.gettext(common)
            if not label:
                label = catalogue.gettext(country.name)
            labels.append(label)
        rows.append([country.alpha_2, *labels, country.alpha_3, country.numeric])
    return rows


def main() -> int:
    rows = build_rows()
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"wrote {len(rows)} countries to {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
