"""Controlled vocabularies: the coded term lists behind every categorical field.

Each vocabulary is one CSV file in the ``amparo.vocab`` package (UTF-8, header row)::

    code,label_en,label_es,label_fr,label_pt,label_ar[,extra attribute columns...]

English and Spanish labels are required; French, Portuguese and Arabic may be empty and fall
back to English. Extra columns are kept as string attributes of each term (for act types: the
severity group and the crosswalk to other registries, see docs/DOMAIN.md section 2).

Files are read once, on first use, and validated as they load: a bad header, a duplicate or
malformed code, a missing required label or a bad attribute value stops the load with a
:class:`VocabularyFileError` that names the file and line.

Run ``python -m amparo.domain.vocabularies > docs/vocabularies.md`` to regenerate the docs page.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType

from amparo.errors import ValidationError

__all__ = [
    "CROSSWALK_SCHEMES",
    "LANGUAGES",
    "REQUIRED_LANGUAGES",
    "VOCABULARY_NAMES",
    "Term",
    "Vocabularies",
    "Vocabulary",
    "VocabularyFileError",
    "act_severity",
    "crosswalk",
    "load_vocabularies",
    "load_vocabulary_file",
    "render_markdown",
]

LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "pt", "ar")
REQUIRED_LANGUAGES: tuple[str, ...] = ("en", "es")
LABEL_COLUMNS: tuple[str, ...] = tuple(f"label_{lang}" for lang in LANGUAGES)

CROSSWALK_SCHEMES: tuple[str, ...] = (
    "huridocs",
    "front_line_defenders",
    "bhrrc",
    "im_defensoras",
    "sdg_16_10_1",
)

#: The vocabularies Amparo ships, in the order the docs list them. All must be present.
VOCABULARY_NAMES: tuple[str, ...] = (
    "act_types",
    "gender_features",
    "yes_no_unknown",
    "target_relations",
    "modalities",
    "perpetrator_types",
    "involvement_degrees",
    "defender_kinds",
    "sexes",
    "gender_identities",
    "sexual_orientations",
    "age_bands",
    "sectors",
    "source_types",
    "reliability",
    "violation_status",
    "date_precision",
    "location_precision",
    "counting_units",
    "chain_relations",
    "intervention_status",
    "priorities",
    "consent_purposes",
    "countries",
)

_VOCAB_PACKAGE = "amparo.vocab"
_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_CODE_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "act_types": re.compile(r"A[0-9]{2}"),
    "countries": re.compile(r"[A-Z]{2}"),
}
_CODE_RULES: Mapping[str, str] = {
    "act_types": "'A' and two digits",
    "countries": "two uppercase letters (ISO 3166-1 alpha-2)",
}


def _one_of(*allowed: str) -> Callable[[str], bool]:
    return lambda value: value in allowed


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


# Extra columns some vocabularies must have, with a check of each value and its description.
_REQUIRED_ATTRIBUTES: Mapping[str, Mapping[str, tuple[Callable[[str], bool], str]]] = {
    "act_types": {
        "severity": (_one_of("1", "2", "3", "4"), "1, 2, 3 or 4"),
        **{scheme: (lambda value: True, "any text") for scheme in CROSSWALK_SCHEMES},
    },
    "perpetrator_types": {"state": (_one_of("yes", "no", ""), "'yes', 'no' or empty")},
    "countries": {
        "alpha3": (_matches(r"[A-Z]{3}"), "three uppercase letters"),
        "numeric": (_matches(r"[0-9]{3}"), "three digits"),
    },
}


class VocabularyFileError(ValidationError):
    """A vocabulary CSV file is malformed. ``path`` names the file, ``row`` the line (1 = header).

    ``field`` is the file name, or ``file:column`` when one column is at fault.
    """

    def __init__(
        self, path: str, message: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        name = Path(path).name
        super().__init__(f"{name}:{column}" if column else name, message, row=line)
        self.path = path
        where = f"{path}, line {line}" if line is not None else path
        self.args = (f"{where}: {message}",)


def _normalise_language(lang: str) -> str:
    """``"es-MX"``, ``"pt_BR"``, ``"FR"`` -> ``"es"``, ``"pt"``, ``"fr"``."""
    return lang.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class Term:
    """One coded term. ``labels`` holds only the non-empty labels; English is always there."""

    code: str
    labels: Mapping[str, str] = field(hash=False)
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` (``"es"``, ``"es-MX"``...), falling back to English."""
        return self.labels.get(_normalise_language(lang)) or self.labels["en"]


class Vocabulary:
    """An ordered list of terms with unique codes."""

    __slots__ = ("_index", "name", "terms")

    def __init__(self, name: str, terms: Sequence[Term]) -> None:
        self.name = name
        self.terms: tuple[Term, ...] = tuple(terms)
        index: dict[str, Term] = {}
        for term in self.terms:
            if term.code in index:
                raise ValueError(f"duplicate code {term.code!r} in vocabulary {name!r}")
            index[term.code] = term
        self._index: Mapping[str, Term] = MappingProxyType(index)

    def __repr__(self) -> str:
        return f"<Vocabulary {self.name!r}: {len(self.terms)} terms>"

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes, in file order."""
        return tuple(term.code for term in self.terms)

    def term(self, code: str) -> Term:
        """The term with this code; ``KeyError`` if there is none."""
        try:
            return self._index[code]
        except KeyError:
            raise KeyError(f"unknown code {code!r} in vocabulary {self.name!r}") from None

    def label(self, code: str, lang: str = "en") -> str:
        """The label of ``code`` in ``lang`` (English fallback); ``KeyError`` if unknown."""
        return self.term(code).label(lang)

    def check(self, field: str, code: str) -> str:
        """Return ``code`` if it belongs to this vocabulary, else raise ``ValidationError``.

        The message suggests what was probably meant (``'co'`` or ``'Colombia'`` -> ``'CO'``)
        and lists some valid codes.
        """
        if code in self:
            return code
        raise ValidationError(field, self._unknown_code_message(code))

    def _unknown_code_message(self, code: object) -> str:
        message = f"unknown code {code!r} in vocabulary {self.name!r}"
        suggestions = self._suggestions(code) if isinstance(code, str) else []
        if suggestions:
            message += " (did you mean " + " or ".join(map(repr, suggestions)) + "?)"
        shown = self.codes[:6]
        more = f", ... ({len(self.codes)} in all)" if len(self.codes) > len(shown) else ""
        return f"{message}; valid codes include {', '.join(shown)}{more}"

    def _suggestions(self, text: str) -> list[str]:
        """Codes the user probably meant: same code in another case, a label, or a near miss."""
        folded = text.strip().casefold()
        if not folded:
            return []
        exact = [
            term.code
            for term in self.terms
            if term.code.casefold() == folded
            or any(label.casefold() == folded for label in term.labels.values())
        ]
        if exact:
            return exact[:3]
        by_folded = {code.casefold(): code for code in self.codes}
        close = difflib.get_close_matches(folded, list(by_folded), n=3, cutoff=0.6)
        return [by_folded[c] for c in close]


class Vocabularies:
    """All vocabularies by name."""

    __slots__ = ("_by_name",)

    def __init__(self, vocabularies: Sequence[Vocabulary]) -> None:
        self._by_name: Mapping[str, Vocabulary] = MappingProxyType(
            {vocabulary.name: vocabulary for vocabulary in vocabularies}
        )

    def __getitem__(self, name: str) -> Vocabulary:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise KeyError(f"no vocabulary named {name!r}; known: {known}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __iter__(self) -> Iterator[Vocabulary]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> tuple[str, ...]:
        """Vocabulary names in docs order."""
        return tuple(self._by_name)


def _as_traversable(source: str | os.PathLike[str] | Traversable) -> Traversable:
    if isinstance(source, str | os.PathLike):
        return Path(source)
    return source


def load_vocabulary_file(source: str | os.PathLike[str] | Traversable) -> Vocabulary:
    """Read and validate one vocabulary CSV. The vocabulary is named after the file stem.

    Raises :class:`VocabularyFileError` naming the file and line for a bad header, a row with
    the wrong number of cells, a malformed or duplicate code, a missing English or Spanish
    label, or a bad attribute value.
    """
    resource = _as_traversable(source)
    path = str(resource)
    name = resource.name.removesuffix(".csv")
    try:
        reader = csv.reader(io.StringIO(resource.read_bytes().decode("utf-8-sig"), newline=""))
        rows: list[tuple[int, list[str]]] = []
        start = 1  # the line a row starts on; quoted cells may span lines
        for row in reader:
            if row:  # blank lines are skipped
                rows.append((start, row))
            start = reader.line_num + 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise VocabularyFileError(path, f"cannot read as UTF-8 CSV: {exc}") from exc
    if not rows:
        raise VocabularyFileError(path, "empty file: no header row", line=1)
    header_line, header = rows[0]
    extra = _check_header(path, name, header_line, header)
    terms: list[Term] = []
    first_seen: dict[str, int] = {}
    for line, row in rows[1:]:
        term = _parse_row(path, name, header, extra, line, row)
        if term.code in first_seen:
            raise VocabularyFileError(
                path,
                f"duplicate code {term.code!r} (first on line {first_seen[term.code]})",
                line=line,
                column="code",
            )
        first_seen[term.code] = line
        terms.append(term)
    if not terms:
        raise VocabularyFileError(path, "no terms: the file has only a header", line=header_line)
    return Vocabulary(name, terms)


def _check_header(path: str, name: str, line: int, header: list[str]) -> tuple[str, ...]:
    expected = ("code", *LABEL_COLUMNS)
    found = tuple(cell.strip() for cell in header)
    if found[: len(expected)] != expected:
        raise VocabularyFileError(
            path,
            f"bad header: must start with {','.join(expected)}; found {','.join(found)}",
            line=line,
        )
    extra = found[len(expected) :]
    for column in extra:
        if not _SNAKE.fullmatch(column):
            raise VocabularyFileError(
                path, f"bad header: column name {column!r} is not snake_case", line=line
            )
    duplicated = sorted({column for column in extra if extra.count(column) > 1})
    if duplicated:
        raise VocabularyFileError(
            path, f"bad header: repeated column(s) {', '.join(duplicated)}", line=line
        )
    missing = [column for column in _REQUIRED_ATTRIBUTES.get(name, {}) if column not in extra]
    if missing:
        raise VocabularyFileError(
            path, f"bad header: {name} needs column(s) {', '.join(missing)}", line=line
        )
    return extra


def _parse_row(
    path: str, name: str, header: list[str], extra: tuple[str, ...], line: int, row: list[str]
) -> Term:
    if len(row) != len(header):
        raise VocabularyFileError(
            path, f"expected {len(header)} cells as in the header, found {len(row)}", line=line
        )
    cells = [cell.strip() for cell in row]
    code = cells[0]
    pattern = _CODE_PATTERNS.get(name, _SNAKE)
    if not pattern.fullmatch(code):
        rule = _CODE_RULES.get(name, "lowercase snake_case ASCII")
        raise VocabularyFileError(
            path, f"bad code {code!r}: must be {rule}", line=line, column="code"
        )
    labels: dict[str, str] = {}
    for lang, value in zip(LANGUAGES, cells[1 : 1 + len(LANGUAGES)], strict=True):
        if value:
            labels[lang] = value
        elif lang in REQUIRED_LANGUAGES:
            raise VocabularyFileError(
                path, f"code {code!r} has no label_{lang}", line=line, column=f"label_{lang}"
            )
    attributes = dict(zip(extra, cells[1 + len(LANGUAGES) :], strict=True))
    for column, (valid, description) in _REQUIRED_ATTRIBUTES.get(name, {}).items():
        if not valid(attributes[column]):
            raise VocabularyFileError(
                path,
                f"code {code!r}: {column} must be {description}, not {attributes[column]!r}",
                line=line,
                column=column,
            )
    return Term(code, MappingProxyType(labels), MappingProxyType(attributes))


@functools.cache
def load_vocabularies() -> Vocabularies:
    """Load every vocabulary shipped in ``amparo.vocab`` (once; later calls reuse the result)."""
    package = files(_VOCAB_PACKAGE)
    found = {
        entry.name.removesuffix(".csv"): entry
        for entry in package.iterdir()
        if entry.is_file() and entry.name.endswith(".csv")
    }
    missing = [name for name in VOCABULARY_NAMES if name not in found]
    if missing:
        raise VocabularyFileError(
            str(package), f"missing vocabulary file(s): {', '.join(m + '.csv' for m in missing)}"
        )
    order = [*VOCABULARY_NAMES, *sorted(set(found) - set(VOCABULARY_NAMES))]
    return Vocabularies([load_vocabulary_file(found[name]) for name in order])


def act_severity(code: str) -> int:
    """Severity group of an act type: 1 (most severe) to 4. ``KeyError`` if unknown."""
    return int(load_vocabularies()["act_types"].term(code).attributes["severity"])


def crosswalk(act_code: str, scheme: str) -> str | None:
    """The category of act type ``act_code`` in another registry's scheme, or None if unmapped.

    ``scheme`` is one of :data:`CROSSWALK_SCHEMES`; ``KeyError`` for an unknown act code.
    """
    if scheme not in CROSSWALK_SCHEMES:
        raise ValueError(
            f"unknown crosswalk scheme {scheme!r}; expected one of {', '.join(CROSSWALK_SCHEMES)}"
        )
    value = load_vocabularies()["act_types"].term(act_code).attributes[scheme]
    return value or None


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def render_markdown() -> str:
    """The docs page listing every vocabulary: code, English and Spanish labels, attributes."""
    vocabularies = load_vocabularies()
    out = [
        "# Controlled vocabularies",
        "",
        "<!-- Generated by `python -m amparo.domain.vocabularies > docs/vocabularies.md`;"
        " do not edit by hand. -->",
        "",
        "Every categorical field in Amparo stores a code from one of these lists. The source of",
        "truth is the CSV files in `amparo/vocab/`, which also hold French, Portuguese and Arabic",
        "labels (optional; English is shown when one is missing). English and Spanish labels are",
        "required. Act types carry a severity group (1 = most severe) and their category in other",
        "registries' schemes, so that statistics can be reported in those schemes (— = none).",
        "",
    ]
    out += [f"- [{_title(v.name)}](#{v.name.replace('_', '-')}) ({len(v)})" for v in vocabularies]
    for vocabulary in vocabularies:
        columns: list[str] = []
        if vocabulary.terms:
            columns = list(vocabulary.terms[0].attributes)
        out += [
            "",
            f"## {_title(vocabulary.name)}",
            "",
            f"`{vocabulary.name}`: {len(vocabulary)} terms, from"
            f" `amparo/vocab/{vocabulary.name}.csv`.",
            "",
            "| " + " | ".join(["code", "English", "Spanish", *columns]) + " |",
            "|" + "---|" * (3 + len(columns)),
        ]
        for term in vocabulary:
            cells = [
                f"`{term.code}`",
                term.label("en"),
                term.label("es"),
                *(term.attributes[c] or "—" for c in columns),
            ]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
