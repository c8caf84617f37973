"""Small valid records to start tests from."""

from __future__ import annotations

from typing import Any


def defender(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "person",
        "display_name": "Berta Flores",
        "legal_name": "Berta Isabel Flores Cáceres",
        "aliases": ["La Maestra"],
        "gender_identity": "woman",
        "sex": "female",
        "country": "HN",
        "region": "Intibucá",
        "sectors": ["land", "indigenous_peoples"],
        "organisations": ["Consejo Cívico de Organizaciones"],
        "contacts": "+504 0000 0000",
        "close_people": [{"relation": "child", "name": "Laura Flores"}],
        "consents": [{"purpose": "documentation", "granted": True, "recorded_on": "2024-03-01"}],
    }
    data.update(overrides)
    return data


def incident(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Death threat after community assembly",
        "narrative": "Two men on a motorbike stopped her outside the radio station.",
        "date_start": "2024-05-14",
        "country": "HN",
        "region": "Intibucá",
        "place": "Radio station, La Esperanza",
        "violation_status": "confirmed",
        "acts": [
            {
                "act_type": "A09",
                "gender_specific": "yes",
                "gender_features": ["rape_threat"],
                "modality": "in_person",
                "involvements": [{"perpetrator": 0, "degree": "carried_out"}],
            }
        ],
        "perpetrators": [{"perpetrator_type": "private_security", "name": "Guard Unit 7"}],
        "sources": [
            {
                "source_type": "victim_testimony",
                "reliability": "highly_reliable",
                "identity": "Interview by field officer Ana",
            }
        ],
    }
    data.update(overrides)
    return data
