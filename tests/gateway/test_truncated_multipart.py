"""A multipart body without its closing boundary is refused, and nothing is imported."""

from __future__ import annotations

import httpx

from storage.database import Database
from tests.gateway.support import assert_error, auth
from tests.helpers import TestUser
from tests.predictions.support import aap, prediction, seed_project, stored_predictions


async def test_a_form_without_its_closing_boundary_is_400_and_writes_nothing(
    http_client: httpx.AsyncClient, database: Database, admin: TestUser
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    payload = aap(
        {"task_match": {"display_id": project.display_id(0)}, "predictions": [prediction()]}
    )
    head = b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="p.json"\r\n\r\n'
    path = f"/api/v1/projects/{project.project_id}/predictions/import"
    headers = {**auth(admin), "Content-Type": "multipart/form-data; boundary=b0undary"}

    for cut in (head + payload, head + payload + b"\r\n--b0undary", head + payload[:10]):
        response = await http_client.post(path, content=cut, headers=headers)
        body = assert_error(response, 400, "INVALID_REQUEST")
        assert "closing boundary" in body["message"]
    assert await stored_predictions(database, project.project_id) == []

    whole = head + payload + b"\r\n--b0undary--\r\n"
    response = await http_client.post(path, content=whole, headers=headers)
    assert response.status_code == 200, response.text
    assert len(await stored_predictions(database, project.project_id)) == 1
