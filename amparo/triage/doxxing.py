"""Doxxing: personal details published to expose a defender (or their family) to attack.

Finds phone numbers, e-mail addresses, street addresses, identity-document numbers,
coordinates and map links, and sentences about where the person or their children live or
study ("we know where you live", "el colegio de tus hijos"), in English, Spanish, Portuguese
and French. Each finding says what it is and where it is, and shows it masked (the triage
result must not repeat the details it warns about).

Patterns favour recall on what matters (a phone number or an address next to a threat is an
emergency) and avoid the usual false alarms: years, dates, times, prices, counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amparo.triage.normalise import INVISIBLE

__all__ = ["KINDS", "Finding", "find"]

KINDS = {
    "phone": "phone number",
    "email": "e-mail address",
    "address": "street address",
    "id_number": "identity document number",
    "coordinates": "coordinates or a map link",
    "home_or_school": "where the person or their family lives or studies",
}


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of KINDS
    start: int  # in the text given to find()
    end: int
    masked: str  # the match with its letters and digits hidden, but for the last two


def _mask(text: str) -> str:
    keep = 2
    chars = list(text)
    hidden = [i for i, c in enumerate(chars) if c.isalnum()]
    for i in hidden[:-keep] if len(hidden) > keep else hidden:
        chars[i] = "•"
    return "".join(chars)


EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# Seven to fifteen digits with the separators people write; a leading + or 00 for country.
PHONE = re.compile(r"(?<![\w+/.,:-])(?:\+|00)?\d(?:[\s().-]{0,2}\d){6,14}(?![\w/])")
DATE_LIKE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|(?:19|20)\d{2}\s*[-/]\s*\d{1,4})$"  # dates, year ranges, numbered acts (2005-114)
)
STREET_WORDS = (
    # English
    r"street|st\.?|avenue|ave\.?|road|rd\.?|lane|ln\.?|boulevard|blvd\.?|drive|dr\.?|court|ct\.?|"
    r"place|pl\.?|way|terrace|crescent|close"
)
ADDRESS = re.compile(
    "|".join(
        [
            # 221B Baker Street / 12 Elm St
            rf"\b\d{{1,5}}[a-z]?\s+(?:[A-Z][\w'-]+\s+){{1,4}}(?:{STREET_WORDS})\b",
            # Calle 10 # 5-20, Carrera 7 No. 45-12, Cra. 7 n° 45 - 12, Av. Jiménez 4-80
            r"\b(?:calle|cl\.?|carrera|cra\.?|kr\.?|avenida|av\.?|avda\.?|diagonal|dg\.?|"
            r"transversal|tv\.?|jir[oó]n|jr\.?|pasaje|psje\.?|calzada|callej[oó]n)\s+"
            r"[\w.'-]+(?:\s+[\w.'-]+){0,3}?\s*(?:#|no\.?|n[°º]|núm(?:ero)?\.?)\s*\d{1,4}[a-z]?"
            r"(?:\s*-\s*\d{1,4})?",
            # Calle Mayor 15, Rua das Flores 123, Avenida Paulista, 1000
            r"\b(?:calle|avenida|rua|avenue|travessa|alameda|rue|boulevard|chemin|impasse)\s+"
            r"(?:(?:de|del|la|las|los|das|dos|da|do|des|du|le|la)\s+)?[A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w'-]+"
            r"(?:\s+[A-ZÁÉÍÓÚÂÊÔÃÕÇ][\w'-]+){0,3},?\s+(?:n[°º.]?\s*)?\d{1,5}[a-z]?\b",
            # 12 rue de la Paix, 5 avenue Foch (French: number first, lower-case street word)
            r"\b\d{1,4}(?:\s*(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|chemin|impasse|allée|place)"
            r"\s+(?:(?:de|du|des|la|le|l')\s*)*[A-Z][\w'-]+",
        ]
    ),
    re.IGNORECASE,
)
ID_NUMBER = re.compile(
    "|".join(
        [
            r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b",  # Mexico: CURP
            r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b",  # Brazil: CPF
            r"\b\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}\b",  # Brazil: CNPJ
            r"\b\d{8}-?[A-HJ-NP-TV-Z]\b",  # Spain: DNI
            r"\b[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z]\b",  # Spain: NIE
            r"\b\d{3}-\d{2}-\d{4}\b",  # United States: SSN
            # A number right after the name of a document: cédula 1.023.456.789, DNI 12.345.678,
            # passport X1234567, RG 12.345.678-9, C.C. 80123456
            r"(?:\b(?:c[ée]dula(?:\s+de\s+ciudadan[ií]a)?|c\.\s?c\.|cc|dni|dui|rut|run|curp|cpf|rg|"
            r"nif|nie|ine|passport|pasaporte|passaporte|passeport|id(?:\s+number)?|ssn|"
            r"documento(?:\s+de\s+identidad)?|carte\s+d'identit[ée])(?!\w)[\s:#nº°.-]{0,4})"
            r"[A-Z]{0,2}\d[\d.\s-]{4,14}\d[A-Z0-9]?",
        ]
    ),
    re.IGNORECASE,
)
COORDINATES = re.compile(
    "|".join(
        [
            r"(?<![\d.])-?\d{1,2}\.\d{4,},\s*-?\d{1,3}\.\d{4,}(?![\d.])",  # 4.7110, -74.0721
            # 4°42'40"N 74°04'13"W
            r"\b\d{1,2}°\s*\d{1,2}['′]\s*(?:\d{1,2}(?:\.\d+)?[\"″]\s*)?[NS]\s*,?\s*"
            r"\d{1,3}°\s*\d{1,2}['′]\s*(?:\d{1,2}(?:\.\d+)?[\"″]\s*)?[EWO]\b",
            r"(?:https?://)?(?:www\.)?(?:google\.[a-z.]+/maps|maps\.google\.[a-z.]+|goo\.gl/maps|"
            r"maps\.app\.goo\.gl|openstreetmap\.org|waze\.com/ul|what3words\.com)\S*",
            r"///[a-z]+\.[a-z]+\.[a-z]+",  # what3words
        ]
    ),
    re.IGNORECASE,
)
# Where someone lives or where their children study, said to or about them.
HOME_OR_SCHOOL = re.compile(
    "|".join(
        [
            # English
            r"\b(?:we|i|they)\s+know\s+where\s+(?:you|she|he|they|your\s+\w+)\s+(?:live|lives|sleep|"
            r"sleeps|study|studies|go(?:es)?\s+to\s+school|work|works)\b",
            r"\b(?:your|her|his|their)\s+(?:kids'?|children'?s?|son'?s?|daughter'?s?|family'?s?)\s+"
            r"(?:school|kindergarten|nursery|home|house|address|bus\s+stop)\b",
            r"\b(?:her|his|your)\s+(?:home\s+)?address\s+is\b",
            r"\b(?:she|he)\s+lives\s+(?:at|on|in)\b",
            r"\b(?:picks?\s+up|drops?\s+off)\s+(?:her|his|your|the)\s+(?:kids|children|son|daughter)\b",
            # Spanish
            r"\b(?:sabemos|s[ée]|saben|conocemos)\s+d[oó]nde\s+(?:vive|vives|viven|duerme|duermes|"
            r"estudia|estudias|estudian|trabaja|trabajas|queda\s+tu\s+casa)\b",
            r"\b(?:el|la)\s+(?:colegio|escuela|guarder[ií]a|jard[ií]n|casa|direcci[oó]n)\s+de\s+"
            r"(?:tus|sus)\s+(?:hij[oa]s?|niñ[oa]s?|nietos?|familia)\b",
            r"\b(?:tus|sus)\s+(?:hij[oa]s?|niñ[oa]s?)\s+(?:estudian|van)\s+(?:en|a)\b",
            r"\b(?:vive|vives)\s+en\s+(?:la\s+)?(?:calle|carrera|avenida|barrio|vereda|urbanizaci[oó]n)\b",
            r"\bsu\s+direcci[oó]n\s+es\b",
            # Portuguese
            r"\b(?:sabemos|sei|sabem)\s+onde\s+(?:voc[eê]\s+)?(?:mora|moram|vive|estuda|estudam|"
            r"trabalha|dorme)\b",
            r"\ba\s+(?:escola|creche|casa)\s+d(?:os|as|o|a)\s+(?:seus|suas|teus|tuas)?\s*"
            r"(?:filh[oa]s?|crian[çc]as|netos?)\b",
            r"\bo\s+endere[çc]o\s+dela\s+[ée]\b",
            # French
            r"\b(?:on|je|nous)\s+sai[st]\s+o[uù]\s+(?:tu|vous|elle|il)\s+(?:habite|habites|habitez|"
            r"vit|vis|dors|travaille)\b",
            r"\bl'[ée]cole\s+de\s+(?:tes|ses|vos)\s+(?:enfants|fils|filles?|gosses)\b",
            r"\bson\s+adresse\s+(?:est|c'est)\b",
        ]
    ),
    re.IGNORECASE,
)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def find(text: str) -> list[Finding]:
    """Every personal detail found in ``text`` (a message as written), in order of position."""
    text = INVISIBLE.sub("", text)
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < b and a < end for a, b in taken):
            return  # already part of a finding (a phone number inside an ID, say)
        taken.append((start, end))
        found.append(Finding(kind, start, end, _mask(text[start:end])))

    for pattern, kind in ((COORDINATES, "coordinates"), (EMAIL, "email"),
                          (ID_NUMBER, "id_number"), (ADDRESS, "address"),
                          (HOME_OR_SCHOOL, "home_or_school")):  # fmt: skip
        for m in pattern.finditer(text):
            if kind == "id_number" and _digits(m.group(0)) < 6:
                continue
            add(kind, m.start(), m.end())
    for m in PHONE.finditer(text):
        candidate = m.group(0).strip()
        digits = _digits(candidate)
        if not 7 <= digits <= 15 or DATE_LIKE.match(candidate):
            continue
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", candidate):
            continue  # 1,000,000 or 12.345.678 without a document name: a count or amount
        if re.fullmatch(r"\d+\.\d+", candidate):
            continue  # a decimal number
        add("phone", m.start(), m.start() + len(m.group(0).rstrip()))
    return sorted(found, key=lambda f: f.start)
