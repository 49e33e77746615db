"""What the file-import servicers share: a client stream whose first message carries the
request's fields, a format enum to look up, and per-entry errors to send back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from enum import StrEnum
from typing import Protocol, TypeVar

import orjson
from annotation.v1 import prediction_service_pb2

from annotation_api.errors import DomainError, ErrorCode
from server.predictions.rows import ImportIssue

F = TypeVar("F", bound=StrEnum)


class ChunkMessage(Protocol):
    @property
    def chunk(self) -> bytes: ...


M = TypeVar("M", bound=ChunkMessage)


async def first_message(request_iterator: AsyncIterator[M]) -> M:
    """The stream's first message, which carries every field but the file."""
    first = await anext(aiter(request_iterator), None)
    if first is None:
        raise DomainError(ErrorCode.INVALID_REQUEST, "the request stream is empty")
    return first


async def file_chunks(first: M, rest: AsyncIterator[M]) -> AsyncIterator[bytes]:
    """The file's bytes: the first message's chunk, then every later message's."""
    if first.chunk:
        yield first.chunk
    async for message in rest:
        if message.chunk:
            yield message.chunk


def import_format(value: int, formats: Mapping[int, F], choices: type[F]) -> F:
    """The format the request names, or INVALID_REQUEST listing the supported ones."""
    file_format = formats.get(value)
    if file_format is None:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"unknown format {value}",
            {"field": "format", "supported": [str(choice) for choice in choices]},
        )
    return file_format


def import_errors(issues: Iterable[ImportIssue]) -> list[prediction_service_pb2.ImportError]:
    return [
        prediction_service_pb2.ImportError(
            task_match=orjson.dumps(issue.task_match).decode("utf-8"), reason=issue.reason
        )
        for issue in issues
    ]
