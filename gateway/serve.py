"""Running the gateway under uvicorn inside an existing event loop.

Used by the command line (next to the gRPC server in one process) and by the
tests (port 0: the operating system picks a free port).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn

from annotation_api.settings import Settings
from annotation_api.sockets import listening_socket
from gateway.app import create_app
from gateway.connections import protocol_for


@dataclass
class RunningGateway:
    """A gateway serving on `port`; `await stop()` shuts it down gracefully."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    host: str
    port: int
    app: Any

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        self.app.state.backend.end_streams()
        self.server.should_exit = True
        await self.task

    async def wait(self) -> None:
        """Serve until the server exits (e.g. on SIGTERM)."""
        await self.task


async def start_gateway(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    sock: socket.socket | None = None,
) -> RunningGateway:
    """Bind, start serving and return once the gateway accepts connections.

    With `sock` (a listening socket made by `listening_socket`, e.g. one that
    several serving processes share), serve on it instead of binding.

    While it serves, uvicorn captures SIGINT/SIGTERM (to shut down gracefully)
    and re-raises them afterwards through the handlers that were installed
    before: a process that runs more (the gRPC server) installs its own
    handlers first, so that it hears the signal once the gateway has stopped.
    """
    host = settings.host if host is None else host
    if sock is None:
        sock = listening_socket(host, settings.http_port if port is None else port)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level=settings.log_level.lower(),
        access_log=False,  # the gateway logs each request itself, with its request id
        log_config=None,  # logging is configured once, by the process, not by uvicorn
        lifespan="on",
        timeout_graceful_shutdown=10,
        http=protocol_for(settings),
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only when it runs the loop itself.
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            sock.close()
            await task  # raises the start-up error
            raise RuntimeError("the gateway stopped during start-up")
        await asyncio.sleep(0.01)
    return RunningGateway(server=server, task=task, host=host, port=sock.getsockname()[1], app=app)
