"""`annotation-api serve --workers N`: N serving processes on one pair of ports.

One Python process serves on one core (one interpreter lock), so `serve`
runs N processes, each a complete `serve --role R` (gRPC server and/or
gateway, their background workers, the graceful stop), and this module
supervises them:

* The database is brought up to date and the first super_admin bootstrapped
  once, here, before any worker starts; the workers only check the schema.
* The ports are shared. The REST gateway's socket is bound and listened on
  once, here, and every worker serves on it (uvicorn's `Server.serve(sockets=)`,
  the way uvicorn's own `--workers` does): one accept queue, taken from by
  whichever worker is free. grpcio cannot serve on a given socket, but it
  binds with SO_REUSEPORT (the `grpc.so_reuseport` channel argument, on by
  default on Linux), so every worker binds the same gRPC port and the kernel
  spreads connections over them; this process holds a bound, not listening,
  SO_REUSEPORT socket on that port, so that port 0 is picked once and a
  replacement worker can bind it again.
* Workers are started with the `spawn` method: nothing (a lease owner id, a
  database pool, grpc's threads) is inherited from this process.
* The ready file is written once every worker listens, naming the ports and
  the workers' pids.
* SIGTERM/SIGINT: every worker gets SIGTERM and stops gracefully (no new
  calls, running ones finish), then this process exits 0.
* A worker that dies while serving is replaced by a new one (logged, with its
  exit code); the ready file is rewritten with the new pid. A worker that
  exits before it listens (a start-up error, which a replacement would only
  repeat) stops them all, and `serve` exits 1.
* A worker whose supervisor is gone (even killed with SIGKILL) stops
  gracefully by itself: nothing is left serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from annotation_api.errors import DomainError
from annotation_api.log import configure_logging
from annotation_api.ready import ReadyPorts, write_ready_file
from annotation_api.settings import Settings
from annotation_api.sockets import listening_socket, reserved_port

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from annotation_api.cli import Role

log = logging.getLogger("annotation_api")

SPAWN = multiprocessing.get_context("spawn")
# uvicorn's default backlog for the sockets it binds itself.
HTTP_BACKLOG = 2048
# A worker stops its gateway, then its server, each within SHUTDOWN_GRACE_SECONDS.
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Supervised:
    """What a serving worker gets from its supervisor (read by `cli.run_serve`)."""

    http_socket: socket.socket | None
    parent_sentinel: int  # readable once the supervisor has exited
    announce: Callable[[ReadyPorts], None]


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker is started with (pickled to the spawned process)."""

    settings: Settings
    role: str
    http_socket: socket.socket | None


def serve_worker(spec: WorkerSpec, ready: Connection) -> None:
    """The body of a worker process: `serve` with the supervisor's ports and database."""
    from annotation_api.cli import Role, run_serve

    configure_logging(spec.settings.log_level, with_pid=True)
    parent = multiprocessing.parent_process()
    assert parent is not None, "a worker runs under its supervisor"

    def announce(ports: ReadyPorts) -> None:
        ready.send((ports.grpc_port, ports.http_port, os.getpid()))

    supervised = Supervised(
        http_socket=spec.http_socket, parent_sentinel=parent.sentinel, announce=announce
    )
    code = 0
    try:
        asyncio.run(run_serve(spec.settings, Role(spec.role), supervised=supervised))
    except DomainError as exc:
        log.error("cannot serve: %s", exc.message)
        code = 1
    except (OSError, RuntimeError) as exc:
        log.error("cannot serve: %s", exc)
        code = 1
    # Everything is closed (calls finished, database disposed, logs written); the
    # interpreter's own teardown (grpcio's included) would add seconds to every stop.
    sys.stderr.flush()
    os._exit(code)


@dataclass
class Worker:
    """One serving process, in its slot."""

    slot: int
    process: BaseProcess
    ready: Connection
    ports: ReadyPorts | None = None  # once it listens


class Supervisor:
    """Starts, watches, replaces and stops the workers (all in this one thread)."""

    def __init__(self, spec: WorkerSpec, count: int, ready_file: Path | None) -> None:
        self.spec = spec
        self.count = count
        self.ready_file = ready_file
        self.workers: dict[int, Worker] = {}
        self.stopping = False
        self.failed = False
        self.wake_reader, self.wake_writer = os.pipe()
        os.set_blocking(self.wake_writer, False)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        with contextlib.suppress(BlockingIOError):
            os.write(self.wake_writer, b"\0")

    def start_worker(self, slot: int) -> None:
        reader, writer = SPAWN.Pipe(duplex=False)
        process = SPAWN.Process(
            target=serve_worker, args=(self.spec, writer), name=f"annotation-api-worker-{slot}"
        )
        process.start()
        writer.close()  # the worker's end: EOF here once it is gone
        self.workers[slot] = Worker(slot, process, reader)

    def serving(self) -> ReadyPorts | None:
        """The ports and pids once every worker listens, else None."""
        started = [w.ports for w in self.workers.values() if w.ports is not None]
        if len(started) < self.count:
            return None
        return replace(started[0], worker_pids=tuple(p.worker_pids[0] for p in started))

    def run(self) -> int:
        """Supervise until asked to stop (0) or a worker cannot start (1)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.request_stop)
        try:
            for slot in range(self.count):
                self.start_worker(slot)
            announced: ReadyPorts | None = None
            while not self.stopping and not self.failed:
                self.wait_for_change()
                ports = self.serving()
                if ports is not None and ports != announced and not self.stopping:
                    log.info("serving", extra={"workers": self.count, **ports_fields(ports)})
                    if self.ready_file is not None:
                        write_ready_file(self.ready_file, ports)
                    announced = ports
        finally:
            self.stop_all()
            if self.ready_file is not None:
                self.ready_file.unlink(missing_ok=True)
            os.close(self.wake_reader)
            os.close(self.wake_writer)
        log.info("stopped")
        return 1 if self.failed else 0

    def wait_for_change(self) -> None:
        """Wait for a signal, a worker's announcement or a worker's exit; act on it."""
        waiting: list[Any] = [self.wake_reader]
        for worker in self.workers.values():
            waiting.append(worker.process.sentinel)
            if worker.ports is None:
                waiting.append(worker.ready)
        woken = wait(waiting)
        if self.wake_reader in woken:
            os.read(self.wake_reader, 64)
        for worker in list(self.workers.values()):
            if worker.ports is None and worker.ready in woken:
                with contextlib.suppress(EOFError):  # gone: its sentinel says so
                    grpc_port, http_port, pid = worker.ready.recv()
                    worker.ports = ReadyPorts(grpc_port, http_port, (pid,))
            if worker.process.sentinel in woken and not self.stopping:
                self.replace_exited(worker)

    def replace_exited(self, worker: Worker) -> None:
        worker.process.join()
        code = worker.process.exitcode
        worker.ready.close()
        del self.workers[worker.slot]
        if worker.ports is None:
            log.error(
                "a serving worker exited with code %s before it listened; stopping",
                code,
                extra={"worker_pid": worker.process.pid},
            )
            self.failed = True
            return
        log.warning(
            "a serving worker exited with code %s; starting another",
            code,
            extra={"worker_pid": worker.process.pid},
        )
        self.start_worker(worker.slot)

    def stop_all(self) -> None:
        """SIGTERM to every worker, wait for their graceful stop; SIGKILL what hangs."""
        for worker in self.workers.values():
            if worker.process.is_alive() and worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for worker in self.workers.values():
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.error(
                    "a serving worker did not stop in time; killing it",
                    extra={"worker_pid": worker.process.pid},
                )
                worker.process.kill()
                worker.process.join()
            worker.ready.close()
        self.workers.clear()


def ports_fields(ports: ReadyPorts) -> dict[str, Any]:
    return {
        "grpc_port": ports.grpc_port,
        "http_port": ports.http_port,
        "worker_pids": list(ports.worker_pids),
    }


def supervise(settings: Settings, role: Role, *, count: int, ready_file: Path | None) -> int:
    """Run `serve --role role` in `count` worker processes sharing the ports; the exit code."""
    from annotation_api.cli import Role, prepare_database

    configure_logging(settings.log_level, with_pid=True)
    serves_grpc = role in (Role.ALL, Role.SERVER)
    serves_http = role in (Role.ALL, Role.GATEWAY)
    if serves_grpc:
        asyncio.run(prepare_database(settings))
    with contextlib.ExitStack() as sockets:
        http_socket: socket.socket | None = None
        if serves_grpc:
            reserved = sockets.enter_context(reserved_port(settings.host, settings.grpc_port))
            settings = settings.model_copy(update={"grpc_port": reserved.getsockname()[1]})
        if serves_http:
            http_socket = sockets.enter_context(listening_socket(settings.host, settings.http_port))
            http_socket.listen(HTTP_BACKLOG)
        log.info("starting serving workers", extra={"workers": count, "role": role.value})
        spec = WorkerSpec(settings=settings, role=role.value, http_socket=http_socket)
        return Supervisor(spec, count, ready_file).run()
