"""Receiving an import file from a stream of chunks, within the upload limit."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

import orjson

from annotation_api.errors import DomainError, ErrorCode
from server.predictions.entries import invalid_file
from server.request_rules import check_json_value_depth

UTF8_BOM = b"\xef\xbb\xbf"


async def receive_file(chunks: AsyncIterable[bytes], *, limit: int) -> bytearray:
    """The whole file, held once; PAYLOAD_TOO_LARGE as soon as it passes limit bytes,
    without reading the rest."""
    buffer = bytearray()
    async for chunk in chunks:
        if len(buffer) + len(chunk) > limit:
            raise DomainError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"the file is larger than the upload limit of {limit} bytes",
                {"limit_bytes": limit},
            )
        buffer += chunk
    return buffer


def load_json(payload: bytes | bytearray) -> Any:
    """The JSON document of an upload (a UTF-8 BOM is allowed); INVALID_IMPORT_FILE if it
    is not JSON, INVALID_REQUEST (field "file") if it nests deeper than any JSON value
    the API accepts."""
    view = memoryview(payload)
    if view[: len(UTF8_BOM)] == UTF8_BOM:
        view = view[len(UTF8_BOM) :]
    if not view.nbytes:
        raise invalid_file("the file is empty")
    try:
        document = orjson.loads(view)
    except orjson.JSONDecodeError as error:
        raise invalid_file(f"the file is not valid JSON: {error}", error=str(error)) from None
    check_json_value_depth(document, "file")
    return document
