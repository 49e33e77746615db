"""Import files and streamed fields under the rules every request obeys (server.request_rules)."""

from __future__ import annotations

import grpc
import pytest

from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import ImportCall, aap, image_tasks, seed_project


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
