"""Locust users for ``bench.datasette_bench``: the same four queries, to Amparo's API or to
Datasette over a plaintext copy of the same records.

``AMPARO_SIDE_TARGET`` is ``amparo`` or ``datasette``; ``AMPARO_SIDE_SCENARIO`` one of
``newest``, ``filtered``, ``keyword``, ``record``; ``AMPARO_SIDE_PARAMS`` the API benchmark's
parameters (filter combinations, words, incident ids); ``AMPARO_SIDE_TOKEN`` Amparo's read
token. Requests go back to back, as in ``bench.api_bench``'s saturation runs.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from urllib.parse import urlencode

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

PARAMS = json.loads(Path(os.environ["AMPARO_SIDE_PARAMS"]).read_text(encoding="utf-8"))
TARGET = os.environ["AMPARO_SIDE_TARGET"]
SCENARIO = os.environ["AMPARO_SIDE_SCENARIO"]
TOKEN = os.environ.get("AMPARO_SIDE_TOKEN", "")
PAGE = 50
DB = "plain"  # Datasette's name for the plaintext file


def amparo_path(scenario: str) -> str:
    if scenario == "newest":
        return f"/api/v1/incidents?limit={PAGE}"
    if scenario == "filtered":
        country, act_type, year = random.choice(PARAMS["combos"])
        return "/api/v1/incidents?" + urlencode(
            {"country": country, "act_type": act_type, "year": year, "limit": PAGE}
        )
    if scenario == "keyword":
        word = random.choice(PARAMS["common_words"] + PARAMS["rare_words"])
        return "/api/v1/incidents?" + urlencode({"q": word, "limit": PAGE})
    return f"/api/v1/incidents/{random.choice(PARAMS['incident_ids'])}"


def datasette_path(scenario: str) -> str:
    # Newest first, 50 a page, the same columns as Amparo's list items; no total count
    # (Amparo's pages do not count either).
    columns = "&".join(
        f"_col={c}"
        for c in ("case_id", "title", "date_start", "country", "region", "violation_status")
    )
    common = f"_sort_desc=date_start&_size={PAGE}&_nocount=1&{columns}"
    if scenario == "newest":
        return f"/{DB}/incidents.json?{common}"
    if scenario == "filtered":
        country, act_type, year = random.choice(PARAMS["combos"])
        query = urlencode({"country": country, "act_type": act_type, "year": year})
        return f"/{DB}/filtered.json?{query}"
    if scenario == "keyword":
        word = random.choice(PARAMS["common_words"] + PARAMS["rare_words"])
        return f"/{DB}/incidents.json?{urlencode({'_search': word})}&{common}"
    return f"/{DB}/incidents/{random.choice(PARAMS['incident_ids'])}.json"


class SideUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0

    @task
    def query(self) -> None:
        if TARGET == "amparo":
            path = amparo_path(SCENARIO)
            headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
        else:
            path, headers = datasette_path(SCENARIO), {"Accept": "application/json"}
        with self.client.get(path, name=SCENARIO, headers=headers, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {(r.text or '')[:200]}")
