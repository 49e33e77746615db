"""Run `annotation-api serve` processes for a test, each on free ports.

A process is started with its own environment (ANNOTATION_API_*) by
tests/serving.py (logs to a file, up once its ready file names its ports);
here several start at once and each carries a name. Each runs `serve
--workers 2` (FLEET_WORKERS) unless told otherwise: a fleet of machines, each
with several serving processes, all on one database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.serving import ServedProcess, serve_environment, start_serve
from tests.serving import stop_serve as stop_served

__all__ = ["FLEET_WORKERS", "ServeProcess", "serve_environment", "serving_fleet", "stop_serve"]

FLEET_WORKERS = 2


@dataclass
class ServeProcess:
    """A running `annotation-api serve` of the fleet, by name."""

    name: str
    served: ServedProcess

    @property
    def grpc_target(self) -> str:
        return self.served.grpc_target

    @property
    def base_url(self) -> str:
        return self.served.base_url

    def log_text(self) -> str:
        return self.served.log_text()


async def start_named(
    name: str, env: Mapping[str, str], log: Path, *, workers: int = FLEET_WORKERS
) -> ServeProcess:
    """Start `annotation-api serve --workers N` (gateway and server) on free ports; wait
    until every worker serves."""
    served = await asyncio.to_thread(start_serve, env, log, "--workers", str(workers))
    assert len(served.worker_pids) == workers, served.worker_pids
    return ServeProcess(name, served)


async def stop_serve(served: ServeProcess) -> int:
    """SIGTERM, then wait for the graceful stop (kill if it does not come)."""
    return await asyncio.to_thread(stop_served, served.served)


@asynccontextmanager
async def serving_fleet(
    environments: Mapping[str, Mapping[str, str]],
    log_dir: Path,
    *,
    workers: int = FLEET_WORKERS,
) -> AsyncIterator[dict[str, ServeProcess]]:
    """Start one `serve` per named environment, all at once; stop them all on exit."""
    async with AsyncExitStack() as stack:
        started = await asyncio.gather(
            *(
                start_named(name, env, log_dir / f"{name}.log", workers=workers)
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
