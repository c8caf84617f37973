"""Evidence files and captures over the JSON API (amparo.services.evidence does the work).

Uploads are ``multipart/form-data`` read straight from the request stream into memory by
python-multipart's streaming parser, never through ``UploadFile``, which spools anything
over 1 MiB to an unencrypted temporary file: the plaintext of an upload is never written to
disk. The body limit (amparo.web.limits, 100 MiB under ``/api/v1/evidence``) and the file
limit here (``MAX_UPLOAD_BYTES``) answer 413; an encoded body (``Content-Encoding: gzip``)
is refused before it is read.

Downloads are always attachments (``Content-Disposition: attachment``) with ``nosniff``, a
``sandbox`` CSP, ``Cache-Control: no-store`` and a ``Repr-Digest`` (RFC 9530) of the bytes;
they are typed only as a known image, PDF or archive type, anything else (a saved web page
above all) as ``application/octet-stream``, so stored HTML never runs in a browser.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from amparo.errors import Forbidden, ValidationError
from amparo.evidence.names import content_disposition
from amparo.evidence.sniff import ARCHIVE_TYPES, IMAGE_TYPES
from amparo.services.evidence import MAX_DESCRIPTION, MAX_EVIDENCE_BYTES, MAX_URL
from amparo.web.api import protected_router
from amparo.web.auth import CurrentUser

__all__ = ["MAX_UPLOAD_BYTES", "router"]

MAX_UPLOAD_BYTES = MAX_EVIDENCE_BYTES
MAX_FIELD_BYTES = 4 * MAX_DESCRIPTION  # a UTF-8 character takes up to 4 bytes
MAX_PARTS = 10
ID_PATTERN = re.compile(r"^[0-9a-f]{1,32}$")
# What a download may be typed as; everything else is application/octet-stream.
DOWNLOAD_TYPES = frozenset({*IMAGE_TYPES, "application/pdf", *ARCHIVE_TYPES})
BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_CONTENT = {media_type: BINARY for media_type in sorted(
    DOWNLOAD_TYPES | {"application/octet-stream"})}  # fmt: skip
DOWNLOAD_HEADERS = {
    "Content-Disposition": {
        "description": "Always `attachment`, with the item's name", "schema": {"type": "string"}
    },
    "Repr-Digest": {
        "description": "SHA-256 of the bytes (RFC 9530), as in the custody log",
        "schema": {"type": "string"},
    },
}  # fmt: skip

EvidenceId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
OptionalId = Annotated[str | None, Query(max_length=32, pattern=r"^[0-9a-f]{1,32}$")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceOut(_Out):
    id: str
    case_id: str
    incident_id: str | None
    kind: Literal["file", "capture"]
    name: str
    media_type: str
    size: int
    sha256: str
    shared_status: Literal["stripped", "kept", "none"]
    shared_media_type: str | None
    shared_size: int | None
    shared_sha256: str | None
    metadata_removed: list[str]
    description: str | None
    url: str | None
    captured_at: datetime | None
    created_at: datetime
    created_by: str


class EvidenceList(_Out):
    items: list[EvidenceOut]


class CustodyEntryOut(_Out):
    seq: int
    at: datetime
    actor: str
    event: Literal[
        "added", "viewed", "downloaded_original", "downloaded_shared", "exported", "verified"
    ]
    sha256: str | None
    shared_sha256: str | None
    detail: str


class VerifyOut(_Out):
    evidence_id: str
    ok: bool
    original_ok: bool
    shared_ok: bool | None
    custody_ok: bool
    sha256: str | None
    shared_sha256: str | None
    problems: list[str]


def _upload_body(fields: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": fields}
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}  # fmt: skip


_ID_FIELD = {"type": "string", "maxLength": 32, "pattern": "^[0-9a-f]{1,32}$"}
_FILE_FIELD = {"type": "string", "format": "binary",
               "description": f"The file, at most {MAX_UPLOAD_BYTES} bytes"}  # fmt: skip
FILE_BODY = _upload_body(
    {"file": _FILE_FIELD, "case_id": _ID_FIELD, "incident_id": _ID_FIELD,
     "description": {"type": "string", "maxLength": MAX_DESCRIPTION}},
    ["file"],
)  # fmt: skip
CAPTURE_BODY = _upload_body(
    {"file": _FILE_FIELD, "url": {"type": "string", "maxLength": MAX_URL},
     "captured_at": {"type": "string", "format": "date-time"},
     "case_id": _ID_FIELD, "incident_id": _ID_FIELD,
     "note": {"type": "string", "maxLength": MAX_DESCRIPTION}},
    ["file", "url", "captured_at"],
)  # fmt: skip


# -- reading an upload ------------------------------------------------------------------------
@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    file_data: bytes | None = None


class _Collector:
    """Callbacks for python-multipart's streaming parser: text fields and one file, in
    memory, each under its limit."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self.form = UploadForm()
        self.parts = 0
        self.ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._target: str | None = None  # "file", a field name, or None (ignored part)
        self._buffer = bytearray()
        self._file_seen = False

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ValidationError("body", f"has more than {MAX_PARTS} parts")
        self._headers = {}
        self._buffer = bytearray()
        self._target = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", errors="replace")
        if name == "file":
            if self._file_seen:
                raise ValidationError("file", "give one file per upload")
            self._file_seen = True
            self._target = "file"
            raw = params.get(b"filename", b"").decode("utf-8", errors="replace")
            # Browsers escape exactly these three in multipart names (HTML's form encoding).
            for escaped, char in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
                raw = raw.replace(escaped, char)
            self.form.file_name = raw
        elif name in self.names:
            self._target = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target is None:
            return  # a field this route does not take: not even buffered
        self._buffer += data[start:end]
        if self._target == "file" and len(self._buffer) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"file: is larger than {MAX_UPLOAD_BYTES} bytes")
        if self._target != "file" and len(self._buffer) > MAX_FIELD_BYTES:
            raise ValidationError(self._target, "is too long")

    def on_part_end(self) -> None:
        if self._target == "file":
            self.form.file_data = bytes(self._buffer)
        elif self._target is not None:
            try:
                self.form.fields[self._target] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(self._target, "is not UTF-8 text") from None
        self._buffer = bytearray()

    def on_end(self) -> None:
        self.ended = True


async def read_upload(request: Request, names: frozenset[str]) -> UploadForm:
    """The form of a multipart upload, streamed into memory (no temporary file)."""
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise HTTPException(415, "send multipart/form-data with a boundary")
    collector = _Collector(names)
    callbacks: Any = {
        name: getattr(collector, name)
        for name in ("on_part_begin", "on_part_data", "on_part_end", "on_header_field",
                     "on_header_value", "on_header_end", "on_headers_finished", "on_end")
    }  # fmt: skip
    try:
        parser = MultipartParser(boundary, callbacks)
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise ValidationError("body", f"is not a valid multipart form ({exc})") from None
    if not collector.ended:
        raise ValidationError("body", "is not a complete multipart form")
    if collector.form.file_data is None:
        raise ValidationError("file", "is required")
    for name in ("case_id", "incident_id"):
        value = collector.form.fields.get(name) or None
        if value is not None and not ID_PATTERN.match(value):
            raise ValidationError(name, "is not an Amparo id")
    return collector.form


# -- responses ------------------------------------------------------------------------------
def _download(data: bytes, media_type: str, name: str, sha256_hex: str) -> Response:
    digest = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
    return Response(
        data,
        media_type=media_type if media_type in DOWNLOAD_TYPES else "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


def _created(item: Any) -> Response:
    return JSONResponse(item.to_dict(), status_code=201,
                        headers={"Location": f"/api/v1/evidence/{item.id}"})  # fmt: skip


def router() -> APIRouter:
    api = protected_router("evidence")

    @api.post(
        "/evidence", status_code=201, response_model=EvidenceOut, openapi_extra=FILE_BODY,
        summary="Upload an evidence file",
    )  # fmt: skip
    async def add_evidence(request: Request, ctx: CurrentUser) -> Response:
        """Multipart: `file`, and `case_id` or `incident_id`; `description` optional. The
        SHA-256 is taken at intake; the type comes from the bytes. Zip and decompression
        bombs, nested archives and oversized images are refused with 422 and nothing is
        stored. The answer says what the shared copy lost (`metadata_removed`)."""
        form = await read_upload(request, frozenset({"case_id", "incident_id", "description"}))
        item = await run_in_threadpool(
            ctx.registry.evidence.add, form.fields.get("case_id") or None,
            form.file_name or "", form.file_data or b"",
            incident_id=form.fields.get("incident_id") or None,
            description=form.fields.get("description"),
        )  # fmt: skip
        return _created(item)

    @api.post(
        "/evidence/captures", status_code=201, response_model=EvidenceOut,
        openapi_extra=CAPTURE_BODY, summary="Record a capture of online content",
    )  # fmt: skip
    async def add_capture(request: Request, ctx: CurrentUser) -> Response:
        """Multipart: `url`, `captured_at` (ISO 8601; not in the future; no zone means UTC),
        `file` (your screenshot, a PDF, or the saved page as HTML or MHTML), `case_id` or
        `incident_id`, `note`. Amparo never fetches the URL. A saved page is kept as it is
        and only ever served as a download, never as HTML."""
        form = await read_upload(
            request, frozenset({"case_id", "incident_id", "url", "captured_at", "note"})
        )
        try:
            captured_at = datetime.fromisoformat(form.fields.get("captured_at", ""))
        except ValueError:
            raise ValidationError("captured_at", "is not an ISO 8601 date and time") from None
        item = await run_in_threadpool(
            ctx.registry.evidence.add_capture, form.fields.get("case_id") or None,
            form.fields.get("url", ""), captured_at, form.file_name or "",
            form.file_data or b"", incident_id=form.fields.get("incident_id") or None,
            note=form.fields.get("note"),
        )  # fmt: skip
        return _created(item)

    @api.get("/evidence", response_model=EvidenceList, summary="List evidence items")
    def list_evidence(
        ctx: CurrentUser, case_id: OptionalId = None, incident_id: OptionalId = None
    ) -> Response:
        """Items of a case or an incident (or of every case you are a member of), oldest
        first."""
        items = ctx.registry.evidence.list(case_id=case_id, incident_id=incident_id)
        return JSONResponse({"items": [item.to_dict() for item in items]})

    @api.get("/evidence/{evidence_id}", response_model=EvidenceOut, summary="One evidence item")
    def get_evidence(ctx: CurrentUser, evidence_id: EvidenceId) -> Response:
        """Name, type, hashes, what the shared copy lost, URL and time of a capture. A view
        in the item's custody log."""
        return JSONResponse(ctx.registry.evidence.get(evidence_id).to_dict())

    @api.get(
        "/evidence/{evidence_id}/shared", summary="Download the shared copy (metadata removed)",
        responses={200: {"description": "The shared copy", "content": DOWNLOAD_CONTENT,
                         "headers": DOWNLOAD_HEADERS}},
    )  # fmt: skip
    def get_shared(ctx: CurrentUser, evidence_id: EvidenceId) -> Response:
        """The copy to share: GPS, camera, author, XMP and the like removed (409 for kinds of
        file Amparo cannot clean). Recorded in the custody log."""
        content = ctx.registry.evidence.shared_copy(evidence_id)
        return _download(content.data, content.media_type, content.name, content.sha256)

    @api.get(
        "/evidence/{evidence_id}/original", summary="Download the original, metadata and all",
        responses={200: {"description": "The original exactly as received",
                         "content": DOWNLOAD_CONTENT, "headers": DOWNLOAD_HEADERS}},
    )  # fmt: skip
    def get_original(ctx: CurrentUser, evidence_id: EvidenceId) -> Response:
        """Needs the `read_original` permission (and, with a token, scope `export`: the
        original leaves the vault with everything it reveals). Audited and recorded in the
        custody log."""
        if not ctx.has_scope("export"):
            raise Forbidden("downloading an original needs a token with scope 'export'")
        content = ctx.registry.evidence.original(evidence_id)
        return _download(content.data, content.media_type, content.name, content.sha256)

    @api.get("/evidence/{evidence_id}/custody", response_model=list[CustodyEntryOut],
             summary="Chain of custody of an item")  # fmt: skip
    def get_custody(ctx: CurrentUser, evidence_id: EvidenceId) -> Response:
        """Who added, viewed, downloaded, exported or verified it, and when, with the SHA-256
        of the original and of the shared copy at each step. Oldest first."""
        return JSONResponse([e.to_dict() for e in ctx.registry.evidence.custody(evidence_id)])

    @api.post("/evidence/{evidence_id}/verify", response_model=VerifyOut,
              summary="Re-hash an item against intake")  # fmt: skip
    def verify_evidence(ctx: CurrentUser, evidence_id: EvidenceId) -> Response:
        """Both copies are decrypted and hashed again and compared with the hashes taken at
        intake; the custody chain is checked. `ok` false names the problems. Recorded in the
        custody log either way."""
        return JSONResponse(ctx.registry.evidence.verify(evidence_id).to_dict())

    return api
