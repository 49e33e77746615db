"""Start `annotation-api serve` as a real process, the way an operator does.

    served = start_serve(env, tmp_path / "serve.log", "--role", "server")
    ... served.grpc_port, served.http_port, served.process ...
    exit_code = stop_serve(served)

Free ports (port 0) and 127.0.0.1; the process writes its bound ports to a
ready file (`serve --ready-file`) once it listens, which is what start_serve
waits for. Logs go to a file: a pipe nobody drains could fill up and stall it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from annotation_api.ready import wait_for_ready_file

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


@dataclass
class ServedProcess:
    """A running `annotation-api serve` and where to reach it."""

    process: subprocess.Popen[str]
    log: Path
    grpc_port: int | None
    http_port: int | None
    worker_pids: tuple[int, ...] = ()

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def serve_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The outer environment without ANNOTATION_API_* variables, plus `settings`
    (`{"data_dir": ...}` becomes ANNOTATION_API_DATA_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATION_API_")}
    env.update({f"ANNOTATION_API_{name.upper()}": value for name, value in settings.items()})
    return env


def start_serve(
    env: Mapping[str, str], log: Path, *args: str, stdout: int | IO[str] = subprocess.DEVNULL
) -> ServedProcess:
    """Start `annotation-api serve --host 127.0.0.1 <args>` on free ports; return once it serves."""
    ready = log.with_suffix(".ready.json")
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "annotation_api.cli", "serve", "--host", "127.0.0.1"]
    command += ["--grpc-port", "0", "--http-port", "0", "--ready-file", str(ready)]
    # One process unless the test asks for more (the default would be one per core).
    command += [*([] if "--workers" in args else ["--workers", "1"]), *args]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=log_file,
            text=True,
        )
    try:
        ports = wait_for_ready_file(ready, exit_code=process.poll, timeout=START_TIMEOUT_SECONDS)
    except RuntimeError as exc:
        process.kill()
        process.wait()
        raise AssertionError(f"serve did not start: {exc}\n{log.read_text()}") from None
    return ServedProcess(process, log, ports.grpc_port, ports.http_port, ports.worker_pids)


def stop_serve(served: ServedProcess) -> int:
    """SIGTERM (a graceful stop), then SIGKILL if it does not come; the exit code."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
    return served.process.returncode
