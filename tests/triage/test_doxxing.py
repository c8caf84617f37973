"""Doxxing: personal details are found and masked; dates, prices and counts are not."""

from __future__ import annotations

import pytest

from amparo.triage.doxxing import find


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Her number is +57 310 555 1234, call her", "phone"),
        ("llámenla al 310-555-1234", "phone"),
        ("Call 555-1234", "phone"),
        ("escríbanle a maria.lopez@gmail.com", "email"),
        ("vive en la Carrera 7 # 45-12, Bogotá", "address"),
        ("Calle 10 No. 5-20", "address"),
        ("Calle Mayor 15, Madrid", "address"),
        ("Rua das Flores 123", "address"),
        ("12 rue de la Paix", "address"),
        ("221B Baker Street", "address"),
        ("cédula 1.023.456.789", "id_number"),
        ("C.C. 80123456", "id_number"),
        ("CURP GODE561231HDFRRN09", "id_number"),
        ("CPF 123.456.789-09", "id_number"),
        ("DNI 12345678Z", "id_number"),
        ("SSN 123-45-6789", "id_number"),
        ("4.7110, -74.0721", "coordinates"),
        ("4°42'40\"N 74°04'13\"W", "coordinates"),
        ("https://maps.google.com/?q=4.7,-74.07", "coordinates"),
        ("we know where you live", "home_or_school"),
        ("your kids' school is on 5th", "home_or_school"),
        ("sabemos dónde estudian tus hijos", "home_or_school"),
        ("el colegio de tus hijos es el San Bartolomé", "home_or_school"),
        ("sabemos onde você mora", "home_or_school"),
        ("on sait où tu habites", "home_or_school"),
    ],
)
def test_personal_details_are_found(text: str, kind: str) -> None:
    assert kind in {f.kind for f in find(text)}


@pytest.mark.parametrize(
    "text",
    [
        "In 2019-2020 we had 1,000,000 visitors",
        "the meeting is at 10:30 on 12/05/2021",
        "it cost 1500.50 pesos, 12.345.678 in total",
        "Resolution 2005-114 of the ministry",
        "I love my kids and their school play",
        "Calle de la memoria: a book about the war",
    ],
)
def test_dates_prices_counts_and_ordinary_words_are_not(text: str) -> None:
    assert find(text) == []


def test_findings_are_masked_and_located() -> None:
    text = "Her number is +57 310 555 1234"
    (finding,) = find(text)
    assert text[finding.start : finding.end] == "+57 310 555 1234"
    assert finding.masked == "+•• ••• ••• ••34"
    assert "310" not in finding.masked
