"""Locust users for ``bench.soak``: a team's day on one server, reads, writes and pages mixed.

Run by ``bench.soak`` in a subprocess (locust patches the standard library with gevent at
import). Parameters come from ``AMPARO_SOAK_PARAMS``, a JSON file written for the run: the API
benchmark's query parameters (filter combinations, words, incident ids) plus a read token, a
write token for a documenter holding write grants on a few cases, those case ids and a
signed-in session cookie for the staff pages. ``AMPARO_BENCH_THINK`` is the mean pause
between one user's requests; ``AMPARO_SOAK_MAX_CREATES`` bounds the incidents one user
creates (it amends its own after that), so a long run stays bounded in count too.

Every answer that is not 2xx is a failure named ``HTTP <status>``, so the driver can count
5xx apart from anything else.
"""

from __future__ import annotations

import json
import os
import random
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

PARAMS = json.loads(Path(os.environ["AMPARO_SOAK_PARAMS"]).read_text(encoding="utf-8"))
THINK = float(os.environ.get("AMPARO_BENCH_THINK", "0.5"))
MAX_CREATES = int(os.environ.get("AMPARO_SOAK_MAX_CREATES", "200"))
PAGE = 50

# Request names: the prefix says which budget applies (docs/benchmarks.md): "api" 100 ms,
# "page" 300 ms.
NAMES = {
    "list": "api read: newest page",
    "filtered": "api read: filtered list",
    "keyword": "api read: keyword",
    "get": "api read: one incident",
    "create": "api write: create incident",
    "amend": "api write: amend incident",
    "p_list": "page: incident list",
    "p_filtered": "page: filtered list",
    "p_keyword": "page: keyword",
    "p_record": "page: incident record",
}


class SoakUser(FastHttpUser):
    wait_time = between(THINK / 2, THINK * 1.5) if THINK > 0 else constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.mine: list[tuple[str, str]] = []  # (incident id, ETag) this user created
        self.created = 0

    def _call(self, method: str, path: str, name: str, headers: dict[str, str],
              body: Any = None) -> tuple[Any, dict[str, str]] | None:  # fmt: skip
        kwargs: dict[str, Any] = {"name": name, "headers": headers, "catch_response": True}
        if body is not None:
            kwargs["json"] = body
        with self.client.request(method, path, **kwargs) as response:
            if not 200 <= (response.status_code or 0) < 300:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            content = response.json() if name.startswith("api") else None
            return content, {"etag": response.headers.get("etag") or ""}

    def _api(
        self,
        method: str,
        path: str,
        name: str,
        body: Any = None,
        etag: str | None = None,
        write: bool = False,
    ) -> tuple[Any, dict[str, str]] | None:
        token = PARAMS["write_token"] if write else PARAMS["read_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if etag:
            headers["If-Match"] = etag
        return self._call(method, path, name, headers, body)

    def _page(self, path: str, name: str) -> None:
        self._call("GET", path, name, {"Cookie": f"amparo={PARAMS['cookie']}"})

    # -- API reads (the coordinator's token, grants on every case)
    @task(3)
    def newest_page(self) -> None:
        self._api("GET", f"/api/v1/incidents?limit={PAGE}", NAMES["list"])

    @task(3)
    def filtered_list(self) -> None:
        country, act_type, year = random.choice(PARAMS["combos"])
        query = urlencode({"country": country, "act_type": act_type, "year": year,
                           "limit": PAGE})  # fmt: skip
        self._api("GET", f"/api/v1/incidents?{query}", NAMES["filtered"])

    @task(2)
    def keyword(self) -> None:
        word = random.choice(PARAMS["common_words"] + PARAMS["rare_words"])
        self._api("GET", f"/api/v1/incidents?{urlencode({'q': word, 'limit': PAGE})}",
                  NAMES["keyword"])  # fmt: skip

    @task(3)
    def one_incident(self) -> None:
        self._api("GET", f"/api/v1/incidents/{random.choice(PARAMS['incident_ids'])}",
                  NAMES["get"])  # fmt: skip

    # -- API writes (the documenter's token, write grants on a few cases)
    @task(2)
    def write(self) -> None:
        if self.created >= MAX_CREATES or (self.mine and random.random() < 0.5):
            self.amend()
            return
        country, act_type, year = random.choice(PARAMS["combos"])
        words = " ".join(random.sample(PARAMS["common_words"], 6))
        body = {
            "title": f"Soak test incident {random.getrandbits(32):08x}",
            "narrative": f"Synthetic soak-test record: {words}.",
            "date_start": min(
                date(year, random.randint(1, 12), random.randint(1, 28)), date.today()
            ).isoformat(),  # a future date is refused
            "country": country,
            "acts": [{"act_type": act_type}],
            "case_id": random.choice(PARAMS["write_cases"]),
        }
        result = self._api("POST", "/api/v1/incidents", NAMES["create"], body, write=True)
        self.created += 1
        if result is not None:
            self.mine.append((result[0]["id"], result[1]["etag"]))

    def amend(self) -> None:
        index = random.randrange(len(self.mine))
        incident_id, etag = self.mine[index]
        body = {"title": f"Soak test incident, amended {random.getrandbits(32):08x}"}
        result = self._api("PATCH", f"/api/v1/incidents/{incident_id}", NAMES["amend"], body,
                           etag=etag, write=True)  # fmt: skip
        if result is not None:
            self.mine[index] = (incident_id, result[1]["etag"])

    # -- staff pages (the coordinator signed in)
    @task(2)
    def page_list(self) -> None:
        self._page("/incidents", NAMES["p_list"])

    @task(1)
    def page_filtered(self) -> None:
        country, act_type, year = random.choice(PARAMS["combos"])
        query = urlencode({"country": country, "act_type": act_type, "year": year})
        self._page(f"/incidents?{query}", NAMES["p_filtered"])

    @task(1)
    def page_keyword(self) -> None:
        word = random.choice(PARAMS["common_words"] + PARAMS["rare_words"])
        self._page(f"/incidents?{urlencode({'q': word})}", NAMES["p_keyword"])

    @task(2)
    def page_record(self) -> None:
        self._page(f"/incidents/{random.choice(PARAMS['incident_ids'])}", NAMES["p_record"])
