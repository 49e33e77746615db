"""Formatting an export in a process of its own, while this one reads.

Reading a project's rows and formatting them both cost CPU in Python; in one
process they take turns on the interpreter lock, so an export used one core.
Here the server reads batches of raw rows (server/exports/batches.py) and
sends each to a worker process (server/exports/format_worker.py) that builds
the records, runs the format's writer and writes the file: the next batch is
read while the previous one is formatted.

Memory stays bounded: a batch is sent through a pipe, and sending waits until
the pipe has room, so the server is at most the batch being sent and the one
read ahead in front of the worker. The worker is one per export and ends with
it (its memory counts in what an export costs: the bench adds it).

Failures end the export cleanly, never hang: a refusal of the writer comes
back as the DomainError it was, another error as its class name (an export's
error_message names no internals); a worker that dies closes its
pipes, which ends the sending and the wait for its reply, and the export fails
with EXPORT_FAILED naming its exit status. If the export is cancelled, or the
reading fails, the worker is killed; if the server dies, the worker sees the
end of its input and exits without completing the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import sys
from collections.abc import AsyncIterable
from pathlib import Path

from annotation_api.errors import DomainError, ErrorCode
from server.exports.format_worker import (
    FINISH,
    HEADER_BYTES,
    Failed,
    Finished,
    OpenFile,
    Refused,
    frame,
    message_length,
    unframe,
)
from server.exports.formats.base import ExportContext
from storage.export_records import ExportTaskRows

WORKER_MODULE = "server.exports.format_worker"
# F_SETPIPE_SZ (Linux): a pipe that holds a whole batch wakes the loop less often.
_SET_PIPE_SIZE = 1031
PIPE_BYTES = 1 << 20


async def write_in_worker(
    *,
    format_name: str,
    context: ExportContext,
    path: Path,
    batches: AsyncIterable[ExportTaskRows],
) -> Finished:
    """Write the export file at `path` from `batches` in a worker process; the
    number of tasks written and the warnings. Raises the writer's DomainError
    when it refuses."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    pipe = process.stdin
    _enlarge_pipe(pipe)
    reply = asyncio.ensure_future(_read_reply(process.stdout))
    completed = False
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # (a worker that ended early has its reply or its exit status to tell)
            await _send(pipe, OpenFile(format_name, context, path))
            async for rows in batches:
                if reply.done():
                    break  # refused: the worker stopped reading
                await _send(pipe, rows)
            else:
                await _send(pipe, FINISH)
            pipe.close()
        answer = await reply
        status = await process.wait()
        completed = True
    finally:
        if not completed:
            reply.cancel()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(BaseException):
                await asyncio.shield(process.wait())
    if isinstance(answer, Finished):
        return answer
    if isinstance(answer, Refused):
        raise DomainError(ErrorCode(answer.code), answer.message, answer.details)
    if isinstance(answer, Failed):  # (the export's message names only the error's class)
        raise DomainError(ErrorCode.EXPORT_FAILED, answer.error_type)
    raise DomainError(
        ErrorCode.EXPORT_FAILED,
        f"the formatting process ended with status {status}",
        {"exit_status": status},
    )


async def _send(pipe: asyncio.StreamWriter, message: object) -> None:
    pipe.write(frame(message))
    await pipe.drain()


async def _read_reply(stdout: asyncio.StreamReader) -> Finished | Refused | Failed | None:
    """The worker's one reply, or None when it ended without one."""
    try:
        length = message_length(await stdout.readexactly(HEADER_BYTES))
        data = await stdout.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    reply = unframe(data)
    return reply if isinstance(reply, Finished | Refused | Failed) else None


def _enlarge_pipe(pipe: asyncio.StreamWriter) -> None:
    transport_pipe = pipe.get_extra_info("pipe")
    if transport_pipe is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(transport_pipe.fileno(), _SET_PIPE_SIZE, PIPE_BYTES)
