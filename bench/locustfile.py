"""Locust users for ``bench.api_bench`` (run by it in a subprocess: locust patches the
standard library with gevent at import, which the data building must not see).

The scenario and its parameters come from the environment: ``AMPARO_BENCH_SCENARIO`` (one of
``SCENARIOS``) and ``AMPARO_BENCH_PARAMS`` (a JSON file: bearer token, filter combinations,
common and rare words, incident ids). Every user sends requests back to back (no think time),
so 20 users keep 20 requests in flight, unless ``AMPARO_BENCH_THINK`` gives a mean pause in
seconds between one user's requests (drawn uniformly from half to one and a half times it):
people read what they asked for before they ask again.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

PARAMS = json.loads(Path(os.environ["AMPARO_BENCH_PARAMS"]).read_text(encoding="utf-8"))
SCENARIO = os.environ.get("AMPARO_BENCH_SCENARIO", "mixed")
TOKEN = os.environ["AMPARO_BENCH_TOKEN"]
THINK = float(os.environ.get("AMPARO_BENCH_THINK", "0"))
PAGE = 50
DEEP_PAGES = 5  # pages followed by next_cursor after the first

NAMES = {
    "list": "a newest page",
    "filtered": "b filtered list",
    "common": "c keyword, common word",
    "rare": "c keyword, rare word",
    "search": "c /search endpoint",
    "page1": "d page 1",
    "deep": f"d pages 2-{DEEP_PAGES + 1} (cursor)",
    "get": "e one incident",
}


class ApiUser(FastHttpUser):
    wait_time = between(THINK / 2, THINK * 1.5) if THINK > 0 else constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0
    default_headers: ClassVar[dict[str, str]] = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json",
    }

    def _get(self, path: str, name: str, **query: object) -> dict[str, object] | None:
        url = path + ("?" + urlencode(query) if query else "")
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                detail = (response.text or "")[:300]  # a problem document says what failed
                response.failure(f"HTTP {response.status_code}: {detail}")
                return None
            body: dict[str, object] = response.json()
            return body

    def newest_page(self) -> None:
        self._get("/api/v1/incidents", NAMES["list"], limit=PAGE)

    def filtered_list(self) -> None:
        country, act_type, year = random.choice(PARAMS["combos"])
        self._get("/api/v1/incidents", NAMES["filtered"], country=country, act_type=act_type,
                  year=year, limit=PAGE)  # fmt: skip

    def common_word(self) -> None:
        self._get("/api/v1/incidents", NAMES["common"], q=random.choice(PARAMS["common_words"]),
                  limit=PAGE)  # fmt: skip

    def rare_word(self) -> None:
        self._get("/api/v1/incidents", NAMES["rare"], q=random.choice(PARAMS["rare_words"]),
                  limit=PAGE)  # fmt: skip

    def search_endpoint(self) -> None:
        words = PARAMS["common_words"] + PARAMS["rare_words"]
        self._get("/api/v1/search", NAMES["search"], q=random.choice(words))

    def deep_paging(self) -> None:
        page = self._get("/api/v1/incidents", NAMES["page1"], limit=PAGE)
        for _ in range(DEEP_PAGES):
            cursor = None if page is None else page.get("next_cursor")
            if not cursor:
                return
            page = self._get("/api/v1/incidents", NAMES["deep"], limit=PAGE, cursor=cursor)

    def one_incident(self) -> None:
        self._get(f"/api/v1/incidents/{random.choice(PARAMS['incident_ids'])}", NAMES["get"])

    @task
    def run_scenario(self) -> None:
        choices: dict[str, list[Callable[[], None]]] = {
            "list": [self.newest_page],
            "filtered": [self.filtered_list],
            "search": [self.common_word, self.rare_word, self.search_endpoint],
            "paging": [self.deep_paging],
            "get": [self.one_incident],
            "officer": [self.newest_page, self.filtered_list],
            # what a team's clients might send together: mostly lists and single records
            "mixed": [self.newest_page] * 3 + [self.filtered_list] * 3
            + [self.common_word, self.rare_word, self.search_endpoint, self.deep_paging]
            + [self.one_incident] * 3,
        }  # fmt: skip
        random.choice(choices[SCENARIO])()
