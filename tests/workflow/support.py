"""Helpers of the workflow tests: users with tokens, a REST client per user."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from server.accounts import create_token, create_user
from storage.database import Database
from tests.helpers import TestUser


async def make_user(database: Database, username: str, role: str) -> TestUser:
    user = await create_user(database, username=username, role=role)
    issued = await create_token(database, username=username)
    return TestUser(user.user_id, user.username, user.role, issued.secret)


class Rest:
    """REST calls as one user; each call checks the status it expects."""

    def __init__(self, client: httpx.AsyncClient, user: TestUser) -> None:
        self.client = client
        self.user = user

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.user.token}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        files: Any = None,
        data: Any = None,
        status: int = 200,
    ) -> Any:
        response = await self.client.request(
            method,
            path,
            json=json,
            params=params,
            files=files,
            data=data,
            headers=self.headers,
        )
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()


def aap_bbox_file(
    task_ids: list[str],
    boxes: list[tuple[float, float, float, float]],
    *,
    class_name: str,
    confidence: float,
) -> bytes:
    """An AAP JSON file with one box per task, (x, y, width, height) in percent."""
    tasks = [
        {
            "task_match": {"display_id": f"T-{task_id}"},
            "predictions": [
                {
                    "geometry": {
                        "type": "bbox",
                        "x": x / 100,
                        "y": y / 100,
                        "w": w / 100,
                        "h": h / 100,
                    },
                    "class_name": class_name,
                    "confidence": confidence,
                }
            ],
        }
        for task_id, (x, y, w, h) in zip(task_ids, boxes, strict=True)
    ]
    return orjson.dumps({"schema_version": "1.0", "tasks": tasks})
