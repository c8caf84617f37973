"""Body limits (size, pace, encoding, JSON depth) and the response headers that go with them.

Most tests drive a small app carrying the middleware through TestClient; the pace tests run
a real uvicorn server on a loopback port, since only a socket can send a body slowly.
"""

from __future__ import annotations

import json
import random
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.middleware import Middleware

from amparo.registry import Registry
from amparo.web.app import SECURITY_HEADERS, create_app
from amparo.web.limits import (
    DEFAULT_LIMIT,
    MAX_JSON_DEPTH,
    STRUCTURED_LIMIT,
    BodyLimits,
    BodyPolicy,
    BodyRejected,
    JsonDepthScanner,
    body_rejected,
)
from tests.web.conftest import BASE_URL

MiB = 1024 * 1024


class Note(BaseModel):
    text: str
    tags: list[Any] = []


def small_app(policy: BodyPolicy | None = None) -> FastAPI:
    """The middleware in front of three routes: JSON and raw bytes under /api/, a page."""
    app = FastAPI()
    app.add_middleware(BodyLimits, policy=policy)
    app.add_exception_handler(BodyRejected, body_rejected)

    @app.post("/api/notes")
    def notes(note: Note) -> dict[str, Any]:
        return {"text": note.text, "tags": len(note.tags)}

    @app.post("/api/v1/evidence/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/page")
    async def page(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
def small() -> Iterator[TestClient]:
    with TestClient(small_app()) as client:
        yield client


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body without Content-Length: TestClient sends it chunk by chunk."""
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:amparo:problem:{slug}"
    assert body["status"] == status
    return body


# -- the depth scanner -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"{}", 0),
        (b'{"a": [1, {"b": [[]]}', 2),  # an unfinished document: { and [ still open
        (b'{"a": "[[[[[[[[", "b": [', 2),  # brackets inside strings do not count
        (b'{"a": "quote \\" [[[[ still a string", "b": [', 2),
        (b'{"a": "backslash \\\\", "b": [', 2),  # an escaped backslash escapes no quote
        (b"]]]][", 1),  # unbalanced: clamped, left to the parser
    ],
)
def test_scanner_depth(text: bytes, depth: int) -> None:
    scanner = JsonDepthScanner(100)
    assert scanner.feed(text) is None
    assert scanner.depth == depth


def test_scanner_byte_by_byte_matches_whole() -> None:
    text = b'{"a": "x\\\\", "b": "y\\"[[", "c": [[{"d": "\\\\\\""}]]}'
    whole, split = JsonDepthScanner(100), JsonDepthScanner(100)
    assert whole.feed(text) is None
    depths = []
    for n in range(len(text)):
        assert split.feed(text[n : n + 1]) is None
        depths.append(split.depth)
    assert (split.depth, split.in_string) == (whole.depth, whole.in_string) == (0, False)
    assert max(depths) == 4  # {, then [[ and {
    json.loads(text)  # the sample is valid JSON


def test_scanner_refuses_depth_and_nul() -> None:
    assert JsonDepthScanner(3).feed(b"[[[1]]]") is None
    assert "more than 3 levels" in (JsonDepthScanner(3).feed(b"[[[[1]]]]") or "")
    assert JsonDepthScanner(3).feed('["é"]'.encode("utf-16-le")) == "is not UTF-8 JSON"


def test_scanner_refuses_escaped_nul_wherever_the_chunks_split() -> None:
    text = b'{"a": "ok \\\\u0000 is text", "b": "x\\u0000y"}'  # the first is an escaped backslash
    assert JsonDepthScanner(5).feed(text) == "contains a NUL character"
    for cut in range(1, len(text)):
        scanner = JsonDepthScanner(5)
        results = [scanner.feed(text[:cut]), scanner.feed(text[cut:])]
        assert "contains a NUL character" in results, cut
    assert JsonDepthScanner(5).feed(b'{"a": "ok \\\\u0000 is text", "b": "\\u0001"}') is None
    split = JsonDepthScanner(5)
    assert [split.feed(c) for c in (b'["\\', b"u", b"00", b"0", b"1", b'"]')] == [None] * 6


# -- limits per route and media type ---------------------------------------------------------
def test_limit_for() -> None:
    policy = BodyPolicy(route_limits={"/api/v1/evidence": 50, "/api/v1/evidence/big/": 90},
                        default_limit=10, structured_limit=20)  # fmt: skip
    assert policy.limit_for("/api/v1/incidents", "") == 10
    assert policy.limit_for("/api/v1/evidence", "multipart/form-data") == 50
    assert policy.limit_for("/api/v1/evidence/x", "application/octet-stream") == 50
    assert policy.limit_for("/api/v1/evidence/big/x", "image/jpeg") == 90
    assert policy.limit_for("/api/v1/evidencex", "image/jpeg") == 10
    assert policy.limit_for("/api/v1/evidence/x", "application/json") == 20
    assert policy.limit_for("/api/v1/evidence/x", "application/merge-patch+json") == 20
    assert policy.limit_for("/api/v1/evidence/x", "application/x-www-form-urlencoded") == 20


def test_default_numbers() -> None:
    policy = BodyPolicy()
    assert DEFAULT_LIMIT == STRUCTURED_LIMIT == MiB
    assert policy.limit_for("/api/v1/evidence/1/files", "multipart/form-data") == 100 * MiB
    assert policy.limit_for("/api/v1/incidents", "application/json") == MiB


# -- size --------------------------------------------------------------------------------------
def test_declared_length_over_the_limit_is_refused_before_reading(small: TestClient) -> None:
    response = small.post(
        "/api/notes", content=b"{}", headers={"Content-Length": str(DEFAULT_LIMIT + 1),
                                              "Content-Type": "application/json"}
    )  # fmt: skip
    # TestClient sends the two bytes it has; the declared length alone decides.
    body = assert_problem(response, 413, "too-large")
    assert str(DEFAULT_LIMIT) in body["detail"]


def test_streamed_body_over_the_limit(small: TestClient) -> None:
    response = small.post("/api/v1/evidence/upload", content=chunks(100 * MiB + 1, 4 * MiB))
    assert_problem(response, 413, "too-large")
    assert small.post("/api/notes", content=chunks(2 * MiB),
                      headers={"Content-Type": "application/json"}).status_code == 413  # fmt: skip


def test_plain_text_outside_the_api(small: TestClient) -> None:
    response = small.post("/page", content=chunks(DEFAULT_LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert "larger than" in response.text


def test_uploads_get_their_bigger_limit(small: TestClient) -> None:
    response = small.post("/api/v1/evidence/upload", content=chunks(3 * MiB))
    assert response.status_code == 200
    assert response.json() == {"bytes": 3 * MiB}
    json_upload = small.post(
        "/api/v1/evidence/upload", content=b"[" + b"1," * MiB + b"1]",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert_problem(json_upload, 413, "too-large")


def test_bodies_within_limits_pass_intact(small: TestClient) -> None:
    note = {"text": '[[[ not nesting ]]] \\" é', "tags": [[[[1]]]]}
    response = small.post("/api/notes", json=note)
    assert response.status_code == 200, response.text
    assert response.json() == {"text": note["text"], "tags": 1}
    assert small.post("/page", content=chunks(DEFAULT_LIMIT)).json() == {"bytes": DEFAULT_LIMIT}


# -- encoding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "identity, gzip", "x-unknown"])
def test_compressed_bodies_refused(small: TestClient, encoding: str) -> None:
    response = small.post("/api/notes", content=b"\x1f\x8b",
                          headers={"Content-Encoding": encoding})  # fmt: skip
    assert_problem(response, 415, "unsupported-media-type")


def test_identity_encoding_accepted(small: TestClient) -> None:
    response = small.post(
        "/api/notes", json={"text": "a"}, headers={"Content-Encoding": "identity"}
    )
    assert response.status_code == 200


# -- JSON depth --------------------------------------------------------------------------------
def test_deep_json_refused_naming_body(small: TestClient) -> None:
    response = small.post("/api/notes", content=nested(100_000),
                          headers={"Content-Type": "application/json"})  # fmt: skip
    body = assert_problem(response, 422, "validation")
    assert body["errors"] == [
        {"field": "body", "message": f"is nested more than {MAX_JSON_DEPTH} levels deep"}
    ]


def test_json_at_the_depth_limit_reaches_the_route(small: TestClient) -> None:
    tags = json.loads(nested(MAX_JSON_DEPTH - 1))  # the object itself is one level
    response = small.post("/api/notes", json={"text": "deep", "tags": tags})
    assert response.status_code == 200, response.text


def test_deep_json_split_across_chunks(small: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"text": "a", "tags": '
        for _ in range(50):
            yield b"["

    response = small.post(
        "/api/notes", content=body(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation")


def test_utf16_json_refused(small: TestClient) -> None:
    response = small.post(
        "/api/notes", content=json.dumps({"text": "a"}).encode("utf-16"),
        headers={"Content-Type": "application/json; charset=utf-16"},
    )  # fmt: skip
    assert assert_problem(response, 422, "validation")["errors"][0]["field"] == "body"


def test_depth_not_checked_on_other_media_types(small: TestClient) -> None:
    response = small.post("/api/v1/evidence/upload", content=nested(1000),
                          headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert response.json() == {"bytes": 2000}


# -- NUL in the URL --------------------------------------------------------------------------
def test_nul_in_a_query_parameter_refused_naming_it(small: TestClient) -> None:
    response = small.post("/api/notes?lang=en&country=a%00b", json={"text": "a"})
    body = assert_problem(response, 422, "validation")
    assert body["errors"] == [{"field": "country", "message": "contains a NUL character"}]
    named = small.post("/api/notes?a%00=1", json={"text": "a"})
    assert assert_problem(named, 422, "validation")["errors"][0]["field"] == "query"
    page = small.post("/page?q=%00")
    assert (page.status_code, page.text) == (422, "q: contains a NUL character")
    assert small.post("/api/notes?q=%2500", json={"text": "a"}).status_code == 200


def test_nul_in_the_path_refused(small: TestClient) -> None:
    response = small.post("/api/v1/evidence/upload%00.jpg", content=b"x")
    assert assert_problem(response, 422, "validation")["errors"][0]["field"] == "path"


def test_escaped_nul_in_json_refused(small: TestClient) -> None:
    response = small.post("/api/notes", content=b'{"text": "a\\u0000b"}',
                          headers={"Content-Type": "application/json"})  # fmt: skip
    body = assert_problem(response, 422, "validation")
    assert body["errors"] == [{"field": "body", "message": "contains a NUL character"}]


# -- in the real app ---------------------------------------------------------------------------
@pytest.fixture
def amparo(registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(registry), base_url=BASE_URL) as client:
        yield client


def test_real_app_refusals_carry_the_security_headers(amparo: TestClient) -> None:
    big = amparo.post("/api/v1/status", content=b"{}", headers={
        "Content-Length": str(10 * MiB), "Content-Type": "application/json"})  # fmt: skip
    gzip = amparo.post("/login", content=b"\x1f\x8b", headers={"Content-Encoding": "gzip"})
    streamed = amparo.post(
        "/login",
        content=chunks(2 * MiB),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(big, 413, "too-large")
    assert (gzip.status_code, streamed.status_code) == (415, 413)
    assert gzip.headers["content-type"].startswith("text/plain")
    for response in (big, gzip, streamed):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, name
    assert amparo.get("/healthz").status_code == 200


def test_json_responses_carry_csp_and_no_store(amparo: TestClient) -> None:
    for response in (amparo.get("/healthz"), amparo.get("/api/v1/status")):
        assert response.headers["content-type"].split(";")[0] in (
            "application/json", "application/problem+json",
        )  # fmt: skip
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["cross-origin-resource-policy"] == "same-origin"


def test_csp_is_strict() -> None:
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    for name in ("script-src", "style-src", "img-src", "form-action"):
        assert directives.get(name, "'self'") == "'self'", name  # our own files, nothing else
    assert not re.search(r"https?:|\*|data:|blob:|unsafe-", csp), "no other origin or inline code"


# Another host, named or protocol-relative, where a page would load or send something.
THIRD_PARTY = re.compile(
    r"""https?://|(?:src|href|action|srcset)\s*=\s*["']?\s*//|url\(\s*["']?\s*//|@import""",
    re.IGNORECASE,
)
NAMESPACES = re.compile(r"http://www\.w3\.org/[\w/.]+")  # XML namespaces name, never load


def _files(folder: Traversable) -> Iterator[Traversable]:
    for entry in folder.iterdir():
        yield from _files(entry) if entry.is_dir() else [entry]


def test_pages_and_assets_load_nothing_from_another_host() -> None:
    web = resources.files("amparo.web")
    found = []
    for folder in ("templates", "static"):
        if not web.joinpath(folder).is_dir():
            continue
        for entry in _files(web.joinpath(folder)):
            if entry.name.endswith((".html", ".css", ".js", ".svg", ".txt")):
                text = NAMESPACES.sub("", entry.read_text(encoding="utf-8"))
                found += [(entry.name, m) for m in THIRD_PARTY.findall(text)]
    assert found == []


# -- pace, over a real socket ------------------------------------------------------------------
FAST = BodyPolicy(idle_timeout_s=0.4, rate_grace_s=1.0, min_rate=200)


@contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """uvicorn on an ephemeral loopback port in a thread; yields the port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical",
                            lifespan="off", access_log=False, http="h11", ws="none")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response on a connection the server then closes."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def request_head(path: str, length: int, media_type: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {media_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()  # fmt: skip


def trickle(
    port: int, path: str, media_type: str, every_s: float
) -> tuple[int, dict[str, str], bytes, float]:
    """Declare 10 kB, then send a byte every ``every_s`` until the server answers.

    A byte sent just after the server answered and closed (between our wait and our send)
    makes its kernel reset the connection, and a reset can discard the answer before we read
    it: that is TCP, not the server, so such a try is made again (at most three tries). The
    waits vary around ``every_s`` (0.55-1.45 times it): at exactly ``every_s`` a byte fell
    due at the very moment the server's one-second grace ran out, try after try.
    Returns the status, headers and body, and the seconds the answering try took."""
    for attempt in range(3):
        jitter = random.Random(attempt)
        try:
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(request_head(path, 10_000, media_type))
                for _ in range(200):
                    wait = every_s * (0.55 + 0.9 * jitter.random())
                    readable, _, _ = select.select([sock], [], [], wait)
                    if readable:
                        break
                    sock.sendall(b"a")
                status, headers, body = read_response(sock)
                return status, headers, body, time.monotonic() - started
        except (ConnectionResetError, BrokenPipeError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def healthy(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, _, body = read_response(sock)
    return status == 200 and json.loads(body) == {"status": "ok"}


def fast_amparo(registry: Registry) -> FastAPI:
    """The real app with the short timeouts (the stack is built at the first request)."""
    app = create_app(registry)
    ours: object = BodyLimits
    assert any(m.cls is ours for m in app.user_middleware)
    app.user_middleware = [
        Middleware(BodyLimits, policy=FAST) if m.cls is ours else m for m in app.user_middleware
    ]
    return app


def test_stalled_body_answered_408(registry: Registry) -> None:
    with serving(fast_amparo(registry)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            form = "application/x-www-form-urlencoded"
            sock.sendall(request_head("/login", 100, form) + b"username=ana")
            started = time.monotonic()
            status, headers, body = read_response(sock)
        assert status == 408
        # Not before the body timeout; the upper bound only tells a late answer from none
        # (a loaded two-core machine has answered after 7 s).
        assert 0.3 < time.monotonic() - started < 30
        assert headers["content-type"].startswith("text/plain")
        assert headers["connection"] == "close"
        assert headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
        assert body == b"the request body stopped arriving"
        assert healthy(port)


def test_trickled_body_answered_408(registry: Registry) -> None:
    """A byte every 0.1 s never trips the idle timeout, but the average rate does."""
    with serving(fast_amparo(registry)) as port:
        status, _, body, took = trickle(port, "/login", "application/x-www-form-urlencoded", 0.1)
        assert status == 408
        assert took < 5
        assert body == b"the request body arrived too slowly"
        assert healthy(port)


def test_trickled_json_to_the_api_answered_problem(registry: Registry) -> None:
    with serving(small_app(FAST)) as port:
        status, headers, body, _ = trickle(port, "/api/notes", "application/json", 0.1)
        assert status == 408
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["type"] == "urn:amparo:problem:timeout"
        assert healthy(port)


def test_huge_declared_body_refused_at_once_over_a_socket() -> None:
    with serving(small_app(FAST)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request_head("/api/v1/evidence/upload", 10**12, "image/jpeg") + b"x")
            status, headers, _ = read_response(sock)
        assert (status, headers["connection"]) == (413, "close")
        assert healthy(port)


def test_steady_body_is_not_cut() -> None:
    """A slow but steady client (above the rate, never idle long) gets through."""
    with serving(small_app(FAST)) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request_head("/page", 3000, "application/octet-stream"))
            for _ in range(10):
                sock.sendall(b"b" * 300)
                time.sleep(0.1)
            sock.shutdown(socket.SHUT_WR)
            status, _, body = read_response(sock)
        assert (status, json.loads(body)) == (200, {"bytes": 3000})
