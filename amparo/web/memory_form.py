"""Reading a multipart form whole into memory: text fields and several files, never a disk.

Starlette's ``request.form()`` spools every file over 1 MiB to an unencrypted temporary file;
for a report that must not exist in plaintext anywhere, that is a leak. This reader feeds
python-multipart's streaming parser from the request stream and keeps every part in memory,
each under its limit (the body limit of amparo.web.limits bounds the whole). Repeated fields
(checkboxes) keep every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from amparo.errors import ValidationError

__all__ = ["MemoryForm", "read_memory_form"]


@dataclass
class MemoryForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name, bytes), non-empty

    def first(self, name: str) -> str:
        values = self.fields.get(name) or [""]
        return values[0]


class _Collector:
    def __init__(self, names: frozenset[str], file_field: str, max_files: int,
                 max_field_bytes: int, max_file_bytes: int) -> None:  # fmt: skip
        self.names = names
        self.file_field = file_field
        self.max_files = max_files
        self.max_field_bytes = max_field_bytes
        self.max_file_bytes = max_file_bytes
        self.form = MemoryForm()
        self.parts = 0
        self.ended = False
        self._name = bytearray()
        self._value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._target: str | None = None
        self._file_name = ""
        self._buffer = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_files + 4 * len(self.names) + 4:
            raise ValidationError("body", "has too many parts")
        self._headers, self._buffer, self._target = {}, bytearray(), None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._name).lower()] = bytes(self._value)
        self._name, self._value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", errors="replace")
        if name == self.file_field and b"filename" in params:
            self._target = "\x00file"
            raw = params.get(b"filename", b"").decode("utf-8", errors="replace")
            for escaped, char in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
                raw = raw.replace(escaped, char)
            self._file_name = raw
        elif name in self.names:
            self._target = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target is None:
            return
        self._buffer += data[start:end]
        if self._target == "\x00file":
            if len(self._buffer) > self.max_file_bytes:
                raise ValidationError("files", f"are larger than {self.max_file_bytes} bytes")
        elif len(self._buffer) > self.max_field_bytes:
            raise ValidationError(self._target, "is too long")

    def on_part_end(self) -> None:
        if self._target == "\x00file":
            # A browser sends an empty part with no name when no file was chosen.
            if self._buffer or self._file_name:
                if len(self.form.files) >= self.max_files:
                    raise ValidationError("files", f"send at most {self.max_files} files")
                if self._buffer:
                    self.form.files.append((self._file_name, bytes(self._buffer)))
        elif self._target is not None:
            try:
                text = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(self._target, "is not UTF-8 text") from None
            self.form.fields.setdefault(self._target, []).append(text)
        self._buffer = bytearray()

    def on_end(self) -> None:
        self.ended = True


async def read_memory_form(
    request: Request, names: frozenset[str], *, file_field: str = "files", max_files: int = 5,
    max_field_bytes: int = 100_000, max_file_bytes: int = 20 * 1024 * 1024,
) -> MemoryForm:  # fmt: skip
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise ValidationError("body", "send multipart/form-data")
    collector = _Collector(names, file_field, max_files, max_field_bytes, max_file_bytes)
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
    return collector.form
