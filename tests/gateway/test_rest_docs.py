"""The OpenAPI document, the offline docs page, /healthz and /metrics."""

from __future__ import annotations

import re

import httpx

from gateway.descriptors import discover_routes

SPEC_ROUTES = {
    ("post", "/api/external/projects/init"),
    ("get", "/api/external/projects/{project_id}/progress"),
    ("post", "/api/external/projects/{project_id}/export"),
    ("get", "/api/exports/{export_id}/download"),
    ("post", "/api/v1/projects/{project_id}/predictions/import"),
    ("get", "/api/external/projects/{project_id}/tasks"),
    ("get", "/api/external/exports/{export_id}"),
}

# The pre-labelling loop's routes (the workbench's contract).
LOOP_ROUTES = {
    ("get", "/api/external/projects"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/tasks/{task_id}"),
    ("get", "/api/v1/me/tasks"),
    ("post", "/api/v1/me/next-task"),
    ("post", "/api/v1/tasks/{task_id}/start"),
    ("post", "/api/v1/tasks/{task_id}/annotations"),
    ("patch", "/api/v1/annotations/{annotation_id}"),
    ("post", "/api/v1/tasks/{task_id}/skip"),
    ("post", "/api/v1/projects/{project_id}/configure"),
    ("post", "/api/v1/projects/{project_id}/assignments"),
    ("delete", "/api/v1/projects/{project_id}/assignments"),
    ("get", "/api/external/projects/{project_id}/predictions/stats"),
}


async def test_openapi_lists_every_annotated_route(http_client: httpx.AsyncClient) -> None:
    response = await http_client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    listed = {(method, path) for path, item in document["paths"].items() for method in item}
    annotated = {(r.http_method.lower(), r.path) for r in discover_routes()}
    assert listed == annotated
    assert listed >= SPEC_ROUTES
    assert listed >= LOOP_ROUTES


async def test_openapi_schemas_follow_the_json_rules(http_client: httpx.AsyncClient) -> None:
    document = (await http_client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    init = document["paths"]["/api/external/projects/init"]["post"]

    request_ref = init["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schemas[request_ref.rsplit("/", 1)[1]]["properties"]
    assert request["task_type"]["enum"][:5] == [
        "text_classification",
        "image_classification",
        "object_detection",
        "ner",
        "polygon",
    ]
    assert request["data"]["type"] == "array"

    response = schemas["InitProjectResponse"]
    assert set(response["required"]) == set(response["properties"])
    assert response["properties"]["task_count"] == {"type": "integer", "format": "int64"}
    assert response["properties"]["created_at"]["format"] == "date-time"
    assert response["properties"]["external_id"]["nullable"] is True
    assert "draft" in response["properties"]["status"]["enum"]
    assert schemas["TaskInput"]["properties"]["metadata"]["description"] == "any JSON value"
    assert init["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }

    progress = document["paths"]["/api/external/projects/{project_id}/progress"]["get"]
    assert progress["parameters"] == [
        {"name": "project_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    upload = document["paths"]["/api/v1/projects/{project_id}/predictions/import"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert {"format", "dry_run"} <= {p["name"] for p in upload["parameters"]}
    download = document["paths"]["/api/exports/{export_id}/download"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]


async def test_docs_page_loads_only_local_assets(http_client: httpx.AsyncClient) -> None:
    page = await http_client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text, re.IGNORECASE)
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert asset.startswith("/"), asset
        loaded = await http_client.get(asset)
        assert loaded.status_code == 200, asset
        assert loaded.content


async def test_healthz_asks_the_grpc_server(http_client: httpx.AsyncClient) -> None:
    response = await http_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_metrics_count_requests_by_route_template(http_client: httpx.AsyncClient) -> None:
    await http_client.get("/api/external/projects/proj_000000000000/progress")
    text = (await http_client.get("/metrics")).text
    assert (
        'gateway_http_requests_total{method="GET",'
        'route="/api/external/projects/{project_id}/progress",status="401"} 1.0'
    ) in text
