"""Export of N annotated tasks in each format through REST, next to the raw
engine streaming the same records to a JSON file.

Projects are seeded straight into the database (bench.seed) while no server
runs. At full size each (size, format) gets a fresh server process, so the
memory a format needs is not hidden by pages an earlier export left in the
process; its first run is therefore the one that shows any growth. Export files are removed
after each run (they are not part of what is measured).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from bench.plan import EXPORT_FORMATS
from bench.process import ServerProcess
from bench.seed import create_annotator, seed_annotated_project
from bench.session import Session, check_status


async def run_exports(session: Session) -> None:
    results = session.results
    async with session.database() as database:
        annotator = await create_annotator(database, f"bench-exporter-{session.admin_id[-6:]}")
        projects = {}
        for size in session.plan.export_sizes:
            started = time.perf_counter()
            projects[size] = await seed_annotated_project(
                database, owner_id=session.admin_id, annotator_id=annotator, count=size
            )
            session.log(f"seeded {size} annotated tasks in {time.perf_counter() - started:.1f} s")

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
                clients.rest.post, path, json={"format": file_format, "completed_only": True}
            )
            for _ in range(session.runs):
                seconds, memory, response = await session.measure(server, post)
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
