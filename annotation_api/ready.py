"""The ready file of `annotation-api serve --ready-file PATH`.

Once everything the process serves is listening, `serve` writes
`{"grpc_port": N | null, "http_port": N | null, "worker_pids": [N, ...]}` to
PATH, atomically (a temporary file renamed over it), so a reader never sees
half a file. Whoever started the process (a supervisor, a test, the bench)
waits for the file instead of parsing logs, and learns the ports that port 0
picked. `worker_pids` names the processes that serve: the one process, or
with `serve --workers N` the N serving processes (rewritten when one is
replaced).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

POLL_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class ReadyPorts:
    """The ports a serving process bound (None for a role it does not run)."""

    grpc_port: int | None
    http_port: int | None
    worker_pids: tuple[int, ...] = ()


def write_ready_file(path: Path, ports: ReadyPorts) -> None:
    """Write the ports to path atomically."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(orjson.dumps(asdict(ports)))
    os.replace(partial, path)


def read_ready_file(path: Path) -> ReadyPorts | None:
    """The ports in path, or None while it does not exist yet."""
    try:
        entry = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return ReadyPorts(
        grpc_port=entry["grpc_port"],
        http_port=entry["http_port"],
        worker_pids=tuple(entry.get("worker_pids", ())),
    )


def wait_for_ready_file(
    path: Path, *, exit_code: Callable[[], int | None], timeout: float
) -> ReadyPorts:
    """Poll until path exists; RuntimeError if the process exits (exit_code() is not None)
    or timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        ports = read_ready_file(path)
        if ports is not None:
            return ports
        code = exit_code()
        if code is not None:
            raise RuntimeError(f"the process exited with code {code} before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the process was not ready within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
