"""Run `annotation-api serve` processes for a test, each on free ports.

A process is started with its own environment (ANNOTATION_API_*), logs to a
file (a pipe nobody drains could fill up and stall it), and counts as up once
its JSON log says "serving" with the ports it bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


@dataclass
class ServeProcess:
    """A running `annotation-api serve` and where to reach it."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    grpc_port: int
    http_port: int

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def serve_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The outer environment without ANNOTATION_API_* variables, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATION_API_")}
    env.update({f"ANNOTATION_API_{name.upper()}": value for name, value in settings.items()})
    return env


def _serving_entry(log: Path) -> dict[str, object] | None:
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "serving":
            return entry  # type: ignore[no-any-return]
    return None


async def start_serve(name: str, env: Mapping[str, str], log: Path) -> ServeProcess:
    """Start `annotation-api serve` (gateway and server) on free ports; wait until it serves."""
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "annotation_api.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.returncode is None:
        entry = _serving_entry(log)
        if entry is not None:
            return ServeProcess(
                name,
                process,
                log,
                int(entry["grpc_port"]),
                int(entry["http_port"]),  # type: ignore[arg-type]
            )
        with suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=0.05)
    if process.returncode is None:
        process.kill()
        await process.wait()
    raise AssertionError(f"{name} did not start (exit {process.returncode}):\n{log.read_text()}")


async def stop_serve(served: ServeProcess) -> int:
    """SIGTERM, then wait for the graceful stop (kill if it does not come)."""
    if served.process.returncode is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(served.process.wait(), timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            served.process.kill()
            await served.process.wait()
    return served.process.returncode or 0


@asynccontextmanager
async def serving_fleet(
    environments: Mapping[str, Mapping[str, str]], log_dir: Path
) -> AsyncIterator[dict[str, ServeProcess]]:
    """Start one process per named environment, all at once; stop them all on exit."""
    async with AsyncExitStack() as stack:
        started = await asyncio.gather(
            *(
                start_serve(name, env, log_dir / f"{name}.log")
                for name, env in environments.items()
            ),
            return_exceptions=True,
        )
        running = [s for s in started if isinstance(s, ServeProcess)]
        for served in running:
            stack.push_async_callback(stop_serve, served)
        failures = [s for s in started if isinstance(s, BaseException)]
        if failures:
            raise failures[0]
        yield {served.name: served for served in running}
