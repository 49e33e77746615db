"""The hostile-input corpus (tests/hostile/corpus.py) against a real serve process.

Each input gets its documented answer (status, error_code, details.field), never a
5xx nor a body other than the unified error body, and leaves the server's peak
memory within GROWTH_LIMIT of where it was before it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from annotation_api.settings import Settings
from tests.helpers import TestUser
from tests.hostile.corpus import CORPUS, Hostile
from tests.hostile.support import MB, ServerMemory, auth, init_project, served_process

GROWTH_LIMIT = 20 * MB


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    return value


async def _send(
    client: httpx.AsyncClient, case: Hostile, names: dict[str, str], token: dict[str, str]
) -> httpx.Response:
    headers = {**token, **case.headers}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    kwargs: dict[str, Any] = {"params": _fill(case.params, names), "headers": headers}
    if case.file is not None:
        kwargs["files"] = {"file": ("hostile.json", case.file, "application/json")}
    elif case.content is not None:
        kwargs["content"] = case.content
    elif case.json is not None:
        kwargs["json"] = _fill(case.json, names)
    return await client.request(case.method, _fill(case.path, names), **kwargs)


def _problems(case: Hostile, response: httpx.Response) -> list[str]:
    expected = {case.status} if isinstance(case.status, int) else set(case.status)
    found: list[str] = []
    if response.status_code not in expected:
        found.append(f"status {response.status_code} not in {sorted(expected)}")
    if response.status_code >= 500:
        found.append("a 5xx")
    if response.status_code < 400:
        return found
    try:
        body = response.json()
    except ValueError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict) or set(body) != {"error_code", "message", "details"}:
        return [*found, f"not the unified error body: {response.text[:200]!r}"]
    if case.error_code is not None and body["error_code"] != case.error_code:
        found.append(f"error_code {body['error_code']} (expected {case.error_code})")
    if case.error_field is not None and body["details"].get("field") != case.error_field:
        found.append(f"details.field {body['details'].get('field')!r} ({case.error_field!r})")
    if "Traceback" in response.text:
        found.append("a traceback")
    return found


@pytest.mark.slow
async def test_every_hostile_input_gets_its_documented_answer(
    settings: Settings, tmp_path: Path, admin: TestUser, annotator: TestUser
) -> None:
    async with (
        served_process(settings, tmp_path) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=120) as client,
    ):
        project = await init_project(client, admin)
        names = {"project": str(project["project_id"]), "annotator": annotator.user_id}
        token = auth(admin)
        for case in CORPUS:  # warm-up: every route once
            await _send(client, case, names, token)
        memory = ServerMemory(served.process.pid)
        failures: dict[str, list[str]] = {}
        for case in CORPUS:
            memory.reset()
            response = await _send(client, case, names, token)
            problems = _problems(case, response)
            if memory.growth() > GROWTH_LIMIT:
                problems.append(f"peak memory grew by {memory.growth() / MB:.0f} MB")
            if problems:
                failures[case.name] = [*problems, response.text[:300]]
        assert served.process.poll() is None, "the server died"
        assert "Traceback" not in served.log_text()
    assert failures == {}
