"""Small hardening rules over REST: the docs page's protection, 405's Allow, empty bodies,
the limits the OpenAPI document states, U+0000 in task metadata, and who ListUsers shows."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from annotation.v1 import options_pb2
from google.protobuf import descriptor_pool

from server.field_limits import MAXIMUM, field_limit
from server.workflow.assignments import MAX_ASSIGN_COUNT
from storage.database import Database
from tests.gateway.support import INIT, assert_error, auth, init_body
from tests.helpers import TestUser
from tests.workflow.support import make_user


async def test_the_docs_page_and_its_assets_cannot_be_framed_nor_run_foreign_script(
    http_client: httpx.AsyncClient,
) -> None:
    page = await http_client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    # the one inline script runs: the policy names its hash
    (script,) = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    asset = await http_client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.headers["x-frame-options"] == "DENY"


async def test_405_allows_every_method_of_the_path(http_client: httpx.AsyncClient) -> None:
    response = await http_client.put("/api/v1/projects/proj_000000000000/assignments")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, POST"
    response = await http_client.get(INIT)
    assert response.headers["allow"] == "POST"


async def test_an_empty_body_where_one_is_required_is_400(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await http_client.post(INIT, content=b"", headers=auth(admin))
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"] == {"field": "body"}
    document = (await http_client.get("/openapi.json")).json()
    assert document["paths"][INIT]["post"]["requestBody"]["required"] is True
    # a body of defaults only may be empty, and the document says so
    export = document["paths"]["/api/external/projects/{project_id}/export"]["post"]
    assert export["requestBody"]["required"] is False


async def test_the_openapi_document_states_the_limits_the_server_enforces(
    http_client: httpx.AsyncClient,
) -> None:
    document = (await http_client.get("/openapi.json")).json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]

    def parameter(path: str, method: str, name: str) -> dict[str, object]:
        (found,) = [p for p in paths[path][method]["parameters"] if p["name"] == name]
        return found["schema"]  # type: ignore[no-any-return]

    for path in ("/api/external/projects", "/api/v1/me/tasks"):
        assert parameter(path, "get", "page_size")["minimum"] == 0
    assert (
        parameter("/api/external/projects/{project_id}/tasks", "get", "page_size")["minimum"] == 0
    )
    assign = paths["/api/v1/projects/{project_id}/assignments"]["post"]["requestBody"]
    count = _resolve(schemas, assign["content"]["application/json"]["schema"])["properties"][
        "count"
    ]
    assert count["maximum"] == MAX_ASSIGN_COUNT == 100_000
    init = _resolve(
        schemas, paths[INIT]["post"]["requestBody"]["content"]["application/json"]["schema"]
    )
    assert init["properties"]["name"]["minLength"] == 1
    assert init["properties"]["name"]["maxLength"] == 255


def test_every_limit_option_is_read_from_the_proto() -> None:
    """The server's numbers are the options' (server/field_limits.py), so they cannot drift."""
    request = descriptor_pool.Default().FindMessageTypeByName("annotation.v1.AssignTasksRequest")
    assert request.fields_by_name["count"].GetOptions().Extensions[options_pb2.maximum] == (
        MAX_ASSIGN_COUNT
    )
    from annotation.v1 import workflow_service_pb2

    assert field_limit(workflow_service_pb2.AssignTasksRequest, "count", MAXIMUM) == 100_000
    with pytest.raises(TypeError):
        field_limit(workflow_service_pb2.AssignTasksRequest, "project_id", MAXIMUM)


def _resolve(schemas: dict[str, object], schema: dict[str, object]) -> dict[str, object]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found = schemas[ref.rsplit("/", 1)[1]]
        assert isinstance(found, dict)
        return found
    return schema


@pytest.mark.parametrize(
    ("metadata", "where"),
    [
        ({"a\u0000b": 1}, "a key"),
        ({"note": "x\u0000"}, "a value"),
        ({"deep": [{"list": ["ok", "\u0000"]}]}, "a nested value"),
    ],
)
async def test_nul_in_task_metadata_is_refused_naming_the_field(
    http_client: httpx.AsyncClient, admin: TestUser, metadata: dict[str, object], where: str
) -> None:
    data = [
        {"id": "1", "content": "https://img.example/1.jpg"},
        {"id": "2", "content": "https://img.example/2.jpg", "metadata": metadata},
    ]
    response = await http_client.post(INIT, json=init_body(data=data), headers=auth(admin))
    body = assert_error(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "data[1].metadata", where


async def test_a_backslash_before_u0000_text_is_not_nul(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    data = [{"id": "1", "content": "https://img.example/1.jpg", "metadata": {"p": "C:\\u0000"}}]
    response = await http_client.post(INIT, json=init_body(data=data), headers=auth(admin))
    assert response.status_code == 200, response.text


async def test_an_admin_sees_the_annotators_reviewers_and_themselves(
    http_client: httpx.AsyncClient,
    super_admin: TestUser,
    admin: TestUser,
    other_admin: TestUser,
    annotator: TestUser,
    database: Database,
) -> None:
    async def names(user: TestUser, **params: str) -> list[str]:
        response = await http_client.get("/api/v1/users", params=params, headers=auth(user))
        assert response.status_code == 200, response.text
        return [u["username"] for u in response.json()["users"]]

    reviewer = await make_user(database, "rita", "reviewer")
    assert await names(admin) == sorted([admin.username, annotator.username, reviewer.username])
    assert await names(admin, role="admin") == [admin.username]
    assert await names(admin, role="super_admin") == []
    assert await names(admin, role="annotator") == [annotator.username]
    assert await names(admin, role="reviewer") == [reviewer.username]
    assert await names(super_admin) == sorted(
        [
            super_admin.username,
            admin.username,
            other_admin.username,
            annotator.username,
            reviewer.username,
        ]
    )
    response = await http_client.get("/api/v1/me", headers=auth(reviewer))
    assert response.json()["user"]["role"] == "reviewer"
