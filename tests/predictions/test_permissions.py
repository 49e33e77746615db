"""Who may import: the project's owner or a super_admin (seed 002, SPEC §3)."""

from __future__ import annotations

import grpc
import pytest

from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.predictions.support import (
    ImportCall,
    aap,
    prediction,
    seed_project,
    stored_predictions,
)


def one_prediction() -> bytes:
    return aap({"task_match": {"file_path": "a.jpg"}, "predictions": [prediction()]})


async def test_the_owner_may_import(
    database: Database, admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    response = await import_file(admin, project.project_id, one_prediction())

    assert response.imported == 1


async def test_a_super_admin_may_import_into_any_project(
    database: Database, admin: TestUser, super_admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    response = await import_file(super_admin, project.project_id, one_prediction())

    assert response.imported == 1


async def test_another_admin_does_not_see_the_project(
    database: Database, admin: TestUser, other_admin: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(other_admin, project.project_id, one_prediction())

    error = rpc_error(caught.value)
    assert (error.code, error.error_code) == (grpc.StatusCode.NOT_FOUND, "PROJECT_NOT_FOUND")
    assert error.details == {"project_id": project.project_id}
    assert await stored_predictions(database, project.project_id) == []


async def test_an_unknown_project_is_not_found(admin: TestUser, import_file: ImportCall) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(admin, "proj_000000000000", one_prediction())

    assert rpc_error(caught.value).error_code == "PROJECT_NOT_FOUND"


async def test_an_annotator_is_denied(
    database: Database, admin: TestUser, annotator: TestUser, import_file: ImportCall
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(annotator, project.project_id, one_prediction())

    error = rpc_error(caught.value)
    assert (error.code, error.error_code) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "PERMISSION_DENIED",
    )


@pytest.mark.parametrize("token", ["", "not-a-token"])
async def test_a_bad_token_is_unauthenticated(
    database: Database, admin: TestUser, import_file: ImportCall, token: str
) -> None:
    project = await seed_project(database, owner=admin, tasks=[{"content": "https://h/a.jpg"}])
    stranger = TestUser("user_000000000000", "nobody", "admin", token)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await import_file(stranger, project.project_id, one_prediction())

    error = rpc_error(caught.value)
    assert (error.code, error.error_code) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_TOKEN")
    assert await stored_predictions(database, project.project_id) == []
