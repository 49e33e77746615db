"""The streamed-body route kind: a large JSON body fed to `<Method>Stream` as it is parsed.

REST init is the route of this kind. Its contract is the unary route's: the
same answers and error bodies whatever the body's size and key order, and
nothing written when any item is refused, however late in the body.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from gateway.codec import parse_json
from gateway.descriptors import RouteKind, discover_routes
from gateway.routes import STREAMED_CHUNK_BYTES
from gateway.scalars import CodecError
from gateway.streamed_body import IrregularBody, StreamedBody
from storage.database import Database
from storage.models import Project, Task
from tests.gateway.support import INIT, assert_error, auth, init_body
from tests.helpers import TestUser

# Enough items for several chunks of the body.
LARGE = 30_000


def large_items(count: int = LARGE) -> list[dict[str, Any]]:
    return [
        {"id": f"ext_{i}", "content": f"https://example.com/img/{i}.jpg", "metadata": {"i": i}}
        for i in range(count)
    ]


async def count_rows(database: Database, model: Any) -> int:
    async with database.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def post(client: httpx.AsyncClient, user: TestUser, body: bytes) -> httpx.Response:
    headers = {**auth(user), "content-type": "application/json"}
    return await client.post(INIT, content=body, headers=headers, timeout=120)


def test_init_is_a_streamed_body_route() -> None:
    route = next(r for r in discover_routes() if r.path == INIT)
    assert route.kind == RouteKind.STREAMED_BODY
    assert route.streamed_field == "data"
    assert route.stream_method is not None
    assert route.stream_method.name == "InitProjectStream"
    assert len(orjson.dumps(init_body(data=large_items()))) > 2 * STREAMED_CHUNK_BYTES


async def test_a_wrong_type_late_in_a_large_body_is_400_naming_it_and_writes_nothing(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    data = large_items()
    data[29_000]["content"] = 5
    response = await post(http_client, admin, orjson.dumps(init_body(data=data)))

    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "data[29000].content"
    assert await count_rows(database, Project) == 0
    assert await count_rows(database, Task) == 0


async def test_an_item_the_server_refuses_late_is_400_naming_it_and_writes_nothing(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    data = large_items()
    data[29_500]["content"] = "   "
    response = await post(http_client, admin, orjson.dumps(init_body(data=data)))

    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "data[29500].content"
    assert await count_rows(database, Project) == 0
    assert await count_rows(database, Task) == 0


async def test_the_gateways_error_comes_before_the_servers_as_for_a_small_body(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    """The server refuses item 3 at once; the wrong type of item 29,000 is still the answer."""
    data = large_items()
    data[3]["content"] = ""
    data[29_000]["metadata"] = None
    data[29_000]["id"] = 7
    response = await post(http_client, admin, orjson.dumps(init_body(data=data)))

    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "data[29000].id"
    assert await count_rows(database, Project) == 0


async def test_malformed_json_late_in_a_large_body_gets_the_usual_error(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database
) -> None:
    raw = orjson.dumps(init_body(data=large_items()))
    cut = raw.rindex(b"},{", 0, len(raw) - 1000)
    broken = raw[:cut] + b"},,{" + raw[cut + 3 :]
    with pytest.raises(CodecError) as expected:
        parse_json(broken)
    response = await post(http_client, admin, broken)

    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["message"] == expected.value.message
    assert body["details"]["field"] == "body"
    assert body["details"]["column"] == expected.value.extra["column"]
    assert await count_rows(database, Project) == 0
    assert await count_rows(database, Task) == 0


@pytest.mark.parametrize("order", ["data_first", "data_between", "data_last", "duplicate_name"])
async def test_any_key_order_gets_the_same_project(
    http_client: httpx.AsyncClient, admin: TestUser, database: Database, order: str
) -> None:
    fields = init_body(data=large_items(5_000))
    data = fields.pop("data")
    if order == "data_first":
        raw = orjson.dumps({"data": data, **fields})
    elif order == "data_between":
        raw = orjson.dumps({"name": fields["name"], "data": data, "tags": fields["tags"]} | fields)
    elif order == "data_last":
        raw = orjson.dumps({**fields, "data": data})
    else:  # the same key before and after the array: the last one counts, as in JSON
        head = orjson.dumps({**fields, "name": "first"})[:-1]
        raw = (
            head + b',"data":' + orjson.dumps(data) + b',"name":"' + fields["name"].encode() + b'"}'
        )
    response = await post(http_client, admin, raw)

    assert response.status_code == 200, response.text
    created = response.json()
    assert created["task_count"] == 5_000
    assert created["project_name"] == fields["name"]
    assert created["external_id"] == fields["external_id"]
    assert 'value="猫猫"' in created["config"]
    assert await count_rows(database, Task) == 5_000


def split(
    raw: bytes, chunk_bytes: int = 8
) -> tuple[dict[str, Any], list[list[Any]], dict[str, Any]]:
    body = StreamedBody(raw, "data", chunk_bytes=chunk_bytes)
    chunks = list(body.chunks())
    return body.head, chunks, body.tail


def test_a_body_is_split_into_head_chunks_and_tail() -> None:
    raw = b' { "name" : "a" , "data" : [ {"a":"},{"} , {"b":[{"c":1}]} , {} ] , "t": [{"x":"]"}] } '
    head, chunks, tail = split(raw)
    assert head == {"name": "a"}
    assert [item for chunk in chunks for item in chunk] == [{"a": "},{"}, {"b": [{"c": 1}]}, {}]
    assert len(chunks) > 1
    assert tail == {"t": [{"x": "]"}]}
    assert split(b'{"data": []}') == ({}, [], {})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": [1, 2]}',  # items that are not objects
        b'{"a": 1 "data": [{}]}',  # no comma before the field
        b'{"data": [{}],}',  # a trailing comma
        b'{"data": [{}], "data": [{}]}',  # the field twice
        b'{"data": [{}, {}]',  # no closing brace
        b'{"x": {"data": [{}]}, "data": [{}]}',  # the field nested first
        b'{"data": null}',
        b'["data", [{}]]',
    ],
)
def test_a_body_that_does_not_split_plainly_is_irregular(raw: bytes) -> None:
    with pytest.raises(IrregularBody):
        split(raw)
