"""Receiving an import file from a stream of chunks, within the upload limit.

The file is spooled to an anonymous temporary file (unlinked at creation, so
nothing is left on disk whatever happens) and read back as a stream
(server.predictions.json_stream): the server's memory does not grow with the
file's size. Each chunk is checked against the nesting rule as it arrives
(server.json_depth), so a file too deep is refused before any
parser reads it.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import IO

from annotation_api.errors import DomainError, ErrorCode
from server.json_depth import DepthScan, TooDeep
from server.predictions.entries import invalid_file
from server.predictions.json_stream import Source
from server.request_rules import MAX_JSON_DEPTH, too_deep

UTF8_BOM = b"\xef\xbb\xbf"


class _Body:
    """A file read from after its UTF-8 BOM, when it has one (ijson does not skip it)."""

    def __init__(self, file: IO[bytes], start: int) -> None:
        self._file = file
        self._start = start

    def read(self, size: int = -1, /) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self._file.seek(self._start + offset, whence) - self._start


@asynccontextmanager
async def spooled_file(chunks: AsyncIterable[bytes], *, limit: int) -> AsyncIterator[Source]:
    """The whole file, on disk; PAYLOAD_TOO_LARGE as soon as it passes limit bytes,
    without reading the rest; INVALID_IMPORT_FILE when it is empty; INVALID_REQUEST
    (field "file") as soon as it nests deeper than the request rules allow."""
    with tempfile.TemporaryFile(prefix="import-") as file:
        size = 0
        depth = DepthScan(MAX_JSON_DEPTH)
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise DomainError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"the file is larger than the upload limit of {limit} bytes",
                    {"limit_bytes": limit},
                )
            try:
                depth.feed(chunk)
            except TooDeep:
                raise too_deep("file") from None
            file.write(chunk)
        file.flush()
        file.seek(0)
        start = len(UTF8_BOM) if file.read(len(UTF8_BOM)) == UTF8_BOM else 0
        if size <= start:
            raise invalid_file("the file is empty")
        yield _Body(file, start)
