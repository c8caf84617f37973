"""The bad-input corpus: every operation of the OpenAPI schema, found at test time, against
hostile parameters and bodies.

For every query, header and path parameter: SQL and FTS5 syntax, NUL bytes, invalid UTF-8,
bidirectional overrides, path traversal, 100 KB strings, forged cursors. For every JSON body:
malformed and deeply nested JSON, wrong types, 10 MB, compressed (a decompression bomb), the
wrong media type, and stored XSS strings. What must hold:

- no answer is a 5xx, and the API never answers ``text/html``;
- a refused state change changes no table, and GETs never change one;
- stored markup comes back as plain JSON strings and escaped in every page;
- nothing is written outside the vault directory;
- the app keeps answering ``/healthz``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import select
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from amparo.registry import Registry
from amparo.store import schema
from amparo.web.limits import BodyPolicy
from tests.factories import defender, incident
from tests.web.api.conftest import Api
from tests.web.conftest import BASE_URL, Browser
from tests.web.test_limits import fast_amparo, read_response, serving

XSS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
    "javascript:alert(1)",
)
HOSTILE = (
    # SQL
    "' OR 1=1 --",
    "1; DROP TABLE incidents",
    "%' UNION SELECT id, title_ct FROM incidents --",
    '") OR ("1"="1',
    "\\'; SELECT pg_sleep(5); --",
    # FTS5 and tsquery syntax
    '"unterminated',
    "NEAR(a b",
    "a OR",
    "*",
    "^",
    "-",
    "a AND NOT",
    "title:x",
    "{a b}:c",
    "x' & !y | (z",
    # bytes and text that break naive code
    "\x00",
    "a\x00b",
    "\u202egnp.exe\u202c",
    "\u2066\u2067x\u2069",
    "é" * 50,
    # paths
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "%2e%2e%2f%2e%2e%2f",
    # sizes and numbers
    "x" * 60_000,  # the client's URL limit is 64 KiB (and uvicorn's request line 16 KiB)
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    *XSS[:2],
)
# Every parameter gets these; the rest of HOSTILE is spread over the parameters of an
# operation (each string on every third one), except for the parameters that reach a parser
# or the full-text index, which get everything. Keeps the run near 30 s on PostgreSQL.
ALWAYS = frozenset({HOSTILE[0], HOSTILE[1], HOSTILE[5], "\x00", "\u202egnp.exe\u202c",
                    "../../etc/passwd", "x" * 60_000, XSS[0], ""})  # fmt: skip
EVERYTHING = frozenset({"q", "sort", "cursor", "fields", "lang", "format", "name"})
# Sent as they are: invalid UTF-8, an overlong "/", a surrogate, broken escapes.
RAW_QUERY = ("%ff%fe", "%c0%af", "%ed%a0%80", "%", "%zz", "a%00b")
HTML_SAFE = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload")
JSON_TYPES = ("application/json", "application/problem+json", "application/x-ndjson")
# Operations whose successful answer is a file by design; their errors are still JSON.
FILE_ANSWERS = {"/api/v1/incidents/export/partner": "text/csv"}
# The audit trail grows on reads of identities and on refusals, by design; so does the throttle
# on refused public look-ups (an unknown receipt code counts against the address). No other
# table may.
UNCOUNTED = frozenset({"audit_log", "login_throttle"})
MiB = 1024 * 1024


@dataclass
class Operation:
    method: str
    path: str
    params: list[dict[str, Any]]
    body: dict[str, Any] | None  # the JSON schema of a JSON request body, refs resolved once
    body_name: str | None
    media: str | None  # the request body's media type (uploads: multipart/form-data)

    def of(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.params if p["in"] == where]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> list[Operation]:
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body, name = None, None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = content["application/json"].get("schema", {})
                if "$ref" in body:
                    name = body["$ref"].rsplit("/", 1)[-1]
                    body = schemas[name]
            media = next(iter(content), None)
            found.append(
                Operation(method.upper(), path, op.get("parameters", []), body, name, media)
            )
    return found


def _types(prop: Mapping[str, Any]) -> set[str]:
    options = prop.get("anyOf", [prop])
    return {str(o.get("type")) for o in options if "type" in o}


def valid_value(param: Mapping[str, Any]) -> str:
    """A value that passes the parameter's own checks, for the parameters not under attack."""
    spec = param.get("schema", {})
    options = spec.get("anyOf", [spec])
    default = spec.get("default")
    if isinstance(default, bool):
        return "true" if default else "false"
    if default is not None:
        return str(default)
    for option in options:
        if option.get("type") == "integer":
            return str(max(1, option.get("minimum", 1)))
        if option.get("type") == "boolean":
            return "false"
        if option.get("format") == "date":
            return "2024-05-14"
        if "enum" in option:
            return str(option["enum"][0])
    return "threat"


def free_text(prop: Mapping[str, Any]) -> bool:
    """A string field for prose (titles, narratives, names), not a code, id or date."""
    options = prop.get("anyOf", [prop])
    return any(
        o.get("type") == "string" and o.get("maxLength", 10**9) >= 120 and "pattern" not in o
        and "enum" not in o and "format" not in o
        for o in options
    )  # fmt: skip


@dataclass
class Corpus:
    """The app under attack, a token client, a signed-in browser and seeded records."""

    app: FastAPI
    api: Api
    browser: Browser
    registry: Registry
    vault: Path
    ids: dict[str, str] = field(default_factory=dict)
    answered: int = 0

    # -- what must hold after each request ------------------------------------------------
    def counts(self) -> dict[str, int]:
        tables = [t for t in schema.metadata.sorted_tables if t.name not in UNCOUNTED]
        query = sa.select(*[
            sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
            for t in tables
        ])  # fmt: skip
        with self.registry.store.read() as conn:
            return dict(conn.execute(query).one()._mapping)

    def check(self, response: httpx.Response, what: str) -> httpx.Response:
        self.answered += 1
        assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"
        media = response.headers.get("content-type", "").split(";")[0]
        path = response.request.url.path
        if path in FILE_ANSWERS and response.status_code == 200:
            assert media == FILE_ANSWERS[path], f"{what}: answered {media}"
        elif path.startswith("/api/") and response.status_code != 204:
            assert media in JSON_TYPES, f"{what}: answered {media}"
        assert response.headers.get("x-content-type-options") == "nosniff", what
        return response

    def healthy(self) -> None:
        response = self.api.client.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    # -- requests ----------------------------------------------------------------------------
    def path_value(self, name: str) -> str:
        """A real id for ``{incident_id}`` and the like, so routes go past their lookups."""
        if name == "name":
            return "act_types"
        return self.ids.get(name.removesuffix("_id"), "ffffffffffffffff")

    def url(self, op: Operation, path_values: Mapping[str, str] | None = None) -> str:
        values = {p["name"]: self.path_value(p["name"]) for p in op.of("path")}
        # A DELETE aimed at a real record would remove what the other requests need.
        if op.method == "DELETE":
            values = {k: "ffffffffffffffff" for k in values}
        values.update(path_values or {})
        return op.path.format(**{k: quote(v, safe="") for k, v in values.items()})

    def send(self, op: Operation, *, url: str | None = None, query: str | None = None,
             params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
             content: bytes | None = None, json_body: Any = None) -> httpx.Response:  # fmt: skip
        target = url or self.url(op)
        if query is not None:
            target += "?" + query
        required = {p["name"]: valid_value(p) for p in op.of("query") if p.get("required")}
        merged = {**required, **(params or {})} if query is None else None
        body: dict[str, Any] = {}
        if content is not None:
            body["content"] = content
        elif json_body is not None:
            body["json"] = json_body
        elif op.body is not None:
            body["json"] = {}
        return self.api.request(op.method, target, params=merged, headers=dict(headers or {}),
                                **body)  # fmt: skip

    def refused_without_writes(self, op: Operation, what: str, **request: Any) -> int:
        """A request that must be refused (4xx) and must leave every table as it was."""
        before = self.counts()
        response = self.check(self.send(op, **request), what)
        assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
        assert self.counts() == before, f"{what}: refused, yet tables changed"
        return response.status_code


def listing(root: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if skip not in (p, *p.parents)}


@pytest.fixture
def same_user(app: FastAPI, api: Api, registry: Registry) -> Iterator[Browser]:
    """The token's user signed in to the pages too, so they show what the token stored."""
    with TestClient(app, base_url=BASE_URL) as client:
        browser = Browser(client, registry)
        browser.sign_in(api.user.username)
        yield browser


@pytest.fixture
def corpus(
    app: FastAPI, api: Api, same_user: Browser, registry: Registry, vault_dir: Path
) -> Iterator[Corpus]:
    corpus = Corpus(app, api, same_user, registry, vault_dir)
    corpus.ids = seed(api)
    creatable = {op.path for op in operations(app) if op.method == "POST"}
    for kind in ("defender", "incident"):
        if f"/api/v1/{kind}s" in creatable:
            assert kind in corpus.ids, f"could not seed a {kind}: the corpus would miss routes"
    root = corpus.vault.parent
    before = listing(root, corpus.vault)
    yield corpus
    corpus.healthy()
    assert listing(root, corpus.vault) == before, "files written outside the vault directory"


def seed(api: Api) -> dict[str, str]:
    """A defender, an incident about her and a case, made through the API where it can."""
    ids: dict[str, str] = {}
    made = api.post("/api/v1/defenders", json=defender())
    if made.status_code == 201:
        ids["defender"] = made.json()["id"]
        ids["case"] = made.json().get("case_id", "")
    act = {"act_type": "A09", **({"victim_defender_id": ids["defender"]} if ids else {})}
    made = api.post("/api/v1/incidents", json=incident(acts=[act], perpetrators=[]))
    if made.status_code == 201:
        ids["incident"] = made.json()["id"]
    return {k: v for k, v in ids.items() if v}


# -- parameters ----------------------------------------------------------------------------
def forged_cursors(op: Operation) -> list[str]:
    """Cursors that decode, for the listing's own sort orders: the attack is in what they
    hold (a listing refuses a cursor of another sort before looking further)."""
    sorts = {"created", "-date"} | {
        valid_value(p) for p in op.of("query") if p["name"] == "sort"
    }  # fmt: skip
    shapes: list[Any] = [[], {"a": 1}, "x", [1, 2, 3, 4]]
    for sort in sorts:
        shapes += [
            [sort, "' OR 1=1 --", "ffff"], [sort, None, "x" * 100], [sort, 1, 2],
            [sort, "2024-01-01", "'; DROP TABLE incidents; --"], [sort, "\x00", "\x00"],
            [sort, "a\x00", "ff"], [sort, None, "\x00"], [sort, "9999-99-99", "ff"],
            [sort, "\u202e", "../../etc/passwd"], [sort, "x" * 300, "ff"], [sort, "\ud800", "ff"],
        ]  # fmt: skip
    return [base64.urlsafe_b64encode(json.dumps(s).encode()).decode().rstrip("=") for s in shapes]


def hostile_for(name: str, position: int) -> list[str]:
    if name in EVERYTHING:
        return list(HOSTILE)
    return [v for n, v in enumerate(HOSTILE) if v in ALWAYS or (n + position) % 3 == 0]


def header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable() and len(value) < 8000


def test_hostile_parameters(corpus: Corpus) -> None:
    """Every query and header parameter, then every path parameter, of every operation."""
    ops = operations(corpus.app)
    assert any(op.params for op in ops), "the schema lists no parameters: nothing was tested"
    for op in ops:
        before = corpus.counts()
        changed_state = False
        for position, param in enumerate(op.of("query")):
            name = param["name"]
            values = hostile_for(name, position) + (forged_cursors(op) if name == "cursor" else [])
            for value in values:
                what = f"{op} ?{name}={value[:60]!r}"
                response = corpus.check(corpus.send(op, params={name: value}), what)
                changed_state |= op.method != "GET" and response.status_code < 400
            for raw in RAW_QUERY:
                what = f"{op} ?{name}={raw}"
                response = corpus.check(corpus.send(op, query=f"{name}={raw}"), what)
                changed_state |= op.method != "GET" and response.status_code < 400
        for param in op.of("header"):
            for value in filter(header_safe, HOSTILE):
                response = corpus.send(op, headers={param["name"]: value})
                corpus.check(response, f"{op} {param['name']}: {value[:40]!r}")
                changed_state |= op.method != "GET" and response.status_code < 400
        for param in op.of("path"):
            for value in (*hostile_for(param["name"], 0), "..", ".", "%2e%2e", "a/../../b"):
                url = corpus.url(op, {param["name"]: value})
                response = corpus.check(corpus.send(op, url=url), f"{op} {url[:100]}")
                # "" and "." leave the path one level up: the listing, rightly answered.
                if value not in ("", "."):
                    assert response.status_code >= 400, f"{op} accepted {value[:40]!r}"
        if not changed_state:
            assert corpus.counts() == before, f"{op}: refused, yet tables changed"
        corpus.healthy()
    assert corpus.answered > 1000


# -- bodies --------------------------------------------------------------------------------
def content_type(op: Operation) -> str:
    media = op.media or "application/octet-stream"
    return media + "; boundary=b" if media.startswith("multipart/") else media


def bad_bodies(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, request) pairs, each of which must be refused with a 4xx."""
    own = {"Content-Type": content_type(op)}
    limit = BodyPolicy().limit_for(op.path, (op.media or "").lower())
    yield "declared over the limit", {"content": b"x", "headers": {
        **own, "Content-Length": str(limit + 1)}}  # fmt: skip
    bomb = gzip.compress(b"[" * (50 * MiB))  # 50 MB of brackets in about 50 KB
    yield "decompression bomb", {"content": bomb, "headers": {**own, "Content-Encoding": "gzip"}}
    yield "deflate bomb", {"content": bomb, "headers": {
        **own, "Content-Encoding": "deflate, gzip"}}  # fmt: skip
    if (op.media or "").startswith("multipart/"):
        yield from multipart_bodies()
    if op.body is not None:
        yield from json_bodies(op)


def multipart_bodies() -> Iterator[tuple[str, dict[str, Any]]]:
    form = "multipart/form-data"
    for what, media, content in (
        ("no boundary", form, b"x"),
        ("no parts", form + "; boundary=b", b"--b--\r\n"),
        ("truncated part", form + "; boundary=b", b"--b\r\nContent-Disposition: form-data"),
        ("traversal file name", form + "; boundary=b",
         b'--b\r\nContent-Disposition: form-data; name="file"; filename="../../../etc/passwd"'
         b"\r\n\r\nx\r\n--b--\r\n"),
        ("JSON instead", "application/json", b"{}"),
    ):  # fmt: skip
        yield what, {"content": content, "headers": {"Content-Type": media}}


def json_bodies(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    as_json = {"Content-Type": "application/json"}
    props = (op.body or {}).get("properties", {})
    raw: list[tuple[str, bytes]] = [
        ("truncated", b'{"title": '),
        ("single quotes", b"{'title': 'x'}"),
        ("trailing comma", b'{"title": "x",}'),
        ("not UTF-8", b'\xff\xfe{"title": "x"}'),
        ("empty", b""),
        ("two documents", b'{"title": "a"}{"title": "b"}'),
        ("NaN", b"NaN"),
        ("huge exponent", b"1e999999"),
        ("lone surrogate", b'{"title": "\\ud800"}'),
        ("raw NUL", b'{"title": "a\x00b"}'),
        ("control characters", b'{"title": "a\x01\x1fb"}'),
        ("nested arrays", b"[" * 100_000 + b"]" * 100_000),
        ("nested objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        ("unclosed nesting", b"[" * 100_000),
        ("array", b"[]"),
        ("string", b'"string"'),
        ("number", b"123"),
        ("null", b"null"),
        ("true", b"true"),
        ("nested but allowed depth", b"[" * 30 + b"]" * 30),
        ("10 MB", b'{"title": "' + b"x" * (10 * MiB) + b'"}'),
        ("10 MB of nothing", b" " * (10 * MiB)),
        ("every field a wrong type", json.dumps({p: [{"x": None}] for p in props}).encode()),
        ("unknown field", b'{"zzz_not_a_field": 1}'),
        ("big numbers", json.dumps({p: 10**400 for p in props}).encode()),
        ("escaped NUL everywhere", json.dumps({p: "a\x00b" for p in props}).encode()),
        ("lone surrogates everywhere", json.dumps({p: "a\ud800b" for p in props}).encode()),
    ]
    for what, content in raw:
        yield what, {"content": content, "headers": as_json}
    valid = json.dumps(xss_body(op) or {}).encode()
    yield "text/plain", {"content": valid, "headers": {"Content-Type": "text/plain"}}
    yield "form", {"content": b"title=x", "headers": {
        "Content-Type": "application/x-www-form-urlencoded"}}  # fmt: skip
    yield "multipart", {"content": b"--b\r\n\r\n--b--", "headers": {
        "Content-Type": "multipart/form-data; boundary=b"}}  # fmt: skip
    yield "UTF-16", {"content": valid.decode().encode("utf-16"), "headers": {
        "Content-Type": "application/json; charset=utf-16"}}  # fmt: skip
    yield "gzip", {"content": gzip.compress(valid), "headers": {
        **as_json, "Content-Encoding": "gzip"}}  # fmt: skip


def test_hostile_bodies(corpus: Corpus) -> None:
    ops = [op for op in operations(corpus.app) if op.media is not None]
    assert ops, "the schema lists no request bodies: nothing was tested"
    for op in ops:
        for what, request in bad_bodies(op):
            status = corpus.refused_without_writes(op, f"{op} {what}", **request)
            if what.endswith("bomb") or what == "gzip":
                assert status == 415, f"{op} {what}"
            if what.startswith(("10 MB", "declared over")):
                assert status == 413, f"{op} {what}"
            if what.startswith("nested") and what != "nested but allowed depth":
                assert status == 422, f"{op} {what}"
        corpus.healthy()


# -- stored XSS ----------------------------------------------------------------------------
BUILDERS: dict[str, Callable[[Corpus], dict[str, Any]]] = {
    "IncidentIn": lambda c: incident(perpetrators=[], acts=[{"act_type": "A09"}]),
    "DefenderIn": lambda c: defender(),
}


def xss_body(op: Operation, corpus: Corpus | None = None, payload: str = XSS[0]) -> Any:
    """A body the route should accept, with markup in every free-text field."""
    if op.body is None:
        return None
    builder = BUILDERS.get(op.body_name or "")
    body: dict[str, Any] = builder(corpus) if builder and corpus else {}
    props = op.body.get("properties", {})
    for name in op.body.get("required", []):
        if name not in body:
            body[name] = valid_value({"schema": props.get(name, {})})
            if "integer" in _types(props.get(name, {})):
                body[name] = int(body[name])
    for name, prop in props.items():
        if free_text(prop):
            body[name] = payload
    return body


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_stored_xss_stays_inert(corpus: Corpus) -> None:
    stored: list[str] = []
    for op in operations(corpus.app):
        if op.body is None or op.method == "DELETE":
            continue
        for payload in (*XSS, "x" * 100_000):
            body = xss_body(op, corpus, payload)
            response = corpus.check(corpus.send(op, json_body=body), f"{op} XSS")
            if response.status_code >= 300 or payload not in strings_in(body):
                continue
            assert response.headers["content-type"].split(";")[0] == "application/json"
            assert payload in strings_in(response.json()), f"{op}: markup altered, not stored"
            stored.append(payload)
            location = response.headers.get("location")
            if location:
                again = corpus.check(corpus.api.get(location), f"GET {location}")
                assert again.headers["content-type"].split(";")[0] == "application/json"
                assert payload in strings_in(again.json())
    assert stored, "no operation stored anything: the XSS check ran on nothing"
    for op in operations(corpus.app):
        if op.method == "GET" and not op.of("path"):
            listed = corpus.check(corpus.send(op), f"{op} listing")
            media = listed.headers["content-type"].split(";")[0]
            if listed.request.url.path in FILE_ANSWERS:  # a download, never shown as a page
                assert media == FILE_ANSWERS[listed.request.url.path]
                assert listed.headers["content-disposition"].startswith("attachment")
            else:
                assert media in JSON_TYPES
    pages = html_pages(corpus.app)
    assert "/" in pages
    escaped = 0
    for template in pages:
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: corpus.path_value(m.group(1)), template)
        page = corpus.browser.client.get(path, params={"next": "/" + XSS[0], "q": XSS[1]})
        assert page.status_code < 500, path
        for raw in HTML_SAFE:
            assert raw not in page.text, f"{path} shows markup unescaped"
        escaped += page.text.count("&lt;script&gt;") + page.text.count("&lt;img src=x")
    assert escaped, "no page showed a payload (escaped): the page check ran on nothing"


def html_pages(app: FastAPI) -> list[str]:
    """The GET routes outside the API (not in its schema): pages. Included routers are
    resolved the way FastAPI's own schema generator does it."""
    return [
        str(route.path) for route in iter_route_contexts(app.routes)
        if "GET" in (route.methods or ()) and route.path and not route.path.startswith("/api/")
    ]  # fmt: skip


# -- slow bodies, over a real socket -------------------------------------------------------
def raw_request(op: Operation, corpus: Corpus, length: int) -> bytes:
    return (
        f"{op.method} {corpus.url(op)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {corpus.api.token}\r\nContent-Type: {content_type(op)}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_slow_bodies_cut_and_the_server_stays_up(corpus: Corpus) -> None:
    """The real app under uvicorn (short timeouts): a stalled body on every operation that
    takes one, a trickled one on the first; each answered 408 with nothing written."""
    ops = [op for op in operations(corpus.app) if op.media is not None]
    assert ops
    before = corpus.counts()
    with serving(fast_amparo(corpus.registry)) as port:
        for n, op in enumerate(ops):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                start = b'{"title": "' if op.body is not None else b"--b\r\n"
                sock.sendall(raw_request(op, corpus, 1000) + start)
                if n == 0:  # a byte at a time: never idle long, always too slow
                    while not select.select([sock], [], [], 0.1)[0]:
                        sock.sendall(b"a")
                started = time.monotonic()
                status, headers, body = read_response(sock)
            assert status == 408, f"{op}: {status} {body[:200]!r}"
            assert headers["content-type"] == "application/problem+json"
            assert time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert read_response(sock)[0] == 200
    assert corpus.counts() == before
