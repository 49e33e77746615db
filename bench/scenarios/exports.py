"""Export of N annotated tasks in each format through REST, next to the raw
engine streaming the same records to a JSON file.

Projects are seeded straight into the database (bench.seed) while no server
runs. At full size each (size, format) gets a fresh server process, so the
memory a format needs is not hidden by pages an earlier export left in the
process; its first run is therefore the one that shows any growth. Export files are removed
after each run (they are not part of what is measured).

The server formats each export in a process of its own (server/exports/format_process.py);
its memory and CPU are part of what an export costs, so each run's figure adds the worker's
peak RSS to the server's peak (a bound: the two peaks need not coincide) and its CPU to the
server's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

import psutil

from bench.plan import CONSENSUS_EXPORT, EXPORT_FORMATS
from bench.process import MemoryUse, ServerProcess
from bench.seed import create_annotator, seed_annotated_project
from bench.session import Session, check_status
from server.exports.format_process import WORKER_MODULE

WATCH_INTERVAL_SECONDS = 0.01


# The request of each export the bench measures.
EXPORT_BODIES: dict[str, dict[str, object]] = {
    **{name: {"format": name} for name in EXPORT_FORMATS},
    CONSENSUS_EXPORT: {"format": "coco", "consensus": True},
}


async def run_exports(session: Session) -> None:
    results = session.results
    async with session.database() as database:
        annotator = await create_annotator(database, f"bench-exporter-{session.admin_id[-6:]}")
        second = await create_annotator(database, f"bench-second-{session.admin_id[-6:]}")
        projects, overlap = {}, {}
        for size in session.plan.export_sizes:
            started = time.perf_counter()
            projects[size] = await seed_annotated_project(
                database, owner_id=session.admin_id, annotator_id=annotator, count=size
            )
            overlap[size] = await seed_annotated_project(
                database,
                owner_id=session.admin_id,
                annotator_id=annotator,
                count=size,
                second_annotator_id=second,
            )
            session.log(
                f"seeded {size} annotated tasks, and {size} with two answers each,"
                f" in {time.perf_counter() - started:.1f} s"
            )

    for size in session.plan.export_sizes:
        raw_project, seconds = session.raw.insert_annotated(size)
        results.figure(f"raw.insert_annotated.{size}").add(seconds)
        raw = results.figure(f"raw.export.{size}")
        raw_file = session.workdir / "raw-export.json"
        for _ in range(session.runs):
            seconds, file_size = session.raw.export_json(raw_project, raw_file)
            raw.add(seconds)
            raw.facts["file_bytes"] = file_size
        raw_file.unlink()
        session.log(f"raw export {size}: {raw.median:.2f} s")

        if session.plan.server_per_export_format:
            for file_format in EXPORT_FORMATS:
                with session.server(f"export-{size}-{file_format}") as server:
                    await export_formats(session, server, projects[size], size, [file_format])
        else:
            with session.server(f"export-{size}") as server:
                await export_formats(session, server, projects[size], size, EXPORT_FORMATS)
        with session.server(f"export-{size}-{CONSENSUS_EXPORT}") as server:
            await export_formats(session, server, overlap[size], size, [CONSENSUS_EXPORT])


async def export_formats(
    session: Session,
    server: ServerProcess,
    project_id: str,
    size: int,
    formats: Sequence[str],
) -> None:
    path = f"/api/external/projects/{project_id}/export"
    async with session.clients(server) as clients:
        for file_format in formats:
            figure = session.results.figure(f"export.{file_format}.{size}")
            post = partial(
                clients.rest.post, path, json={**EXPORT_BODIES[file_format], "completed_only": True}
            )
            for _ in range(session.runs):
                with watching_format_process(server.pid) as worker:
                    seconds, memory, response = await session.measure(server, post)
                memory = worker.added_to(memory)
                body = check_status(response, f"export {file_format} of {size}")
                if body["total_exported"] != size:
                    raise SystemExit(f"{file_format} exported {body['total_exported']} of {size}")
                figure.add(seconds, memory)
                figure.facts["file_bytes"] = body["file_size"]
                for done in session.export_dir.glob("*"):
                    done.unlink()
            session.log(
                f"export {file_format} {size}: {figure.median:.2f} s, "
                f"RSS growth {(figure.rss_growth or 0) / 1e6:.0f} MB"
            )


@dataclasses.dataclass
class FormatProcessUse:
    """The peak RSS and the CPU of the server's format processes over one run."""

    peak_rss: int = 0
    cpu_seconds: float = 0.0

    def added_to(self, memory: MemoryUse) -> MemoryUse:
        return dataclasses.replace(
            memory,
            peak=memory.peak + self.peak_rss,
            cpu_seconds=memory.cpu_seconds + self.cpu_seconds,
        )


def _children_cpu(server: psutil.Process) -> float:
    """CPU of the server's ended (waited-for) children, the format processes."""
    times = server.cpu_times()
    return float(times.children_user + times.children_system)


@contextmanager
def watching_format_process(pid: int) -> Iterator[FormatProcessUse]:
    """Sample the RSS of the server's format process while the block runs.

    Listing a process's children reads every process of the machine, so the
    children are listed only until the format process is found; after that
    only its own RSS is read (the sampling must not take the CPU it measures).
    """
    server = psutil.Process(pid)
    use = FormatProcessUse()
    cpu_before = _children_cpu(server)
    stop = threading.Event()
    seen: set[int] = set()

    def find_worker() -> psutil.Process | None:
        for child in server.children():
            if child.pid in seen:
                continue
            seen.add(child.pid)
            with contextlib.suppress(psutil.Error):
                if WORKER_MODULE in child.cmdline():
                    return child
        return None

    def sample() -> None:
        worker: psutil.Process | None = None
        while not stop.is_set():
            try:
                worker = worker or find_worker()
                if worker is not None:
                    use.peak_rss = max(use.peak_rss, worker.memory_info().rss)
            except psutil.Error:
                worker = None  # it ended
            time.sleep(WATCH_INTERVAL_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield use
    finally:
        stop.set()
        sampler.join()
        use.cpu_seconds = _children_cpu(server) - cpu_before
