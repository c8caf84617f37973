"""Where the triage tests find EDOS: ``../shared/data/edos`` beside the checkout."""

from __future__ import annotations

from pathlib import Path

EDOS = Path(__file__).resolve().parents[3] / "shared/data/edos/edos_labelled_aggregated.csv"
