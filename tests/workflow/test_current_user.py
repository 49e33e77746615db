"""GetCurrentUser (`GET /api/v1/me`): every role learns who its token belongs to;
a token that is not accepted learns nothing."""

from __future__ import annotations

import httpx

from storage.database import Database
from tests.helpers import TestUser
from tests.workflow.support import Rest, make_user


async def test_each_role_is_told_who_it_is(
    database: Database, admin: TestUser, http_client: httpx.AsyncClient
) -> None:
    annotator = await make_user(database, "zoë", "annotator")
    for user, role in ((admin, "admin"), (annotator, "annotator")):
        answer = await Rest(http_client, user).call("GET", "/api/v1/me")
        assert answer == {
            "user": {"user_id": user.user_id, "username": user.username, "role": role}
        }


async def test_an_unknown_token_is_not_told_anything(http_client: httpx.AsyncClient) -> None:
    response = await http_client.get(
        "/api/v1/me", headers={"Authorization": "Bearer aapi_not-a-token"}
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "INVALID_TOKEN"
