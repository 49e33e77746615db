"""Import files and streamed fields under the rules every request obeys (server.request_rules)."""

from __future__ import annotations

import grpc
import pytest

from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import ImportCall, aap, image_tasks, seed_project, stored_predictions


async def test_too_deep_prediction_file_is_invalid_request(
    import_file: ImportCall, database: Database, admin: TestUser
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    deep = {"task_match": {"external_id": "ext-0"}, "predictions": ["DEEP"]}
    # written as text: a JSON library would refuse to build it this deep
    payload = aap(deep).replace(b'"DEEP"', b'{"a":' * 299 + b"{}" + b"}" * 299)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, payload)
    error = rpc_error(caught.value)
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "file"


async def test_nul_in_a_streamed_model_version_is_invalid_request(
    import_file: ImportCall, database: Database, admin: TestUser
) -> None:
    project = await seed_project(database, owner=admin, tasks=image_tasks(1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, project.project_id, aap(), model_version="a\x00b")
    error = rpc_error(caught.value)
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == "model_version"


async def test_a_class_name_that_is_not_single_line_text_is_refused(
    import_file: ImportCall, database: Database, admin: TestUser
) -> None:
    project = await seed_project(database, owner=admin, labels=(), tasks=image_tasks(1))
    box = {"type": "bbox", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
    payload = aap(
        {
            "task_match": {"display_id": project.display_id(0)},
            "predictions": [
                {"geometry": box, "class_name": "cat\ndog"},
                {"geometry": box, "class_name": "cat"},
            ],
        }
    )
    response = await import_file(admin, project.project_id, payload)
    assert (response.imported, response.skipped) == (1, 1)
    assert "class_name" in response.errors[0].reason
    [row] = await stored_predictions(database, project.project_id)
    assert row["result"][0]["value"]["rectanglelabels"] == ["cat"]
