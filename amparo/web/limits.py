"""Limits on request bodies (and NUL in URLs), enforced before any route sees a byte.

A pure ASGI middleware, not ``BaseHTTPMiddleware``: the body streams through it and is
counted, timed and scanned chunk by chunk, never buffered here. Five rules:

- **Size.** At most :data:`DEFAULT_LIMIT` bytes, or the limit of the longest prefix in
  :data:`ROUTE_LIMITS` (evidence uploads). JSON and URL-encoded forms never exceed
  :data:`STRUCTURED_LIMIT` whatever the route: a big limit is for files, and a 100 MiB JSON
  document would become gigabytes of Python objects. A ``Content-Length`` over the limit is
  refused before reading anything; a chunked body is counted as it arrives. Both: 413.
- **Pace.** The body must keep arriving: no wait for a chunk longer than
  :data:`IDLE_TIMEOUT_S`, and once :data:`RATE_GRACE_S` have been spent waiting, an average of
  at least :data:`MIN_RATE` bytes per second of waiting (a client that trickles a byte now and
  then holds a worker and a connection for nothing). Only time spent waiting for the client
  counts, never the app's own work between chunks. 408.
- **Encoding.** ``Content-Encoding`` other than ``identity`` is refused (415): Amparo never
  inflates request bodies, which is how decompression bombs get past a size limit.
- **JSON depth.** A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is refused (422, the
  field ``body``) as soon as the scan sees it, before any parser: Python's ``json`` recurses
  and fails with ``RecursionError`` on deep nesting. A NUL byte, which UTF-8 JSON never holds
  but UTF-16 and UTF-32 JSON do (and would hide brackets from the scan), is refused likewise.
- **NUL.** No NUL character in the path, a query parameter (422 naming it) or a JSON string
  (the escape ``\\u0000``; 422, ``body``). No field of Amparo holds one; PostgreSQL cannot
  store or even compare text holding one, so it would fail the query with a 5xx, and C code
  stops reading at it.

Errors under ``/api/`` are problem details (amparo.web.problems), elsewhere plain text; every
one closes the connection, since the rest of the body is left unread.

Why not FastAPI's own ``max_body_size``: its app-wide 413 is answered outside the app's
middleware and exception handlers (plain text, without the security headers), limits hang on
each route declaration rather than one table, and the other rules need this same receive
wrapper anyway.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote_plus

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amparo.web.problems import PROBLEM_TYPES, problem

__all__ = [
    "DEFAULT_LIMIT",
    "IDLE_TIMEOUT_S",
    "MAX_JSON_DEPTH",
    "MIN_RATE",
    "RATE_GRACE_S",
    "ROUTE_LIMITS",
    "STRUCTURED_LIMIT",
    "BodyLimits",
    "BodyPolicy",
    "BodyRejected",
    "JsonDepthScanner",
    "body_rejected",
]

MiB = 1024 * 1024
DEFAULT_LIMIT = 1 * MiB
STRUCTURED_LIMIT = 1 * MiB  # JSON and URL-encoded forms, on every route
# Path prefix -> limit; the longest matching prefix wins. A prefix matches itself and what
# lies below it ("/api/v1/evidence" matches "/api/v1/evidence/x", not "/api/v1/evidencex").
ROUTE_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "/api/v1/evidence": 100 * MiB,
        "/evidence/upload": 100 * MiB,
        "/triage/upload": 50 * MiB,
        "/api/v1/intake": 21 * MiB,  # a report's files: amparo.services.intake
    }
)
IDLE_TIMEOUT_S = 10.0
RATE_GRACE_S = 10.0
# Low enough for a poor mobile link (2G moves 5-30 KiB/s), high enough that a trickle is cut.
MIN_RATE = 2 * 1024
MAX_JSON_DEPTH = 32

_STRUCTURED_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})


class BodyRejected(HTTPException):
    """A body broke a limit; raised from ``receive`` so the route stops reading it."""

    def __init__(self, slug: str, message: str, *, field: str | None = None) -> None:
        super().__init__(PROBLEM_TYPES[slug][0], message, headers={"Connection": "close"})
        self.slug = slug
        self.message = message
        self.field = field


def rejection_response(path: str, exc: BodyRejected) -> Response:
    if path.startswith("/api/"):
        if exc.field is None:
            return problem(exc.slug, exc.message, headers=exc.headers)
        return problem(exc.slug, f"{exc.field}: {exc.message}", errors=[(exc.field, exc.message)],
                       headers=exc.headers)  # fmt: skip
    text = exc.message if exc.field is None else f"{exc.field}: {exc.message}"
    return PlainTextResponse(text, exc.status_code, headers=exc.headers)


async def body_rejected(request: Request, exc: Exception) -> Response:
    """Exception handler for :class:`BodyRejected` raised while a route reads its body."""
    assert isinstance(exc, BodyRejected)
    return rejection_response(request.url.path, exc)


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    # FastAPI parses these as JSON (application/json and application/*+json).
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


@dataclass(frozen=True)
class BodyPolicy:
    """The numbers; tests shorten the timeouts."""

    default_limit: int = DEFAULT_LIMIT
    structured_limit: int = STRUCTURED_LIMIT
    route_limits: Mapping[str, int] = field(default_factory=lambda: ROUTE_LIMITS)
    idle_timeout_s: float = IDLE_TIMEOUT_S
    rate_grace_s: float = RATE_GRACE_S
    min_rate: float = MIN_RATE
    max_json_depth: int = MAX_JSON_DEPTH

    def limit_for(self, path: str, media_type: str) -> int:
        limit = self.default_limit
        matched = ""
        for prefix, value in self.route_limits.items():
            base = prefix.rstrip("/")
            if (path == base or path.startswith(base + "/")) and len(base) > len(matched):
                matched, limit = base, value
        if media_type in _STRUCTURED_TYPES or _is_json(media_type):
            limit = min(limit, self.structured_limit)
        return limit


# Bytes that matter to nesting: brackets, quotes (strings hide brackets), backslashes
# (escaped quotes) and NUL (UTF-16/32 text, where a bracket's byte can hide in a character).
_JSON_SIGNIFICANT = re.compile(rb'[\[\]{}"\\\x00]')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")
_QUOTE, _BACKSLASH, _NUL = ord('"'), ord("\\"), 0


_NUL_ESCAPE = b"u0000"  # after a backslash
NUL_MESSAGE = "contains a NUL character"


class JsonDepthScanner:
    """Tracks the nesting depth of JSON text fed in arbitrary chunks, without parsing it,
    and spots the escape ``\\u0000`` in strings.

    The regular expression skips ordinary bytes, so a chunk costs one Python step per
    bracket, quote or backslash, not per byte. Malformed JSON is left to the parser.
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.offset = 0  # bytes seen before the current chunk
        self.escaped_at = -1  # absolute offset of the byte a backslash escapes
        self.after_escape: bytes | None = None  # an escape cut short by the end of a chunk

    def feed(self, chunk: bytes) -> str | None:
        """None while acceptable; else why not."""
        if self.after_escape is not None:
            self.after_escape += chunk[: len(_NUL_ESCAPE) - len(self.after_escape)]
            if self.after_escape == _NUL_ESCAPE:
                return NUL_MESSAGE
            if len(self.after_escape) == len(_NUL_ESCAPE):
                self.after_escape = None
        for match in _JSON_SIGNIFICANT.finditer(chunk):
            at = self.offset + match.start()
            byte = chunk[match.start()]
            if byte == _NUL:
                return "is not UTF-8 JSON"
            if self.in_string:
                if at == self.escaped_at:
                    continue
                if byte == _BACKSLASH:
                    self.escaped_at = at + 1
                    follows = chunk[match.end() : match.end() + len(_NUL_ESCAPE)]
                    if follows == _NUL_ESCAPE:
                        return NUL_MESSAGE
                    if len(follows) < len(_NUL_ESCAPE):
                        self.after_escape = follows
                elif byte == _QUOTE:
                    self.in_string = False
            elif byte == _QUOTE:
                self.in_string = True
            elif byte in _OPEN:
                self.depth += 1
                if self.depth > self.max_depth:
                    return f"is nested more than {self.max_depth} levels deep"
            elif byte in _CLOSE:
                self.depth = max(0, self.depth - 1)  # unbalanced: the parser will say so
        self.offset += len(chunk)
        return None


class _Body:
    """The receive channel of one request, with the limits applied to what comes through."""

    def __init__(self, receive: Receive, policy: BodyPolicy, limit: int, json: bool) -> None:
        self._receive = receive
        self.policy = policy
        self.limit = limit
        self.scanner = JsonDepthScanner(policy.max_json_depth) if json else None
        self.received = 0
        self.waited = 0.0  # seconds spent waiting for the client's chunks
        self.complete = False
        self.rejected: BodyRejected | None = None

    def reject(self, exc: BodyRejected) -> BodyRejected:
        self.rejected = exc  # sticky: a route that swallows it still gets no more body
        return exc

    def _budget(self) -> float:
        """Seconds the next chunk may take before the pace rule fails."""
        policy = self.policy
        if policy.min_rate <= 0:
            return policy.idle_timeout_s
        earned = max(policy.rate_grace_s, self.received / policy.min_rate) - self.waited
        return min(policy.idle_timeout_s, earned)

    async def receive(self) -> Message:
        if self.rejected is not None:
            raise self.rejected
        if self.complete:  # only http.disconnect is left to wait for: no clock on that
            return await self._receive()
        budget = self._budget()
        if budget <= 0:
            raise self.reject(BodyRejected("timeout", "the request body arrived too slowly"))
        started = time.monotonic()
        try:
            with anyio.fail_after(budget):
                message = await self._receive()
        except TimeoutError:
            # The pace rule set a shorter deadline than the idle timeout: it is what failed.
            idle = budget >= self.policy.idle_timeout_s
            why = "stopped arriving" if idle else "arrived too slowly"
            raise self.reject(BodyRejected("timeout", f"the request body {why}")) from None
        finally:
            self.waited += time.monotonic() - started
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self.received += len(chunk)
        if self.received > self.limit:
            raise self.reject(_too_large(self.limit))
        if self.scanner is not None and (refusal := self.scanner.feed(chunk)) is not None:
            raise self.reject(BodyRejected("validation", refusal, field="body"))
        if not message.get("more_body", False):
            self.complete = True
        elif self._budget() <= 0:
            raise self.reject(BodyRejected("timeout", "the request body arrived too slowly"))
        return message


def _too_large(limit: int) -> BodyRejected:
    return BodyRejected("too-large", f"the request body is larger than {limit} bytes")


def _check_url(scope: Scope) -> None:
    """No NUL in the path or a query parameter: PostgreSQL cannot even compare text with
    one (the query fails: a 5xx for bad input), and C code stops reading at it."""
    if "\x00" in scope["path"]:
        raise BodyRejected("validation", NUL_MESSAGE, field="path")
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query:
        return
    for pair in query.split(b"&"):
        if b"%00" in pair:
            name = unquote_plus(pair.partition(b"=")[0].decode("latin-1"))
            field = name[:64] if name and "\x00" not in name else "query"
            raise BodyRejected("validation", NUL_MESSAGE, field=field)


def _check_headers(headers: Headers, limit: int) -> None:
    encodings = [e.strip().lower() for e in headers.get("content-encoding", "").split(",")]
    if any(e not in ("", "identity") for e in encodings):
        raise BodyRejected("unsupported-media-type", "compressed request bodies are not accepted")
    declared = headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)


class BodyLimits:
    """The middleware: ``app.add_middleware(BodyLimits)`` plus the ``body_rejected`` handler."""

    def __init__(self, app: ASGIApp, policy: BodyPolicy | None = None) -> None:
        self.app = app
        self.policy = policy or BodyPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        media_type = _media_type(headers)
        limit = self.policy.limit_for(path, media_type)
        try:
            _check_url(scope)
            _check_headers(headers, limit)
        except BodyRejected as exc:
            await rejection_response(path, exc)(scope, receive, send)
            return
        body = _Body(receive, self.policy, limit, _is_json(media_type))
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, body.receive, tracking_send)
        except BodyRejected as exc:
            # Raised past the app's handlers (a route that caught and re-raised, or a
            # middleware below this one): answer it here if nothing was sent yet.
            if started:
                raise
            await rejection_response(path, exc)(scope, receive, send)
