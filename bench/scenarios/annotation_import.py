"""Annotation import of N annotated tasks (a Label Studio export, one rectangle per task)
through REST, attributed to one annotator.

Each run imports the same file into a fresh project of N tasks (created over gRPC,
untimed): a task takes imported annotations only once, so every run does the same
work. The figure is the wall time at the client, tasks per second, and the server's
RSS growth and CPU over the import.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from bench.datasets import import_init_request, write_label_studio
from bench.seed import create_annotator
from bench.session import Session, check_status


async def run_annotation_import(session: Session) -> None:
    count = session.plan.annotation_import
    path = session.workdir / "label-studio-export.json"
    write_label_studio(path, count)
    async with session.database() as database:
        annotator_id = await create_annotator(database, f"bench-annotator-{uuid.uuid4().hex[:8]}")
    figure = session.results.figure(f"annotation_import.label_studio_json.{count}")
    figure.facts["file_bytes"] = path.stat().st_size
    with session.server("annotation-import") as server:
        async with session.clients(server) as clients:
            for run in range(session.runs):
                reply = await clients.projects.InitProject(
                    import_init_request(f"bench annotation import {run}", count),
                    metadata=clients.metadata,
                )
                url = f"/api/v1/projects/{reply.project_id}/annotations/import"

                async def post(path: Path = path, url: str = url) -> httpx.Response:
                    with path.open("rb") as file:
                        return await clients.rest.post(
                            url,
                            params={"format": "label_studio_json"},
                            data={"annotator_id": annotator_id},
                            files={"file": ("export.json", file, "application/json")},
                        )

                seconds, memory, response = await session.measure(server, post)
                body = check_status(response, f"annotation import {count}")
                if body["imported"] != count:
                    raise SystemExit(
                        f"imported {body['imported']} of {count}: {body['errors'][:3]}"
                    )
                figure.add(seconds, memory)
    path.unlink()
    session.log(
        f"annotation import {count}: {figure.median:.2f} s, "
        f"RSS growth {(figure.rss_growth or 0) / 1e6:.0f} MB"
    )
