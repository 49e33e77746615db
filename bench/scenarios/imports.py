"""Prediction import of N predictions (AAP JSON and COCO) through REST, next
to the raw engine parsing the AAP file and inserting its rows.

The target projects are created over gRPC (untimed) and their task ids read
back with ListTasks, so the AAP file matches by display_id; the COCO file
matches by image file name. Every run imports the same file into the same
project (no overwrite), so each run does the same work.
"""

from __future__ import annotations

import httpx
from annotation.v1 import project_service_pb2

from bench.datasets import import_init_request, write_aap, write_coco
from bench.plan import IMPORT_FORMATS
from bench.session import Clients, Session, check_status

PAGE_SIZE = 1000


async def task_ids(clients: Clients, project_id: str) -> list[int]:
    ids: list[int] = []
    token = ""
    while True:
        page = await clients.projects.ListTasks(
            project_service_pb2.ListTasksRequest(
                project_id=project_id, page_size=PAGE_SIZE, page_token=token
            ),
            metadata=clients.metadata,
        )
        ids.extend(int(task.task_id) for task in page.tasks)
        token = page.next_page_token
        if not token:
            return ids


async def run_imports(session: Session) -> None:
    count = session.plan.import_predictions
    results = session.results
    files = {
        "aap_json": session.workdir / "predictions.json",
        "coco": session.workdir / "coco.json",
    }

    raw_project, raw_ids = session.raw.import_project(count)
    raw_file = session.workdir / "raw-predictions.json"
    write_aap(raw_file, raw_ids)
    raw = results.figure(f"raw.import.{count}")
    for _ in range(session.runs):
        raw.add(session.raw.import_aap(raw_project, raw_file))
    raw_file.unlink()
    session.log(f"raw import {count}: {raw.median:.2f} s")

    with session.server("import") as server:
        async with session.clients(server) as clients:
            projects = {}
            for file_format in IMPORT_FORMATS:
                reply = await clients.projects.InitProject(
                    import_init_request(f"bench import {file_format}", count),
                    metadata=clients.metadata,
                )
                projects[file_format] = reply.project_id
            write_aap(files["aap_json"], await task_ids(clients, projects["aap_json"]))
            write_coco(files["coco"], count)

            for file_format in IMPORT_FORMATS:
                figure = results.figure(f"import.{file_format}.{count}")
                figure.facts["file_bytes"] = files[file_format].stat().st_size
                url = f"/api/v1/projects/{projects[file_format]}/predictions/import"
                for _ in range(session.runs):
                    content = files[file_format].read_bytes()

                    async def post(
                        content: bytes = content, file_format: str = file_format, url: str = url
                    ) -> httpx.Response:
                        return await clients.rest.post(
                            url,
                            params={"format": file_format},
                            files={"file": ("predictions.json", content, "application/json")},
                        )

                    seconds, memory, response = await session.measure(server, post)
                    body = check_status(response, f"import {file_format}")
                    if body["imported"] != count:
                        raise SystemExit(
                            f"{file_format} imported {body['imported']} of {count}: "
                            f"{body['errors'][:3]}"
                        )
                    figure.add(seconds, memory)
                session.log(f"import {file_format} {count}: {figure.median:.2f} s")
