"""The stored score sums equal a recount from the rows, whatever answers came and went.

A property test (hypothesis) runs random sequences over three annotators on one
project per task type (choices, boxes, spans), on both engines: an answer is
submitted or updated (the scoring call, then the row, as SubmitAnnotation and
UpdateAnnotation write them), and tasks are marked or unmarked as ground truth.
After each sequence every quality_scores row, the coincidence matrix, each
task's agreement and each annotation's agreement and ground-truth score equal
what server.quality.contribution computes from the rows, task by task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from annotation_api.errors import DomainError, ErrorCode
from server.quality.contribution import StoredAnswer, task_contribution, total
from server.quality.scoring import mark_ground_truth, score_answer
from storage.database import Database
from storage.models import AgreementCoincidence, Annotation, QualityScore, Task
from storage.quality import load_scored_tasks
from storage.types import utcnow
from storage.workflow import insert_annotation, update_annotation
from tests.helpers import TestUser
from tests.workflow.support import make_user

P = project_service_pb2


def _box(x: float, label: str) -> dict[str, Any]:
    value = {"x": x, "y": 10, "width": 20, "height": 20, "rectanglelabels": [label]}
    return {"type": "rectanglelabels", "value": value}


def _span(start: int, end: int, label: str) -> dict[str, Any]:
    return {"type": "labels", "value": {"start": start, "end": end, "labels": [label]}}


def _choices(*names: str) -> dict[str, Any]:
    return {"type": "choices", "value": {"choices": list(names)}}


RESULTS = {
    common_pb2.TASK_TYPE_TEXT_CLASSIFICATION: [
        [], [_choices("a")], [_choices("b")], [_choices("a", "b")], [_choices("a")],
    ],
    common_pb2.TASK_TYPE_OBJECT_DETECTION: [
        [], [_box(0, "a")], [_box(5, "a")], [_box(0, "a"), _box(50, "b")], [_box(0, "b")],
    ],
    common_pb2.TASK_TYPE_NER: [
        [], [_span(0, 4, "a")], [_span(2, 6, "a")], [_span(0, 4, "a"), _span(8, 9, "b")],
        [_span(0, 4, "b")],
    ],
}  # fmt: skip
TASKS = 2
USERS = 3
operation = st.one_of(
    st.tuples(
        st.just("answer"),
        st.integers(0, USERS - 1),
        st.integers(0, TASKS - 1),
        st.integers(0, 4),
    ),
    st.tuples(st.just("mark"), st.booleans(), st.integers(0, TASKS - 1), st.just(0)),
)
sequences = st.tuples(
    st.sampled_from(sorted(RESULTS)), st.lists(operation, min_size=6, max_size=16)
)


async def new_project(channel: grpc.aio.Channel, admin: TestUser, task_type: int) -> str:
    created = await ProjectServiceStub(channel).InitProject(
        P.InitProjectRequest(
            name="recount",
            task_type=task_type,
            data=[P.TaskInput(content=f"Zürich {i} café") for i in range(TASKS)],
            tags=[common_pb2.TagInput(tag="a"), common_pb2.TagInput(tag="b")],
        ),
        metadata=admin.metadata,
    )
    return str(created.project_id)


async def answer(
    database: Database, project_id: str, task_id: int, user: TestUser, result: list[Any]
) -> str:
    """Submit or update user's answer; says which."""
    result_json = orjson.dumps(result).decode()
    async with database.transaction() as conn:
        rows = await conn.execute(
            select(Annotation.id).where(
                Annotation.task_id == task_id, Annotation.user_id == user.user_id
            )
        )
        existing = rows.scalar_one_or_none()
        scores = await score_answer(
            conn,
            task_id=task_id,
            annotation_id=existing,
            user_id=user.user_id,
            result_json=result_json,
        )
        if existing is not None:
            await update_annotation(
                conn, existing, result_json=result_json, lead_time_seconds=None,
                matches_parent=None, now=utcnow(),
            )  # fmt: skip
            return "update"
        await insert_annotation(
            conn,
            task_id=task_id,
            project_id=project_id,
            user_id=user.user_id,
            result_json=result_json,
            parent_prediction_id=None,
            lead_time_seconds=None,
            matches_parent=None,
            agreement=scores.agreement,
            ground_truth_score=scores.ground_truth_score,
            now=utcnow(),
        )
    return "submit"


async def check_recount(database: Database, project_id: str) -> None:
    async with database.read() as conn:
        ids = (await conn.execute(select(Task.id).where(Task.project_id == project_id))).scalars()
        tasks = await load_scored_tasks(conn, list(ids))
        stored = {
            (r.kind, r.user_id, r.label): r
            for r in (
                await conn.execute(
                    select(QualityScore.__table__).where(QualityScore.project_id == project_id)
                )
            ).all()
        }
        cells = {
            (c.value_a, c.value_b): c.weight
            for c in (
                await conn.execute(
                    select(AgreementCoincidence.__table__).where(
                        AgreementCoincidence.project_id == project_id
                    )
                )
            ).all()
        }
    contributions = []
    expected_cells: dict[tuple[str, str], float] = {}
    for task in tasks:
        found = task_contribution(
            task.task_type,
            iou_threshold=task.iou_threshold,
            is_ground_truth=task.is_ground_truth,
            answers=[
                _stored(a.annotation_id, a.user_id, a.result_json, a.is_ground_truth)
                for a in task.answers
            ],
        )
        contributions.append(found)
        assert task.agreement == pytest.approx(found.task_agreement), task.task_id
        for a in task.answers:
            assert (a.agreement, a.ground_truth_score) == (
                pytest.approx(found.agreement[a.annotation_id]),
                pytest.approx(found.ground_truth_score[a.annotation_id]),
            ), (task.task_id, a.annotation_id)
        for cell, weight in found.coincidences.items():
            expected_cells[cell] = expected_cells.get(cell, 0.0) + weight
    expected = total(contributions)
    for key in expected.keys() | stored.keys():
        want, row = expected.get(key), stored.get(key)
        got = (
            (row.score_sum, row.score_count, row.matched, row.answered, row.expected)
            if row
            else (0.0, 0, 0, 0, 0)
        )
        wanted = (
            (want.score_sum, want.score_count, want.matched, want.answered, want.expected)
            if want
            else (0.0, 0, 0, 0, 0)
        )
        assert got[1:] == wanted[1:], key
        assert got[0] == pytest.approx(wanted[0], abs=1e-9), key
    for cell in expected_cells.keys() | cells.keys():
        assert cells.get(cell, 0.0) == pytest.approx(expected_cells.get(cell, 0.0), abs=1e-9)


def _stored(annotation_id: int, user_id: str, result_json: str, known: bool) -> StoredAnswer:
    return StoredAnswer(annotation_id, user_id, result_json, known)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_score_sums_equal_a_recount_after_any_sequence(
    database: Database, admin: TestUser, channel: grpc.aio.Channel
) -> None:
    users = [await make_user(database, f"annotator-{i}-ø", "annotator") for i in range(USERS)]
    loop = asyncio.get_running_loop()
    seen: set[str] = set()

    def on_loop(coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)  # type: ignore[arg-type]

    async def play(task_type: int, ops: list[tuple[Any, ...]]) -> None:
        project_id = await new_project(channel, admin, task_type)
        async with database.read() as conn:
            rows = await conn.execute(
                select(Task.id).where(Task.project_id == project_id).order_by(Task.id)
            )
            task_ids = list(rows.scalars())
        for kind, who, task, which in ops:
            if kind == "answer":
                result = RESULTS[task_type][which]
                seen.add(await answer(database, project_id, task_ids[task], users[who], result))
                continue
            try:
                async with database.transaction() as conn:
                    await mark_ground_truth(
                        conn, project_id=project_id, task_ids=[task_ids[task]], marked=who,
                        now=utcnow(),
                    )  # fmt: skip
                seen.add(f"mark {who}")
            except DomainError as error:
                assert error.code == ErrorCode.INVALID_STATE
        await check_recount(database, project_id)

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(sequences)
    def property_holds(sequence: tuple[int, list[tuple[Any, ...]]]) -> None:
        on_loop(play(*sequence))

    await asyncio.to_thread(property_holds)
    assert seen == {"submit", "update", "mark True", "mark False"}, seen
