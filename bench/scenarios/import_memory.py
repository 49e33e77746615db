"""Prediction import memory against file size: one AAP file per size (one bbox per
task, matched by external_id), posted through REST into a project of that many
tasks. The server's RSS growth is the figure (held to a limit that does not grow
with the file); the time is reported beside it, with its ratio to the raw engine
where the raw import ran at the same size.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bench.datasets import import_init_request, write_aap_by_external_id
from bench.session import Session, check_status


async def run_import_memory(session: Session) -> None:
    results = session.results
    with session.server("import-memory") as server:
        async with session.clients(server) as clients:
            for count in session.plan.import_memory_sizes:
                reply = await clients.projects.InitProject(
                    import_init_request(f"bench import memory {count}", count),
                    metadata=clients.metadata,
                )
                path = session.workdir / f"predictions-{count}.json"
                write_aap_by_external_id(path, count)
                figure = results.figure(f"import.memory.{count}")
                figure.facts["file_bytes"] = path.stat().st_size
                url = f"/api/v1/projects/{reply.project_id}/predictions/import"
                for _ in range(session.runs):

                    async def post(path: Path = path, url: str = url) -> httpx.Response:
                        with path.open("rb") as file:
                            return await clients.rest.post(
                                url,
                                params={"format": "aap_json"},
                                files={"file": ("predictions.json", file, "application/json")},
                            )

                    seconds, memory, response = await session.measure(server, post)
                    body = check_status(response, f"import {count}")
                    if body["imported"] != count:
                        raise SystemExit(f"imported {body['imported']} of {count}")
                    figure.add(seconds, memory)
                path.unlink()
                session.log(
                    f"import memory {count}: {figure.median:.2f} s, "
                    f"RSS growth {(figure.rss_growth or 0) / 1e6:.0f} MB"
                )
