"""Reading a multipart/form-data upload without holding the file in memory.

The body is parsed as it arrives: the file part goes to a spooled temporary
file (in memory up to 1 MiB, then on disk), the other parts are small text
fields. Sizes are checked while reading, so an oversized upload is refused
before it is stored. The file is then read back in chunks into the gRPC
request stream: at any moment at most a chunk or two of it is in memory.

The file cannot be forwarded while it is still arriving because form fields
may follow it (curl -F sends parts in command-line order), and those fields
belong in the first message of the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from annotation_api.errors import ErrorCode
from gateway.errors import GatewayError, payload_too_large

FILE_FIELD = "file"
SPOOL_MEMORY_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 100
# Room for boundaries, part headers and the small text fields around the file.
FORM_OVERHEAD_BYTES = MAX_FIELDS * MAX_FIELD_BYTES


@dataclass
class Upload:
    """A received form: its text fields and the spooled file (rewound)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file: IO[bytes] | None = None
    file_name: str | None = None
    file_size: int = 0

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    async def chunks(self, size: int) -> AsyncIterator[bytes]:
        """The file's bytes in chunks, read off the event loop."""
        if self.file is None:
            return
        while chunk := await asyncio.to_thread(self.file.read, size):
            yield chunk


class _FormReader:
    """python-multipart callbacks collecting one form."""

    def __init__(self, upload: Upload, max_file_bytes: int) -> None:
        self.upload = upload
        self.max_file_bytes = max_file_bytes
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.part_name = ""
        self.part_is_file = False
        self.part_data = bytearray()
        self.pending_file_data: list[bytes] = []
        self.complete = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.disposition = b""
        self.part_data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        self.part_name = options.get(b"name", b"").decode("utf-8", "replace")
        self.part_is_file = self.part_name == FILE_FIELD
        if self.part_is_file:
            if self.upload.file is not None:
                raise _bad_form("only one file part named 'file' is accepted")
            # Closed by Upload.close(): it outlives this callback.
            self.upload.file = SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
            name = options.get(b"filename")
            self.upload.file_name = name.decode("utf-8", "replace") if name else None
        elif sum(len(v) for v in self.upload.fields.values()) >= MAX_FIELDS:
            raise _bad_form(f"more than {MAX_FIELDS} form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part_is_file:
            self.upload.file_size += end - start
            if self.upload.file_size > self.max_file_bytes:
                raise payload_too_large(self.max_file_bytes, "the uploaded file")
            self.pending_file_data.append(data[start:end])
            return
        if len(self.part_data) + end - start > MAX_FIELD_BYTES:
            raise _bad_form(f"form field {self.part_name!r} exceeds {MAX_FIELD_BYTES} bytes")
        self.part_data += data[start:end]

    def on_end(self) -> None:
        # Called only once the closing boundary (--boundary--) has been read.
        self.complete = True

    def on_part_end(self) -> None:
        if not self.part_is_file:
            text = self.part_data.decode("utf-8", "replace")
            self.upload.fields.setdefault(self.part_name, []).append(text)


def _bad_form(message: str) -> GatewayError:
    return GatewayError(ErrorCode.INVALID_REQUEST, message, {"field": "body"})


async def read_upload(request: Request, *, max_file_bytes: int) -> Upload:
    """Parse the request's multipart form; the caller closes the Upload."""
    content_type = request.headers.get("content-type", "")
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise GatewayError(
            ErrorCode.INVALID_REQUEST,
            "expected a multipart/form-data body with a 'file' part",
            {"field": "body", "expected": "multipart/form-data"},
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_file_bytes + FORM_OVERHEAD_BYTES:
        raise payload_too_large(max_file_bytes, "the uploaded file")

    upload = Upload()
    reader = _FormReader(upload, max_file_bytes)
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
        async for data in request.stream():
            parser.write(data)
            if reader.pending_file_data and upload.file is not None:
                pending = b"".join(reader.pending_file_data)
                reader.pending_file_data.clear()
                await _write(upload.file, pending)
        parser.finalize()
        if not reader.complete:
            # A body cut short (a dropped proxy connection, a client bug) must
            # not be imported as if its file were whole.
            raise _bad_form("the multipart body ends before its closing boundary")
        if upload.file is None:
            raise GatewayError(
                ErrorCode.INVALID_REQUEST,
                "the form has no file part named 'file'",
                {"field": FILE_FIELD},
            )
        upload.file.seek(0)
    except FormParserError:
        upload.close()
        raise _bad_form("malformed multipart/form-data body") from None
    except BaseException:
        upload.close()
        raise
    return upload


async def _write(file: IO[bytes], data: bytes) -> None:
    # Once the spool has rolled over to disk, a write may block: keep it off the loop.
    await asyncio.to_thread(file.write, data)
