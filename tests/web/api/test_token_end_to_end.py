"""Issue 4's end-to-end check: everything a partner script does, with only an API token."""

from __future__ import annotations

import hashlib
import io
import json

from PIL import Image

from tests.web.api.conftest import Api


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (14.0, 5.0, 30.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "W", (87.0, 12.0, 10.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_token_alone_records_amends_finds_and_exports_an_incident(api: Api) -> None:
    # create: two acts, a perpetrator, a source
    body = {
        "title": "Threats at the Rio Claro assembly",
        "narrative": "Armed men told the committee leader to stop the consultation.",
        "date_start": "2026-03",
        "country": "CO",
        "region": "Antioquia",
        "perpetrators": [{"perpetrator_type": "armed_forces"}],
        "acts": [
            {"act_type": "A09", "modality": "in_person", "gender_specific": "yes",
             "gender_features": ["rape_threat"],
             "involvements": [{"perpetrator": 0, "degree": "carried_out"}]},
            {"act_type": "A10", "modality": "online",
             "involvements": [{"perpetrator": 0, "degree": "carried_out"}]},
        ],
        "sources": [{"source_type": "victim_testimony", "reliability": "highly_reliable"}],
    }  # fmt: skip
    created = api.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    incident = created.json()
    assert [a["act_type"] for a in incident["acts"]] == ["A09", "A10"]

    # evidence: a photo with GPS; the shared copy has none, the original is untouched
    photo = photo_with_gps()
    uploaded = api.post(
        "/api/v1/evidence",
        data={"incident_id": incident["id"], "description": "photo of the threat note"},
        files={"file": ("note.jpg", photo, "image/jpeg")},
    )
    assert uploaded.status_code == 201, uploaded.text
    evidence = uploaded.json()
    assert evidence["sha256"] == hashlib.sha256(photo).hexdigest()
    shared = api.get(f"/api/v1/evidence/{evidence['id']}/shared")
    assert shared.status_code == 200
    assert not Image.open(io.BytesIO(shared.content)).getexif().get_ifd(0x8825)
    original = api.get(f"/api/v1/evidence/{evidence['id']}/original")
    assert hashlib.sha256(original.content).hexdigest() == evidence["sha256"]

    # amend, with the version it read
    amended = api.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"violation_status": "confirmed"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2

    # find: by keyword, by facets, by both
    for params in (
        {"q": "consultation"},
        {"country": "CO", "act_type": "A10", "year": 2026},
        {"q": "Rio Claro", "modality": "online", "act_type": "A10"},  # facets of one act
        {"gender_feature": "rape_threat", "act_type": "A09", "date_from": "2026-01-01"},
    ):
        found = api.get("/api/v1/incidents", params=params)
        assert found.status_code == 200, found.text
        assert [i["id"] for i in found.json()["items"]] == [incident["id"]], params

    # export: the amended record, in full
    export = api.get("/api/v1/incidents/export", params={"q": "consultation"})
    assert export.status_code == 200, export.text
    (record,) = [json.loads(line) for line in export.text.splitlines()]
    assert record["id"] == incident["id"]
    assert record["violation_status"] == "confirmed"
    assert record["narrative"] == body["narrative"]
    listed = api.get("/api/v1/evidence", params={"incident_id": incident["id"]})
    assert [e["id"] for e in listed.json()["items"]] == [evidence["id"]]
