"""The event-stream route kind over real HTTP: WatchProgress as Server-Sent Events.

The first event is GET …/progress's body, later ones follow REST submits; a resumed
stream continues above Last-Event-ID; refusals before the first event are the JSON
error body, a failure after it is `event: error`; idle streams get comment lines;
stopping the gateway ends open streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from annotation_api.settings import Settings
from gateway.descriptors import RouteKind, discover_routes
from gateway.event_stream import event_frame
from gateway.serve import start_gateway
from server.accounts import revoke
from server.app import RunningServer
from storage.database import Database
from tests.helpers import TestUser, wait_until
from tests.workflow.support import Rest

DEADLINE = 60.0
RESULT = [
    {"type": "choices", "value": {"choices": ["ja"]}, "from_name": "label", "to_name": "text"}
]


@dataclass
class Event:
    data: Any = None
    id: int | None = None
    event: str = "message"
    comments: list[str] = field(default_factory=list)


class EventReader:
    """Server-Sent Events parsed from an httpx response, as the HTML standard reads them."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments = 0

    async def next(self) -> Event | None:
        """The next event (None when the stream ended)."""
        return await asyncio.wait_for(self._next(), DEADLINE)

    async def _next(self) -> Event | None:
        event = Event()
        data: list[str] = []
        async for line in self._lines:
            if line == "":
                if data:
                    event.data = orjson.loads("\n".join(data))
                    return event
                continue
            if line.startswith(":"):
                self.comments += 1
                event.comments.append(line)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "id":
                event.id = int(value)
            elif name == "event":
                event.event = value
        return None

    async def until(self, wanted: dict[str, Any]) -> list[Event]:
        seen = []
        while True:
            event = await self.next()
            assert event is not None, f"the stream ended before {wanted}"
            seen.append(event)
            if event.data["progress"] == wanted:
                return seen


@asynccontextmanager
async def watching(
    client: httpx.AsyncClient, rest: Rest, project_id: str, **headers: str
) -> AsyncIterator[EventReader]:
    async with client.stream(
        "GET",
        f"/api/external/projects/{project_id}/progress/stream",
        headers={**rest.headers, **headers},
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        yield EventReader(response)


async def new_project(rest: Rest, annotator: TestUser, tasks: int) -> tuple[str, list[str]]:
    created = await rest.call(
        "POST",
        "/api/external/projects/init",
        json={
            "name": "Strom ✓",
            "task_type": "text_classification",
            "data": [{"content": f"t{i} ü"} for i in range(tasks)],
            "tags": [{"tag": "ja"}, {"tag": "nein"}],
        },
    )
    project_id = created["project_id"]
    page = await rest.call("GET", f"/api/external/projects/{project_id}/tasks")
    task_ids = [t["task_id"] for t in page["tasks"]]
    await rest.call("POST", f"/api/v1/projects/{project_id}/configure", json={"ready": True})
    await rest.call(
        "POST",
        f"/api/v1/projects/{project_id}/assignments",
        json={"annotator_id": annotator.user_id, "task_ids": task_ids},
    )
    return project_id, task_ids


async def submit(rest: Rest, task_id: str) -> None:
    await rest.call("POST", f"/api/v1/tasks/{task_id}/start", json={})
    await rest.call("POST", f"/api/v1/tasks/{task_id}/annotations", json={"result": RESULT})


def test_a_server_stream_with_an_annotation_is_an_event_stream_route() -> None:
    kinds = {r.operation_id: r.kind for r in discover_routes()}
    assert kinds["ProjectService_WatchProgress"] == RouteKind.EVENT_STREAM


def test_event_frames() -> None:
    assert event_frame(b'{"a":1}', event_id=7) == b'id: 7\ndata: {"a":1}\n\n'
    assert event_frame(b"x\ny", event="error") == b"event: error\ndata: x\ndata: y\n\n"


async def test_events_follow_submits_and_resume_above_last_event_id(
    http_client: httpx.AsyncClient, admin: TestUser, annotator: TestUser
) -> None:
    rest, worker = Rest(http_client, admin), Rest(http_client, annotator)
    project_id, task_ids = await new_project(rest, annotator, 3)
    progress_path = f"/api/external/projects/{project_id}/progress"
    # A second client: a long-lived stream must not block the calls beside it.
    async with httpx.AsyncClient(base_url=str(http_client.base_url), timeout=DEADLINE) as other:
        async with watching(other, rest, project_id) as events:
            first = await events.next()
            assert first is not None and first.id == 1
            assert first.data == {"event_id": 1, "progress": await rest.call("GET", progress_path)}
            await submit(worker, task_ids[0])
            after = await rest.call("GET", progress_path)
            assert after["completed_tasks"] == 1
            seen = await events.until(after)
            last_id = seen[-1].id
            assert [e.id for e in seen] == list(range(2, 2 + len(seen)))

        await submit(worker, task_ids[1])
        now = await rest.call("GET", progress_path)
        async with watching(other, rest, project_id, **{"Last-Event-ID": str(last_id)}) as events:
            resumed = await events.next()
            assert resumed is not None
            # A state stream resumes with the current state at once, above the last id.
            assert (resumed.id, resumed.data["progress"]) == ((last_id or 0) + 1, now)


async def test_refusals_before_the_first_event_are_the_json_error_body(
    http_client: httpx.AsyncClient, admin: TestUser, other_admin: TestUser, annotator: TestUser
) -> None:
    rest = Rest(http_client, admin)
    project_id, _ = await new_project(rest, annotator, 1)
    path = f"/api/external/projects/{project_id}/progress/stream"
    cases = [
        ({}, 401, "INVALID_TOKEN"),
        (Rest(http_client, other_admin).headers, 404, "PROJECT_NOT_FOUND"),
        (Rest(http_client, annotator).headers, 403, "PERMISSION_DENIED"),
        ({**rest.headers, "Last-Event-ID": "not-a-number"}, 400, "INVALID_REQUEST"),
    ]
    for headers, status, error_code in cases:
        response = await http_client.get(path, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error_code"] == error_code


async def test_a_revoked_token_ends_the_stream_with_an_error_event(
    http_client: httpx.AsyncClient, admin: TestUser, annotator: TestUser, database: Database
) -> None:
    rest = Rest(http_client, admin)
    project_id, _ = await new_project(rest, annotator, 1)
    async with watching(http_client, rest, project_id) as events:
        assert (await events.next()) is not None
        await revoke(database, secret=admin.token)
        error = await events.next()
        assert error is not None and error.event == "error"
        assert error.data["error_code"] == "INVALID_TOKEN"
        assert set(error.data) == {"error_code", "message", "details"}
        assert await events.next() is None


async def test_idle_streams_get_heartbeats_and_end_when_the_gateway_stops(
    settings: Settings, grpc_server: RunningServer, admin: TestUser, annotator: TestUser
) -> None:
    gateway = await start_gateway(
        Settings(
            **{
                **settings.model_dump(),
                "grpc_target": f"127.0.0.1:{grpc_server.port}",
                "http_event_heartbeat_seconds": 0.05,
            }
        )
    )
    stopped = False
    try:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as client:
            rest = Rest(client, admin)
            project_id, _ = await new_project(rest, annotator, 1)
            async with watching(client, rest, project_id) as events:
                assert (await events.next()) is not None
                # comment lines arrive while nothing changes
                async with asyncio.timeout(DEADLINE):
                    while events.comments < 2:
                        line = await anext(events._lines)
                        if line.startswith(":"):
                            events.comments += 1
                stopping = asyncio.ensure_future(gateway.stop())
                assert await events.next() is None  # ended, not cut
                await asyncio.wait_for(stopping, DEADLINE)
                stopped = True
    finally:
        if not stopped:
            await gateway.stop()


async def test_open_streams_count_against_the_per_client_connection_cap(
    settings: Settings, grpc_server: RunningServer, admin: TestUser, annotator: TestUser
) -> None:
    gateway = await start_gateway(
        Settings(
            **{
                **settings.model_dump(),
                "grpc_target": f"127.0.0.1:{grpc_server.port}",
                "http_max_concurrency_per_client": 3,
            }
        )
    )
    try:
        async with (
            httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as setup,
            httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as one,
            httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as two,
        ):
            rest = Rest(setup, admin)
            project_id, _ = await new_project(rest, annotator, 1)
            async with (
                watching(one, rest, project_id) as first,
                watching(two, rest, project_id) as second,
            ):
                assert await first.next() is not None and await second.next() is not None
                # setup's keep-alive connection and two streams: the cap (3) is reached.
                async with httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as more:
                    refused = await more.get(
                        f"/api/external/projects/{project_id}/progress", headers=rest.headers
                    )
                assert refused.status_code == 503
                assert refused.json()["error_code"] == "SERVICE_UNAVAILABLE"
            # The streams closed: a new connection is served again.
            path = f"/api/external/projects/{project_id}/progress"

            async def served() -> bool:
                async with httpx.AsyncClient(base_url=gateway.url, timeout=DEADLINE) as later:
                    return (await later.get(path, headers=rest.headers)).status_code == 200

            await wait_until(served, what="a connection served after the streams closed")
    finally:
        await gateway.stop()
