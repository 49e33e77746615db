"""Deeply nested files are refused at memory linear in the file, on the real server.

A file of n opening brackets used to make the JSON parser build paths of n²
characters before the nesting rule could see an item (39 KB of `[`: +900 MB,
78 KB: +3.9 GB). The rule is now checked on the bytes as they arrive
(server.json_depth); every request below must leave the serve
process's peak memory within 20 MB of where it was.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from annotation_api.settings import Settings
from tests.helpers import TestUser
from tests.hostile.support import MB, ServerMemory, auth, init_project, served_process

GROWTH_LIMIT = 20 * MB


def deep(levels: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * levels + closer * levels


def deep_files(levels: int) -> list[tuple[str, dict[str, str], bytes]]:
    """(route kind, query, file) for every import that reads a JSON file."""
    nested = deep(levels)
    objects = b'{"a":' * levels + b"1" + b"}" * levels
    tasks = b'{"schema_version":"1.0","tasks":[' + nested + b"]}"
    return [
        ("predictions", {"format": "aap_json"}, nested),
        ("predictions", {"format": "aap_json"}, tasks),
        ("predictions", {"format": "coco"}, b'{"images":[], "annotations":' + nested + b"}"),
        ("annotations", {"format": "label_studio_json"}, nested),
        ("annotations", {"format": "label_studio_json"}, b"[" + objects + b"]"),
        ("annotations", {"format": "coco"}, b'{"categories":' + nested + b"}"),
    ]


async def test_deeply_nested_files_are_refused_with_bounded_memory(
    settings: Settings, tmp_path: Path, admin: TestUser, annotator: TestUser
) -> None:
    async with (
        served_process(settings, tmp_path) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=120) as client,
    ):
        project_id = (await init_project(client, admin))["project_id"]

        async def post(kind: str, query: dict[str, str], payload: bytes) -> httpx.Response:
            params = dict(query)
            if kind == "annotations":
                params["annotator_id"] = annotator.user_id
            return await client.post(
                f"/api/v1/projects/{project_id}/{kind}/import",
                params=params,
                files={"file": ("deep.json", payload, "application/json")},
                headers=auth(admin),
            )

        # warm-up: every route once with a file it reads to the end
        for kind, query, _ in deep_files(1):
            await post(kind, {**query, "dry_run": "true"}, deep(60))
        memory = ServerMemory(served.process.pid)

        # 39 KB, 78 KB, 200 KB (which used to get the server killed), 5 MB
        for levels in (20_000, 40_000, 100_000, 2_500_000):
            for kind, query, payload in deep_files(levels):
                memory.reset()
                response = await post(kind, query, payload)
                where = f"{kind} {query} at {levels} levels"
                assert response.status_code == 400, (where, response.text)
                assert response.json()["error_code"] == "INVALID_REQUEST", where
                assert response.json()["details"]["field"] == "file", where
                assert memory.growth() <= GROWTH_LIMIT, (where, memory.growth() / MB)

        # embedded JSON in a request body: the gateway refuses what it cannot parse
        memory.reset()
        metadata = deep(20_000).decode()
        body = (
            b'{"name": "p", "task_type": "object_detection", "tags": [{"tag": "cat"}],'
            b' "data": [{"id": "1", "content": "https://img.example/1.jpg", "metadata": '
            + metadata.encode()
            + b"}]}"
        )
        response = await client.post(
            "/api/external/projects/init",
            content=body,
            headers={**auth(admin), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["error_code"] == "INVALID_REQUEST"
        assert memory.growth() <= GROWTH_LIMIT, memory.growth() / MB

        # an embedded JSON value the server judges: a long string beside a deep array
        # (the regular expression that skipped strings used 2.3 GB of stack for 20 MB);
        # the request itself is held a few times over (body, parsed, JSON text, message)
        memory.reset()
        metadata = {"log": "x" * (4 * MB), "deep": orjson.loads(deep(70))}
        data = [{"id": "1", "content": "https://img.example/1.jpg", "metadata": metadata}]
        response = await client.post(
            "/api/external/projects/init",
            json={
                "name": "p",
                "task_type": "object_detection",
                "tags": [{"tag": "cat"}],
                "data": data,
            },
            headers=auth(admin),
        )
        assert response.status_code == 400, response.text
        assert response.json()["details"]["field"] == "data[0].metadata"
        assert memory.growth() <= 10 * 4 * MB, memory.growth() / MB


@pytest.mark.parametrize("levels", [64, 65])
async def test_the_limit_is_64_levels_counted_from_the_top_of_the_file(
    settings: Settings, tmp_path: Path, admin: TestUser, levels: int
) -> None:
    """A file of 64 levels is read (and judged on its content); 65 is the depth error."""
    async with (
        served_process(settings, tmp_path) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=60) as client,
    ):
        project_id = (await init_project(client, admin))["project_id"]
        # the document, tasks, a task, predictions and a prediction take 5 levels
        inner = deep(levels - 5)
        payload = (
            b'{"schema_version":"1.0","tasks":[{"task_match":{"external_id":"a"},'
            b'"predictions":[{"geometry":{"type":"bbox","x":0.1,"y":0.1,"w":0.2,"h":0.2},'
            b'"class_name":"cat","debug":' + inner + b"}]}]}"
        )
        response = await client.post(
            f"/api/v1/projects/{project_id}/predictions/import",
            params={"format": "aap_json"},
            files={"file": ("p.json", payload, "application/json")},
            headers=auth(admin),
        )
    if levels <= 64:
        assert response.status_code == 200, response.text
        assert response.json()["imported"] == 1
    else:
        assert response.status_code == 400, response.text
        assert response.json()["details"] == {"field": "file", "max_depth": 64}
