"""Helpers of the REST tests: request bodies, auth headers, error checks, extra gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from annotation_api.settings import Settings
from gateway.serve import start_gateway
from tests.helpers import TestUser

INIT = "/api/external/projects/init"


def auth(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def init_body(**changes: Any) -> dict[str, Any]:
    """Seed 000's init example; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "name": "图像分类项目-批次001",
        "description": "对商品图片进行分类标注",
        "task_type": "image_classification",
        "data": [
            {
                "id": "ext_001",
                "content": "https://example.com/images/product1.jpg",
                "metadata": {"batch": "001", "source": "商品库"},
            },
            {"id": "ext_002", "content": "https://example.com/images/product2.jpg"},
        ],
        "external_id": "sample_center_proj_001",
        "tags": [{"tag": "猫猫", "color": "#FF5733"}, {"tag": "狗狗"}],
    }
    return {**body, **changes}


def assert_error(response: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    """Check the unified error body; returns it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    assert "Traceback" not in response.text
    return body


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of its own (other limits, another target) and a client for it."""
    gateway = await start_gateway(settings)
    try:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
            yield client
    finally:
        await gateway.stop()
