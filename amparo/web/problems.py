"""Errors of the JSON API in one shape: RFC 9457 problem details.

Every error under ``/api/`` answers ``application/problem+json``::

    {"type": "urn:amparo:problem:validation", "title": "Invalid input", "status": 422,
     "detail": "acts[0].act_type: unknown code 'Z9'",
     "errors": [{"field": "acts[0].act_type", "message": "unknown code 'Z9'"}]}

``type`` is a URN naming the kind of problem (listed in ``PROBLEM_TYPES`` and docs/api.md);
``errors`` appears on validation problems only, one entry per field, with the same dotted
paths the library uses (``acts[2].perpetrators``). Nothing in a problem echoes stored data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from amparo.errors import (
    AmparoError,
    Conflict,
    Forbidden,
    IntegrityError,
    KeyShredded,
    NotFound,
    StorageError,
    ValidationError,
    ValidationErrors,
    VaultError,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_RESPONSES",
    "PROBLEM_TYPES",
    "FieldProblem",
    "Problem",
    "field_path",
    "from_amparo_error",
    "from_request_validation",
    "problem",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"

# type slug -> (HTTP status, title). The slug becomes "urn:amparo:problem:<slug>".
PROBLEM_TYPES: Mapping[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "unauthenticated": (401, "Sign-in required"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-acceptable": (406, "Not acceptable"),
    "timeout": (408, "Request body too slow"),
    "conflict": (409, "Conflict"),
    "gone": (410, "Gone"),
    "precondition-failed": (412, "Precondition failed"),
    "too-large": (413, "Content too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation": (422, "Invalid input"),
    "too-many-requests": (429, "Too many requests"),
    "integrity": (500, "Stored data failed its integrity check"),
    "unavailable": (503, "Storage unavailable"),
}


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. acts[0].act_type")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URN of the kind of problem (urn:amparo:problem:...)")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


def problem(
    slug: str,
    detail: str | None = None,
    *,
    status: int | None = None,
    errors: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    default_status, title = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": f"urn:amparo:problem:{slug}",
        "title": title,
        "status": status or default_status,
    }
    if detail:
        body["detail"] = detail
    listed = [{"field": f, "message": m} for f, m in errors]
    if listed:
        body["errors"] = listed
    return JSONResponse(
        body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def from_amparo_error(exc: AmparoError) -> JSONResponse:
    """The problem for a deliberate library error (anything else is a bug: a plain 500)."""
    if isinstance(exc, ValidationErrors):
        return problem("validation", str(exc), errors=[(e.field, e.message) for e in exc.errors])
    if isinstance(exc, ValidationError):
        return problem("validation", str(exc), errors=[(exc.field, exc.message)])
    if isinstance(exc, NotFound):
        return problem("not-found", str(exc))
    if isinstance(exc, Forbidden):
        return problem("forbidden", str(exc))
    if isinstance(exc, Conflict):
        return problem("conflict", str(exc))
    if isinstance(exc, KeyShredded):
        return problem("gone", str(exc))
    if isinstance(exc, IntegrityError):
        return problem("integrity", str(exc))
    if isinstance(exc, StorageError | VaultError):
        return problem("unavailable", str(exc))
    return problem("bad-request", str(exc))


def field_path(loc: Sequence[int | str]) -> str:
    """("body", "acts", 0, "act_type") -> "acts[0].act_type"; query/path names stay bare."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def from_request_validation(exc: RequestValidationError) -> JSONResponse:
    errors = []
    for error in exc.errors():
        loc = error.get("loc", ())
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "json_invalid":
            errors.append(("body", "is not valid JSON"))
            continue
        errors.append((field_path(loc), message))
    detail = "; ".join(f"{f}: {m}" for f, m in errors[:5])
    return problem("validation", jsonable_encoder(detail), errors=errors)


# For route declarations: every API operation can answer these.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "description": title,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, title in (
        (400, "Bad request"),
        (401, "Sign-in required"),
        (403, "Forbidden"),
        (404, "Not found"),
        (406, "Not acceptable"),
        (408, "Request body too slow"),
        (409, "Conflict"),
        (410, "Gone: the case was shredded"),
        (413, "Content too large"),
        (415, "Unsupported media type"),
        (422, "Invalid input"),
        (429, "Too many requests"),
        (503, "Storage unavailable"),
    )
}
