"""Controlled vocabularies: data integrity, the loader's validation, and the generated docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amparo.domain.vocabularies import (
    CROSSWALK_SCHEMES,
    LABEL_COLUMNS,
    LANGUAGES,
    REQUIRED_LANGUAGES,
    VOCABULARY_NAMES,
    Term,
    Vocabulary,
    VocabularyFileError,
    act_severity,
    crosswalk,
    load_vocabularies,
    load_vocabulary_file,
    render_markdown,
)
from amparo.errors import ValidationError

REPO = Path(__file__).resolve().parents[2]
HEADER = ",".join(["code", *LABEL_COLUMNS])
ALL = load_vocabularies()

EXPECTED_CODES = {
    "gender_features": [
        "sexualised_content",
        "reputation_morality_honour",
        "motherhood_family_role",
        "children_or_partner_targeted",
        "perpetrator_own_circle",
        "rape_threat",
        "outing",
        "intimate_images_deepfakes",
    ],
    "yes_no_unknown": ["yes", "no", "unknown"],
    "target_relations": [
        "defender",
        "child",
        "partner",
        "parent",
        "other_family",
        "colleague",
        "organisation",
        "community",
    ],
    "modalities": ["in_person", "online", "both"],
    "involvement_degrees": [
        "carried_out",
        "ordered",
        "planned",
        "present",
        "complicit",
        "failed_to_protect",
        "suspected",
        "unknown",
    ],
    "sexes": ["female", "male", "intersex", "unknown", "prefer_not_to_say"],
    "gender_identities": [
        "woman",
        "man",
        "trans_woman",
        "trans_man",
        "non_binary",
        "self_described",
        "unknown",
        "prefer_not_to_say",
    ],
    "sexual_orientations": [
        "heterosexual",
        "lesbian",
        "gay",
        "bisexual",
        "other",
        "unknown",
        "prefer_not_to_say",
    ],
    "age_bands": ["under_18", "18_29", "30_44", "45_59", "60_plus", "unknown"],
    "reliability": [
        "highly_reliable",
        "likely_reliable",
        "unsure",
        "likely_unreliable",
        "highly_unreliable",
        "unknown",
    ],
    "violation_status": ["confirmed", "likely", "possible", "unlikely", "unknown"],
    "date_precision": ["exact", "unknown_day", "unknown_month", "estimate"],
    "location_precision": ["exact", "locality", "region", "country", "unknown"],
    "defender_kinds": ["person", "collective", "organisation"],
    "counting_units": ["individual", "family", "group", "community"],
    "chain_relations": ["precedes", "causes", "follows", "part_of"],
    "intervention_status": ["continuing", "token_action", "pending", "no_action", "closed"],
    "priorities": ["urgent", "high", "normal", "low"],
    "consent_purposes": ["documentation", "sharing_with_partners", "un_submission", "publication"],
}


# --- the shipped data ---------------------------------------------------------------------------


def test_all_vocabularies_load_in_docs_order() -> None:
    assert ALL.names == VOCABULARY_NAMES
    assert load_vocabularies() is ALL  # cached


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_codes_are_unique_and_well_formed(name: str) -> None:
    vocabulary = ALL[name]
    assert len(vocabulary) > 0
    assert len(set(vocabulary.codes)) == len(vocabulary.codes)
    pattern = {"act_types": r"A\d\d", "countries": r"[A-Z]{2}"}.get(name, r"[a-z0-9]+(_[a-z0-9]+)*")
    for code in vocabulary.codes:
        assert re.fullmatch(pattern, code), code


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_required_labels_present(name: str) -> None:
    for term in ALL[name]:
        for lang in REQUIRED_LANGUAGES:
            assert term.labels.get(lang, "").strip(), (name, term.code, lang)
        assert set(term.labels) <= set(LANGUAGES)
        assert all(label == label.strip() for label in term.labels.values())


@pytest.mark.parametrize("name", sorted(EXPECTED_CODES))
def test_codes_match_the_design(name: str) -> None:
    assert list(ALL[name].codes) == EXPECTED_CODES[name]


def test_act_types_exact_codes_severity_and_crosswalk_columns() -> None:
    acts = ALL["act_types"]
    assert acts.codes == (*(f"A{n:02d}" for n in range(1, 28)), "A99")
    for term in acts:
        assert term.attributes["severity"] in {"1", "2", "3", "4"}
        for scheme in CROSSWALK_SCHEMES:
            assert scheme in term.attributes


def _codes(*spans: str) -> set[str]:
    """``"A01-A05"`` and ``"A07"`` -> the set of codes they name."""
    result: set[str] = set()
    for span in spans:
        first, _, last = span.partition("-")
        result |= {f"A{n:02d}" for n in range(int(first[1:]), int((last or first)[1:]) + 1)}
    return result


def test_severity_groups_follow_domain_md() -> None:
    groups = {
        1: _codes("A01-A05", "A07", "A09"),
        2: _codes("A06", "A08", "A13", "A14", "A18"),
        3: _codes("A10-A12", "A15-A17", "A19-A23"),
    }
    groups[4] = set(ALL["act_types"].codes) - groups[1] - groups[2] - groups[3]
    assert groups[4] == _codes("A24-A27", "A99")
    for severity, codes in groups.items():
        for code in codes:
            assert act_severity(code) == severity, code


def test_crosswalk() -> None:
    assert crosswalk("A01", "im_defensoras") == "Asesinato / feminicidio"
    assert crosswalk("A07", "huridocs") == "020111, 020102"
    assert crosswalk("A15", "bhrrc") == "Judicial harassment"
    assert crosswalk("A09", "sdg_16_10_1") == "Other harmful acts"
    assert crosswalk("A04", "im_defensoras") is None  # "—" in DOMAIN.md
    assert crosswalk("A99", "front_line_defenders") is None
    with pytest.raises(ValueError, match="scheme"):
        crosswalk("A01", "unknown_registry")
    with pytest.raises(KeyError):
        crosswalk("A98", "huridocs")


def test_perpetrator_types_mark_state_actors() -> None:
    perpetrators = ALL["perpetrator_types"]
    state = {t.code for t in perpetrators if t.attributes["state"] == "yes"}
    assert state == {
        "national_officials",
        "local_officials",
        "armed_forces",
        "police",
        "prison_officials",
        "intelligence_services",
        "legislature",
        "judiciary_prosecutors",
    }
    assert perpetrators.term("organised_crime").attributes["state"] == "no"
    assert perpetrators.term("unknown").attributes["state"] == ""
    assert {"company_national", "company_transnational", "other"} <= set(perpetrators.codes)


def test_sectors_count() -> None:
    assert len(ALL["sectors"]) == 21
    assert ALL["sectors"].codes[-1] == "other"


def test_countries() -> None:
    countries = ALL["countries"]
    assert len(countries) >= 240
    assert {"CO", "MX", "HN", "BR", "PH", "GT"} <= set(countries.codes)
    assert countries.label("MX", "es") == "México"
    assert countries.label("BO") == "Bolivia"  # ISO common name
    assert countries.term("CO").attributes == {"alpha3": "COL", "numeric": "170"}
    assert countries.term("NA").label() == "Namibia"  # "NA" is a code, not a missing value


# --- the API ------------------------------------------------------------------------------------


def test_label_falls_back_to_english() -> None:
    term = Term("x", {"en": "Thing", "es": "Cosa"}, {})
    assert term.label() == "Thing"
    assert term.label("es") == "Cosa"
    assert term.label("es-MX") == "Cosa"
    assert term.label("fr") == "Thing"
    assert term.label("de") == "Thing"
    assert ALL["act_types"].label("A09", "es") == "Amenaza de muerte"
    assert ALL["act_types"].label("A09", "pt_BR") == "Ameaça de morte"


def test_vocabulary_container_protocol() -> None:
    acts = ALL["act_types"]
    assert "A01" in acts
    assert "A00" not in acts
    assert 1 not in acts
    assert [t.code for t in acts] == list(acts.codes)
    assert acts.term("A01").code == "A01"
    with pytest.raises(KeyError, match="A00"):
        acts.term("A00")
    with pytest.raises(KeyError, match="no_such_vocabulary"):
        ALL["no_such_vocabulary"]


def test_check_accepts_known_code() -> None:
    assert ALL["modalities"].check("acts[0].modality", "online") == "online"


def test_check_rejects_unknown_code_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ALL["modalities"].check("acts[0].modality", "telepathy")
    error = caught.value
    assert error.field == "acts[0].modality"
    assert "unknown code 'telepathy' in vocabulary 'modalities'" in error.message
    assert "in_person" in error.message  # shows valid codes
    assert str(error).startswith("acts[0].modality: ")


@pytest.mark.parametrize(
    ("name", "given", "suggested"),
    [
        ("countries", "co", "'CO'"),
        ("countries", "Colombia", "'CO'"),
        ("countries", "México", "'MX'"),
        ("act_types", "a09", "'A09'"),
        ("act_types", "Amenaza de muerte", "'A09'"),
        ("modalities", "onlin", "'online'"),
    ],
)
def test_check_suggests_what_was_meant(name: str, given: str, suggested: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(f"(did you mean {suggested}?)")):
        ALL[name].check("field", given)


def test_terms_are_immutable_and_hashable() -> None:
    term = ALL["sexes"].term("female")
    with pytest.raises(AttributeError):
        term.code = "male"  # type: ignore[misc]
    with pytest.raises(TypeError):
        term.labels["en"] = "x"  # type: ignore[index]
    assert len({term, ALL["sexes"].term("female")}) == 1


def test_vocabulary_rejects_duplicate_terms() -> None:
    term = Term("a", {"en": "A", "es": "A"}, {})
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary("v", [term, term])


# --- the loader's validation --------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "things.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_a_valid_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "\n".join(
            [
                f"{HEADER},colour",
                "apple,Apple,Manzana,Pomme,,,red",
                '"pear","Pear, green",Pera,,,,green',
                "",  # a blank line is skipped
                "",
            ]
        ),
    )
    vocabulary = load_vocabulary_file(path)
    assert vocabulary.name == "things"
    assert vocabulary.codes == ("apple", "pear")
    assert vocabulary.term("pear").labels == {"en": "Pear, green", "es": "Pera"}
    assert vocabulary.term("pear").label("pt") == "Pear, green"
    assert vocabulary.term("apple").attributes == {"colour": "red"}


def test_rejects_duplicate_code(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\na,A,A,,,\nb,B,B,,,\na,A2,A2,,,\n")
    with pytest.raises(VocabularyFileError) as caught:
        load_vocabulary_file(path)
    error = caught.value
    assert error.row == 4
    assert "duplicate code 'a' (first on line 2)" in str(error)
    assert str(path) in str(error)
    assert "line 4" in str(error)
    assert isinstance(error, ValidationError)


def test_rejects_missing_spanish_label(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\na,A,A,,,\nb,B, ,B,B,B\n")
    with pytest.raises(VocabularyFileError) as caught:
        load_vocabulary_file(path)
    error = caught.value
    assert error.row == 3
    assert error.field == "things.csv:label_es"
    assert "code 'b' has no label_es" in str(error)
    assert "things.csv, line 3" in str(error)


def test_rejects_missing_english_label(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\na,,A,,,\n")
    with pytest.raises(VocabularyFileError, match="line 2: code 'a' has no label_en"):
        load_vocabulary_file(path)


@pytest.mark.parametrize(
    "header",
    [
        "code,label_en,label_fr,label_es,label_pt,label_ar",  # wrong order
        "code,label_en,label_es",  # languages missing
        "id,label_en,label_es,label_fr,label_pt,label_ar",
        f"{HEADER},Bad Column",
        f"{HEADER},x,x",
    ],
)
def test_rejects_bad_header(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, f"{header}\na,A,A,,,\n")
    with pytest.raises(VocabularyFileError, match=r"line 1: bad header"):
        load_vocabulary_file(path)


def test_rejects_vocabulary_specific_columns_missing(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER},severity\nA01,Killing,Asesinato,,,,1\n", "act_types.csv")
    with pytest.raises(VocabularyFileError, match="act_types needs column"):
        load_vocabulary_file(path)


def test_rejects_bad_severity(tmp_path: Path) -> None:
    columns = ",".join(["severity", *CROSSWALK_SCHEMES])
    path = _write(
        tmp_path, f"{HEADER},{columns}\nA01,Killing,Asesinato,,,,5,,,,,\n", "act_types.csv"
    )
    with pytest.raises(VocabularyFileError, match="severity must be 1, 2, 3 or 4"):
        load_vocabulary_file(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Bad Code,A,A,,,", "bad code 'Bad Code'"),
        ("a,A,A,,", "expected 6 cells"),
        ("a,A,A,,,,", "expected 6 cells"),
    ],
)
def test_rejects_bad_rows(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, f"{HEADER}\n{row}\n")
    with pytest.raises(VocabularyFileError, match=f"line 2: {message}"):
        load_vocabulary_file(path)


def test_rejects_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(VocabularyFileError, match="empty file"):
        load_vocabulary_file(_write(tmp_path, ""))
    with pytest.raises(VocabularyFileError, match="only a header"):
        load_vocabulary_file(_write(tmp_path, f"{HEADER}\n"))


def test_line_numbers_count_multiline_cells(tmp_path: Path) -> None:
    path = _write(tmp_path, f'{HEADER}\na,"A\nsecond line",A,,,\na,A,A,,,\n')
    with pytest.raises(VocabularyFileError, match="line 4: duplicate"):
        load_vocabulary_file(path)


def test_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "things.csv"
    path.write_bytes(f"{HEADER}\na,A,Espa\xf1a,,,\n".encode("latin-1"))
    with pytest.raises(VocabularyFileError, match="UTF-8"):
        load_vocabulary_file(path)


# --- generated docs -----------------------------------------------------------------------------


def test_docs_page_is_up_to_date() -> None:
    docs = REPO / "docs" / "vocabularies.md"
    assert docs.read_text(encoding="utf-8") == render_markdown(), (
        "docs/vocabularies.md is stale: run "
        "`python -m amparo.domain.vocabularies > docs/vocabularies.md`"
    )


def test_docs_page_lists_every_term() -> None:
    page = render_markdown()
    for vocabulary in ALL:
        assert f"\n## {vocabulary.name.replace('_', ' ').capitalize()}\n" in page
        for code in vocabulary.codes:
            assert f"| `{code}` |" in page, (vocabulary.name, code)
