"""The intake over the API, for partner systems: ``POST /api/v1/intake`` and its status.

Public like the report form (no account, no token): a partner's hotline software posts what
it received, as JSON (files in base64, within the 1 MiB JSON limit) or as
``multipart/form-data`` (files as parts named ``files``, read into memory, never spooled to a
temporary file). The submission is sealed by amparo.services.intake before anything is
written, and the answer holds the receipt code, once. ``GET /api/v1/intake/status?code=``
tells received, in_review or acted_on. Errors are problem details; submissions and failed
look-ups are rate limited per address (429 with ``Retry-After``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from amparo.errors import NotFound, ValidationError
from amparo.services.intake import (
    ANSWERS,
    CONSENTS,
    MAX_FILES,
    MAX_SUBMISSION_BYTES,
    IntakeThrottled,
)
from amparo.web.api import PREFIX
from amparo.web.memory_form import read_memory_form
from amparo.web.problems import PROBLEM_RESPONSES, problem

__all__ = ["INTAKE_PATH", "router"]

INTAKE_PATH = f"{PREFIX}/intake"
LANGUAGE = re.compile(r"^[a-z]{2}$")
MAX_NAME = 255
_TEXT = {name: {"type": "string", "maxLength": limit} for name, limit in ANSWERS.items()}
_TEXT["what"] = {**_TEXT["what"], "minLength": 1, "description": "What happened"}
_CONSENT = {"type": "array", "items": {"type": "string", "enum": list(CONSENTS)},
            "maxItems": len(CONSENTS)}  # fmt: skip
_LANGUAGE = {"type": "string", "pattern": LANGUAGE.pattern}
JSON_SCHEMA = {
    "type": "object", "required": ["what"], "additionalProperties": False,
    "properties": {
        **_TEXT, "consent": _CONSENT, "language": _LANGUAGE,
        "files": {"type": "array", "maxItems": MAX_FILES, "items": {
            "type": "object", "required": ["name", "content_base64"], "additionalProperties": False,
            "properties": {"name": {"type": "string", "maxLength": MAX_NAME},
                           "content_base64": {"type": "string", "format": "byte"}},
        }},
    },
}  # fmt: skip
MULTIPART_SCHEMA = {
    "type": "object", "required": ["what"],
    "properties": {**_TEXT, "consent": _CONSENT, "language": _LANGUAGE,
                   "files": {"type": "array", "maxItems": MAX_FILES,
                             "items": {"type": "string", "format": "binary"}}},
}  # fmt: skip
BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": JSON_SCHEMA},
    "multipart/form-data": {"schema": MULTIPART_SCHEMA},
}}}  # fmt: skip


class IntakeReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    receipt_code: str
    status: Literal["received"]


class IntakeStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["received", "in_review", "acted_on"]


def _from_json(body: Any) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """Exactly what JSON_SCHEMA allows; a ValidationError naming the field otherwise."""
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    answers: dict[str, Any] = {}
    for name, value in body.items():
        if name in ANSWERS:
            if not isinstance(value, str):
                raise ValidationError(name, "must be text")
            answers[name] = value
        elif name == "consent":
            if not isinstance(value, list) or any(c not in CONSENTS for c in value):
                raise ValidationError("consent", f"must be a list among {', '.join(CONSENTS)}")
            if len(value) > len(CONSENTS):
                raise ValidationError("consent", "lists a consent twice")
            answers["consent"] = value
        elif name == "language":
            if not isinstance(value, str) or not LANGUAGE.match(value):
                raise ValidationError("language", "must be a two-letter code")
            answers["language"] = value
        elif name != "files":
            raise ValidationError(name, "is not a question of the intake")
    if "what" not in answers:
        raise ValidationError("what", "is required")
    files = body.get("files", [])
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise ValidationError("files", f"must be a list of at most {MAX_FILES} files")
    out = []
    for i, item in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(item, dict) or set(item) != {"name", "content_base64"}:
            raise ValidationError(where, "must hold name and content_base64, nothing else")
        name, content = item["name"], item["content_base64"]
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise ValidationError(f"{where}.name", f"must be text of at most {MAX_NAME} characters")
        if not isinstance(content, str):
            raise ValidationError(f"{where}.content_base64", "must be base64 text")
        try:
            out.append((name, base64.b64decode(content, validate=True)))
        except (binascii.Error, ValueError):
            raise ValidationError(f"{where}.content_base64", "is not valid base64") from None
    return answers, out


async def _from_multipart(request: Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    names = frozenset({*ANSWERS, "consent", "language"})
    posted = await read_memory_form(
        request, names, max_files=MAX_FILES, max_file_bytes=MAX_SUBMISSION_BYTES
    )
    answers: dict[str, Any] = {n: v[0] for n, v in posted.fields.items() if n in ANSWERS and v}
    consent = posted.fields.get("consent", [])
    if any(c not in CONSENTS for c in consent) or len(consent) > len(CONSENTS):
        raise ValidationError("consent", f"choose among {', '.join(CONSENTS)}")
    answers["consent"] = consent
    language = posted.fields.get("language")
    if language:
        if not LANGUAGE.match(language[0]):
            raise ValidationError("language", "must be a two-letter code")
        answers["language"] = language[0]
    if "what" not in answers:
        raise ValidationError("what", "is required")
    return answers, posted.files


def _throttled(exc: IntakeThrottled) -> JSONResponse:
    wait = str(max(1, int(exc.retry_after.total_seconds())))
    return problem("too-many-requests", "too many requests from here; try again later",
                   headers={"Retry-After": wait})  # fmt: skip


def router() -> APIRouter:
    public = APIRouter(prefix=PREFIX, tags=["intake"], responses=PROBLEM_RESPONSES)

    @public.post(
        "/intake",
        status_code=201,
        response_model=IntakeReceipt,
        openapi_extra={**BODY, "security": []},
        summary="Send a report (sealed on receipt); answers its receipt code, once",
    )
    async def submit(request: Request) -> Any:
        # A browser with a live session proves its CSRF token (header), as on every route.
        await request.app.state.auth.session(request)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ValidationError("body", "is not valid JSON") from None
            answers, files = _from_json(body)
        elif media_type == "multipart/form-data":
            answers, files = await _from_multipart(request)
        else:
            return problem("unsupported-media-type", "send application/json or multipart/form-data")
        service = request.app.state.auth.registry.intake
        address = request.client.host if request.client else "unknown"
        try:
            receipt = service.receive(answers, files, channel="api", address=address)
        except IntakeThrottled as exc:
            return _throttled(exc)
        except NotFound:
            return problem("not-found", "intake is not set up on this installation")
        return JSONResponse({"id": receipt.submission_id, "receipt_code": receipt.code,
                             "status": "received"}, status_code=201,
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    @public.get(
        "/intake/status", response_model=IntakeStatus, openapi_extra={"security": []},
        summary="The status of a report by its receipt code (nothing else)",
    )  # fmt: skip
    def status(request: Request, code: Annotated[str, Query(min_length=1, max_length=200)]) -> Any:
        service = request.app.state.auth.registry.intake
        address = request.client.host if request.client else "unknown"
        try:
            return {"status": service.status(code, address)}
        except IntakeThrottled as exc:
            return _throttled(exc)

    return public
