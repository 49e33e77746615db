"""The two streaming conventions: multipart upload -> client stream, and the
download headers of a server stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from annotation_api.settings import Settings
from gateway.routes import content_disposition
from server.app import RunningServer
from tests.gateway.support import (
    INIT,
    assert_error,
    auth,
    init_body,
    running_gateway,
    with_settings,
)
from tests.helpers import TestUser


def import_path(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/predictions/import"


async def detection_project(client: httpx.AsyncClient, user: TestUser, tasks: int) -> str:
    data = [{"id": f"img_{i}", "content": f"https://x/{i}.jpg"} for i in range(tasks)]
    body = init_body(task_type="object_detection", data=data, tags=[{"tag": "car"}])
    response = await client.post(INIT, json=body, headers=auth(user))
    assert response.status_code == 200, response.text
    return str(response.json()["project_id"])


def aap_file(tasks: int, *, padding: int = 0) -> bytes:
    """An AAP JSON file with one box per task; padding (whitespace) makes it bigger."""
    entries = [
        {
            "task_match": {"external_id": f"img_{i}"},
            "predictions": [
                {
                    "geometry": {"type": "bbox", "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2},
                    "class_name": "car",
                    "confidence": 0.9,
                }
            ],
        }
        for i in range(tasks)
    ]
    return orjson.dumps({"schema_version": "1.0", "tasks": entries}) + b" " * padding


async def test_multipart_upload_streams_fields_and_file_in_chunks(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    project_id = await detection_project(http_client, admin, 3)
    # Over 3 MiB, so that the file travels in several 1 MiB messages; the file
    # part comes before the form field, as with `curl -F file=@x -F overwrite_existing=true`.
    payload = aap_file(3, padding=3 * 1024 * 1024)
    response = await http_client.post(
        import_path(project_id),
        params={"format": "aap_json", "dry_run": "true"},
        files={"file": ("preds.json", payload, "application/json")},
        data={"overwrite_existing": "true", "model_version": "ext-v1"},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": 3,
        "skipped": 0,
        "errors": [],
        "dry_run": True,
        "warnings": [],
    }


async def test_upload_errors_are_reported_per_entry_with_json_task_match(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    project_id = await detection_project(http_client, admin, 1)
    payload = orjson.dumps(
        {
            "schema_version": "1.0",
            "tasks": [
                {
                    "task_match": {"display_id": "T-999999"},
                    "predictions": [{"geometry": {"type": "bbox", "x": 0, "y": 0, "w": 1, "h": 1}}],
                }
            ],
        }
    )
    response = await http_client.post(
        import_path(project_id),
        params={"dry_run": "true"},
        files={"file": ("p.json", payload)},
        headers=auth(admin),
    )
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert errors[0]["task_match"] == {"display_id": "T-999999"}
    assert isinstance(errors[0]["reason"], str)


async def test_upload_without_a_file_part_or_not_multipart_is_400(
    http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    form_without_file = (
        b'--b\r\nContent-Disposition: form-data; name="model_version"\r\n\r\nx\r\n--b--\r\n'
    )
    no_file = await http_client.post(
        import_path("proj_000000000000"),
        content=form_without_file,
        headers={**auth(admin), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert assert_error(no_file, 400, "INVALID_REQUEST")["details"]["field"] == "file"
    as_json = await http_client.post(
        import_path("proj_000000000000"), json={"chunk": ""}, headers=auth(admin)
    )
    body = assert_error(as_json, 400, "INVALID_REQUEST")
    assert body["details"]["expected"] == "multipart/form-data"


async def test_upload_over_the_limit_is_413_with_or_without_content_length(
    settings: Settings, grpc_server: RunningServer, admin: TestUser
) -> None:
    limited = with_settings(
        settings, max_upload_bytes=1024 * 1024, grpc_target=f"127.0.0.1:{grpc_server.port}"
    )
    payload = b" " * (2 * 1024 * 1024)
    async with running_gateway(limited) as client:
        declared = await client.post(
            import_path("proj_000000000000"),
            files={"file": ("big.json", payload)},
            headers=auth(admin),
        )
        body = assert_error(declared, 413, "PAYLOAD_TOO_LARGE")
        assert body["details"]["limit_bytes"] == 1024 * 1024

        boundary = "b0undary"

        async def chunked() -> AsyncIterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="big.json"\r\n\r\n'
            ).encode()
            for _ in range(32):
                yield b" " * (64 * 1024)
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = await client.post(
            import_path("proj_000000000000"),
            content=chunked(),
            headers={
                **auth(admin),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert "content-length" not in streamed.request.headers
        assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")


def test_content_disposition_names_the_file_for_every_client() -> None:
    assert content_disposition("export_proj_1_json_20260203.json") == (
        'attachment; filename="export_proj_1_json_20260203.json"'
    )
    assert content_disposition("导出 结果.json") == (
        'attachment; filename="__ __.json"; '
        "filename*=UTF-8''%E5%AF%BC%E5%87%BA%20%E7%BB%93%E6%9E%9C.json"
    )
    assert content_disposition('a"b\\c.csv') == (
        "attachment; filename=\"a_b_c.csv\"; filename*=UTF-8''a%22b%5Cc.csv"
    )
