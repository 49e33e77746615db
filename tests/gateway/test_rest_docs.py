"""The OpenAPI document, the offline docs page, /healthz and /metrics."""

from __future__ import annotations

import re

import httpx
from annotation.v1.common_pb2 import TagInput
from annotation.v1.export_service_pb2 import DownloadExportResponse
from annotation.v1.prediction_service_pb2 import ImportPredictionsRequest
from annotation.v1.project_service_pb2 import InitProjectRequest, TaskInput

from annotation_api.errors import ERROR_STATUS
from gateway.descriptors import discover_routes
from gateway.openapi import limits_of, media_types_of
from server.exports.formats.registry import FORMATS
from server.predictions.entries import MAX_MODEL_VERSION_LENGTH
from server.projects import validation

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
    assert response["properties"]["task_count"] == {
        "type": "integer",
        "format": "int64",
        "description": "task_count is the number of tasks created.",
    }
    assert response["properties"]["created_at"]["format"] == "date-time"
    assert response["properties"]["external_id"]["nullable"] is True
    assert "draft" in response["properties"]["status"]["enum"]
    assert schemas["TaskInput"]["properties"]["metadata"]["description"].endswith(
        "(any JSON value)"
    )
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


async def test_openapi_tells_what_the_protos_and_the_error_table_say(
    http_client: httpx.AsyncClient,
) -> None:
    document = (await http_client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    init = document["paths"]["/api/external/projects/init"]["post"]

    # Every HTTP status of the error table, 409 and 422 included, with its codes.
    statuses = {str(status) for status, _ in ERROR_STATUS.values()}
    assert {"409", "422"} <= statuses <= set(init["responses"])
    assert "INVALID_STATE" in init["responses"]["409"]["description"]
    assert "INVALID_IMPORT_FILE" in init["responses"]["422"]["description"]

    # Summaries and descriptions are the proto comments.
    assert init["summary"] == (
        "InitProject creates a project in draft status with all its tasks, in one transaction"
    )
    request = schemas["InitProjectRequest"]
    assert request["properties"]["name"]["description"].startswith("name is the project's name")

    # Required fields and documented limits.
    assert set(request["required"]) == {"name", "task_type", "data"}
    assert request["properties"]["name"]["maxLength"] == 255
    assert request["properties"]["data"]["minItems"] == 1
    assert set(schemas["TagInput"]["required"]) == {"tag"}
    assert schemas["TagInput"]["properties"]["color"]["pattern"] == "^#[0-9A-Fa-f]{6}$"
    tasks = document["paths"]["/api/external/projects/{project_id}/tasks"]["get"]
    page_size = next(p for p in tasks["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["minimum"] == 0 and "1000" in page_size["schema"]["description"]

    # The download answers with the file's own media type, a zip among them.
    download = document["paths"]["/api/exports/{export_id}/download"]["get"]
    assert {"application/zip", "application/json", "text/csv"} <= set(
        download["responses"]["200"]["content"]
    )


def test_documented_limits_are_the_servers() -> None:
    """The proto options the document shows are the limits the server enforces."""
    name = InitProjectRequest.DESCRIPTOR.fields_by_name["name"]
    task_id = TaskInput.DESCRIPTOR.fields_by_name["id"]
    tag = TagInput.DESCRIPTOR.fields_by_name["tag"]
    model_version = ImportPredictionsRequest.DESCRIPTOR.fields_by_name["model_version"]
    assert limits_of(name) == {"minLength": 1, "maxLength": validation.MAX_NAME_LENGTH}
    assert limits_of(task_id) == {"maxLength": validation.MAX_ID_LENGTH}
    assert limits_of(tag) == {"minLength": 1, "maxLength": validation.MAX_LABEL_LENGTH}
    assert limits_of(model_version) == {"maxLength": MAX_MODEL_VERSION_LENGTH}
    color = limits_of(TagInput.DESCRIPTOR.fields_by_name["color"])["pattern"]
    assert re.fullmatch(color, "#A0b1C2") and not re.fullmatch(color, "#A0b1C")
    assert validation.COLOR.match("#A0b1C2") and not validation.COLOR.match("#A0b1C")
    media_types = media_types_of(DownloadExportResponse.DESCRIPTOR)
    for spec in FORMATS.values():
        assert spec.content_type.split(";")[0] in media_types, spec.name
