"""Schemathesis against the real gateway and server: no 5xx, nothing undocumented.

Every operation of the served OpenAPI document gets schema-conforming
(positive) and schema-violating (negative) requests, with a real token and,
for about half of them, real ids in the path, so that requests reach the
server's rules and not only its "not found" (negative cases also drop or
mangle the token, which must then be 401). Each response must be neither a
5xx nor a status, content type or body the document does not declare.
Hypothesis is derandomized: the run is the same on every machine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.serve import RunningGateway
from tests.gateway.support import INIT, auth, init_body
from tests.helpers import TestUser

TOTAL_EXAMPLES = 320
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def real_ids(client: httpx.AsyncClient, admin: TestUser) -> dict[str, str]:
    created = await client.post(INIT, json=init_body(), headers=auth(admin))
    assert created.status_code == 200, created.text
    project_id = created.json()["project_id"]
    tasks = await client.get(f"/api/external/projects/{project_id}/tasks", headers=auth(admin))
    assert tasks.status_code == 200, tasks.text
    export = await client.post(
        f"/api/external/projects/{project_id}/export",
        json={"completed_only": False},
        headers=auth(admin),
    )
    assert export.status_code == 200, export.text
    export_id = export.json()["file_url"].split("/")[-2]
    return {
        "project_id": project_id,
        "task_id": str(tasks.json()["tasks"][0]["task_id"]),
        "export_id": export_id,
    }


def fuzz(document: dict[str, Any], base_url: str, token: str, ids: dict[str, str]) -> FuzzReport:
    schema = schemathesis.openapi.from_dict(document)
    # An event stream never ends by itself (a request could not be answered in full):
    # tests/gateway/test_event_stream.py covers its refusals and events.
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if "text/event-stream" not in str(operation.definition.raw.get("responses", {}))
    ]
    per_operation = max(10, TOTAL_EXAMPLES // len(operations))
    report = FuzzReport()
    headers = {"Authorization": f"Bearer {token}"}

    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy, use_real_ids=st.booleans())
        @settings(
            max_examples=per_operation,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, use_real_ids: bool) -> None:
            if use_real_ids:
                for name in list(case.path_parameters or {}):
                    if name in ids:
                        case.path_parameters[name] = ids[name]
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            report.cases += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except BaseExceptionGroup as exc:  # schemathesis: every failed check
                report.failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{str(exc)[:600]}\n  body: {response.text[:300]}"
                )

        run()
    return report


@pytest.mark.slow
async def test_fuzzing_every_operation_finds_no_5xx_and_nothing_undocumented(
    gateway: RunningGateway, http_client: httpx.AsyncClient, admin: TestUser
) -> None:
    ids = await real_ids(http_client, admin)
    document = (await http_client.get("/openapi.json")).json()
    report = await asyncio.to_thread(fuzz, document, gateway.url, admin.token, ids)
    print(f"schemathesis: {report.cases} cases, statuses {sorted(report.statuses.items())}")
    assert report.failures == [], "\n".join(report.failures[:20])
    assert report.cases >= 200
    assert not any(status >= 500 for status in report.statuses)
