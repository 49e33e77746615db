"""Ground-truth tasks served at the project's rate (server.quality.serving): the
rule, and the assignment it creates, which moves no counter and never hands an
annotator a task twice or one they answered."""

from __future__ import annotations

import grpc
import pytest
from annotation.v1 import workflow_service_pb2 as W
from sqlalchemy import select, update

from server.auth import Caller, Role
from server.lifecycle.ground_truth import serves_ground_truth
from server.quality.reports import set_ground_truth
from server.quality.serving import serve_ground_truth
from storage.database import Database
from storage.models import Assignment, Project
from storage.types import utcnow
from tests.helpers import TestUser
from tests.workflow.support import make_user
from tests.workflow.test_rules import RESULT, Setup


@pytest.mark.parametrize(
    ("rate", "served_at"),
    [(0.25, [4, 8, 12]), (0.5, [2, 4, 6, 8, 10, 12]), (0.1, [10]), (0.57, [2, 4, 6, 8, 9, 11])],
)
def test_the_rate_picks_every_nth_task(rate: float, served_at: list[int]) -> None:
    served, answered, found = 0, 0, []
    for handed in range(1, 13):
        if serves_ground_truth(rate=rate, answered=answered, served=served, open_served=0):
            served += 1
            found.append(handed)
        else:
            answered += 1
    assert found == served_at
    assert not serves_ground_truth(rate=0.0, answered=9, served=0, open_served=0)
    assert not serves_ground_truth(rate=1.0, answered=0, served=1, open_served=1)


async def test_a_ground_truth_task_is_served_through_its_own_assignment(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, database: Database
) -> None:
    setup = Setup(channel, admin)
    bob = await make_user(database, "bob-ø", "annotator")
    pid, ids = await setup.new_project(6)
    wf = setup.workflow
    # carol answers tasks 0 and 1, which become ground truth
    await setup.assign(pid, annotator, ids[:2])
    for task_id in ids[:2]:
        await wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=annotator.metadata)
        await wf.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=annotator.metadata
        )
    owner = Caller(admin.user_id, admin.username, Role.ADMIN)
    await set_ground_truth(database, owner, pid, ids[:2], marked=True)
    async with database.transaction() as conn:
        await conn.execute(update(Project).where(Project.id == pid).values(ground_truth_rate=0.5))

    async def serve(user: TestUser) -> int | None:
        async with database.transaction() as conn:
            return await serve_ground_truth(
                conn, project_id=pid, user_id=user.user_id, now=utcnow()
            )

    # bob has done nothing yet: his first task is not a ground-truth one (rate 0.5: the 2nd)
    assert await serve(bob) is None
    await setup.assign(pid, bob, ids[2:3])
    await wf.StartTask(W.StartTaskRequest(task_id=ids[2]), metadata=bob.metadata)
    await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[2], result=RESULT), metadata=bob.metadata
    )
    await setup.assign(pid, bob, ids[4:5])  # an ordinary task waits in his queue
    before = await setup.progress(pid)
    # his 2nd turn is a ground-truth task, served by NextTask as an ordinary one
    nxt = await wf.NextTask(W.NextTaskRequest(), metadata=bob.metadata)
    assert nxt.task.task_id == ids[0]
    assert (nxt.task.ground_truth, nxt.task.HasField("agreement")) == (False, False)
    assert nxt.task.assignee.user_id == bob.user_id
    assert list(nxt.task.annotations) == []  # carol's known answer is not shown
    assert await serve(bob) is None  # one at a time
    after = await setup.progress(pid)
    assert (after.total_tasks, after.completed_tasks, after.in_progress_tasks) == (
        before.total_tasks, before.completed_tasks, before.in_progress_tasks,
    )  # fmt: skip
    assert [(a.username, a.assigned_count) for a in after.annotators] == [
        (a.username, a.assigned_count) for a in before.annotators
    ]
    async with database.read() as conn:
        rows = (
            await conn.execute(
                select(Assignment.task_id, Assignment.is_ground_truth).where(
                    Assignment.user_id == bob.user_id
                )
            )
        ).all()
    assert sorted(map(tuple, rows)) == [
        (int(ids[0]), True), (int(ids[2]), False), (int(ids[4]), False),
    ]  # fmt: skip
    # once answered, the next ground-truth task (his 4th) is another one; carol, who answered both,
    # is never served them
    async with database.transaction() as conn:
        await conn.execute(
            update(Assignment)
            .where(Assignment.user_id == bob.user_id, Assignment.task_id == int(ids[0]))
            .values(status="completed")
        )
    assert await serve(bob) is None  # his 3rd task is an ordinary one
    await setup.assign(pid, bob, ids[3:4])
    await wf.StartTask(W.StartTaskRequest(task_id=ids[3]), metadata=bob.metadata)
    await wf.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[3], result=RESULT), metadata=bob.metadata
    )
    assert await serve(bob) == int(ids[1])
    assert await serve(annotator) is None
    # with no ground-truth task left for bob, nothing is served
    async with database.transaction() as conn:
        await conn.execute(
            update(Assignment)
            .where(Assignment.user_id == bob.user_id, Assignment.task_id == int(ids[1]))
            .values(status="completed")
        )
    assert await serve(bob) is None
