"""The stored counters and statuses equal a recount of the rows, whatever the workflow did.

A property test (hypothesis) runs random sequences of the moves of server/lifecycle over
three annotators, with 1, 2 or 3 annotations per task (overlap), through the real gRPC
server on both engines: configure, change annotations_per_task, assign (by ids and by
count), unassign, start, submit, update, skip, reopen, the annotation import, and review
(the review mode, accept, reject with a comment, correct-and-accept). Calls come from
the annotators and the project's admin alike; a call the rules refuse (INVALID_STATE, or
a task or annotation that is not the caller's) changes nothing, and any other error fails
the test. After each sequence the project's total, completed and in-progress counts,
each annotator's assigned, completed and in-progress counts, every task's answers
(annotation_count) and status, and the project's status are recounted from the rows,
and the review counters of the project and its annotators from the annotations and the
verdicts.

One more test holds the race of a StartTask sent again after the submit (a stale tab, a
retry): it can no longer reopen the task nor make room for a second annotation.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import annotation_service_pb2, common_pb2, project_service_pb2
from annotation.v1 import review_service_pb2 as R
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.annotation_service_pb2_grpc import AnnotationServiceStub
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.review_service_pb2_grpc import ReviewServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from server.lifecycle.rules import task_status_for
from server.vocabulary import ProjectStatus, TaskStatus
from storage.database import Database
from storage.models import Annotation, Assignment, Project, ProjectAnnotator, Review, Task
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import make_user

P = project_service_pb2
TASKS = [f"評価 {i}: naïve café" for i in range(6)]
ANNOTATORS = ("ann", "bob", "cyd")
# What a refused call may answer; anything else is a defect.
REFUSALS = {"INVALID_STATE", "TASK_NOT_FOUND", "ANNOTATION_NOT_FOUND"}
REVIEW_SHARE = 0.5  # in review mode sample


def result(choice: str) -> str:
    return orjson.dumps(
        [
            {
                "type": "choices",
                "from_name": "label",
                "to_name": "text",
                "value": {"choices": [choice]},
            }
        ]
    ).decode()


task_index = st.integers(0, len(TASKS) - 1)
task_indexes = st.lists(task_index, min_size=1, max_size=2, unique=True)
annotator = st.sampled_from(ANNOTATORS)
# Who calls a move of a task: mostly its assignee, else the project's admin or another
# annotator (who gets TASK_NOT_FOUND).
caller = st.sampled_from(["assignee"] * 4 + ["admin", "another"])
OPERATIONS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "assign_ids": st.tuples(
        st.just("assign_ids"), annotator, st.lists(task_index, min_size=1, max_size=2, unique=True)
    ),
    "assign_count": st.tuples(st.just("assign_count"), annotator, st.integers(1, 3)),
    "unassign": st.tuples(
        st.just("unassign"), st.none() | annotator, st.lists(task_index, max_size=2, unique=True)
    ),
    "import": st.tuples(st.just("import"), annotator, task_indexes),
    "configure": st.tuples(st.just("configure"), st.booleans(), st.none()),
    "overlap": st.tuples(st.just("overlap"), st.integers(1, 3), st.none()),
    **{
        kind: st.tuples(st.just(kind), caller, st.tuples(st.booleans() | st.just(True), task_index))
        for kind in ("start", "submit", "reopen", "skip", "update", "stale_start")
    },
}
# Review (server.lifecycle.review): the project's review mode, and a reviewer's verdicts
# by its reviewer, its admin, or a reviewer of another project (ANNOTATION_NOT_FOUND).
reviewer = st.sampled_from(["reviewer"] * 3 + ["admin", "outsider"])
task_pick = st.tuples(st.booleans() | st.just(True), task_index)
REVIEW_OPERATIONS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "review_mode": st.tuples(
        st.just("review_mode"), st.sampled_from(["all", "all", "sample", "off"]), st.none()
    ),
    **{
        kind: st.tuples(
            st.just(kind), reviewer, st.tuples(st.booleans() | st.just(True), task_index)
        )
        for kind in ("accept", "reject", "correct")
    },
}
# How often each operation is drawn: a task's common moves more often than the rest.
WEIGHTS = {
    "start": 6,
    "submit": 6,
    "reopen": 3,
    "skip": 2,
    "update": 2,
    "assign_ids": 3,
    "assign_count": 2,
    "review_mode": 2,
    "accept": 3,
    "reject": 3,
    "correct": 2,
}
ALL_OPERATIONS = {**OPERATIONS, **REVIEW_OPERATIONS}
operation = st.sampled_from(
    [kind for kind in ALL_OPERATIONS for _ in range(WEIGHTS.get(kind, 1))]
).flatmap(ALL_OPERATIONS.__getitem__)
# Most sequences configure the project first, so that the work can start; each starts
# with 1, 2 or 3 annotations per task.
sequences = st.tuples(
    st.integers(0, 9).map(bool),
    st.integers(1, 3),
    st.lists(operation, min_size=6, max_size=25),
)
# The review's own sequences: a task's moves and the verdicts, the rest seldom; one in
# three with 2 annotations per task.
REVIEW_WEIGHTS = {"start": 6, "submit": 6, "accept": 3, "reject": 3, "correct": 2, "reopen": 2}
review_operation = st.sampled_from(
    [
        kind
        for kind in ALL_OPERATIONS
        if kind not in ("configure", "assign_ids")
        for _ in range(REVIEW_WEIGHTS.get(kind, 1))
    ]
).flatmap(ALL_OPERATIONS.__getitem__)
review_sequences = st.tuples(
    st.sampled_from([1, 1, 2]), st.lists(review_operation, min_size=10, max_size=30)
)


@dataclass
class World:
    users: dict[str, TestUser]
    project: ProjectServiceStub
    workflow: WorkflowServiceStub
    annotations: AnnotationServiceStub
    database: Database
    review: ReviewServiceStub
    done: Counter[tuple[str, bool]] = field(default_factory=Counter)  # (kind, done): calls


async def refused_or_done(call: Awaitable[Any]) -> bool:
    """Whether the call was done (False: refused by a rule)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        error = rpc_error(exc)
        assert error.error_code in REFUSALS, (error.code, error.error_code, error.message)
        return False
    return True


async def new_project(world: World) -> tuple[str, list[str]]:
    md = world.users["admin"].metadata
    created = await world.project.InitProject(
        P.InitProjectRequest(
            name="recount",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[P.TaskInput(content=text) for text in TASKS],
            tags=[common_pb2.TagInput(tag="正面"), common_pb2.TagInput(tag="负面")],
        ),
        metadata=md,
    )
    page = await world.project.ListTasks(
        P.ListTasksRequest(project_id=created.project_id), metadata=md
    )
    return created.project_id, [task.task_id for task in page.tasks]


async def import_annotations(world: World, project_id: str, user: str, indexes: list[int]) -> Any:
    units = [
        {"data": {"text": TASKS[i]}, "annotations": [{"result": orjson.loads(result("负面"))}]}
        for i in indexes
    ]
    Request = annotation_service_pb2.ImportAnnotationsRequest

    async def requests() -> AsyncIterator[Any]:
        yield Request(
            project_id=project_id,
            annotator_id=world.users[user].user_id,
            format=annotation_service_pb2.ANNOTATION_IMPORT_FORMAT_LABEL_STUDIO_JSON,
        )
        yield Request(chunk=orjson.dumps(units))

    return await world.annotations.ImportAnnotations(
        requests(), metadata=world.users["admin"].metadata
    )


# Which assignments a move fits (their status), when it is drawn to pick one it fits:
# the others are drawn too, and must be refused.
FITS: dict[str, set[str]] = {
    "start": {"assigned"},
    "submit": {"in_progress"},
    "reopen": {"completed"},
    "skip": {"assigned", "in_progress"},
    "update": {"completed"},
    # a StartTask sent again after the submit (a retry, a stale tab): always refused
    "stale_start": {"completed"},
}


async def resolve_task(
    world: World, project_id: str, task_ids: list[str], kind: str, pick: tuple[bool, int]
) -> tuple[str, str | None]:
    """The task a move is called on and whose assignment it means: the pick-th assignment
    that the move fits, or (when none fits, or when drawn so) the pick-th task of the
    project and its first assignment."""
    fitting, index = pick
    async with world.database.read() as conn:
        rows = (
            await conn.execute(
                select(Assignment.task_id, Assignment.user_id, Assignment.status)
                .where(Assignment.project_id == project_id)
                .order_by(Assignment.task_id, Assignment.id)
            )
        ).all()
    if fitting:
        fit = [(str(task_id), user) for task_id, user, status in rows if status in FITS[kind]]
        if fit:
            return fit[index % len(fit)]
    task_id = task_ids[index]
    holders = [user for task, user, _ in rows if str(task) == task_id]
    return task_id, holders[0] if holders else None


async def resolve_caller(
    world: World, project_id: str, task_id: str, holder: str | None, who: str
) -> TestUser:
    """The user meant by "assignee" (the chosen assignment's), "admin" or "another" (an
    annotator who holds no assignment of the task, if there is one) for a task."""
    async with world.database.read() as conn:
        holders = set(
            (
                await conn.execute(
                    select(Assignment.user_id).where(Assignment.task_id == int(task_id))
                )
            ).scalars()
        )
    annotators = [world.users[name] for name in ANNOTATORS]
    if who == "admin":
        return world.users["admin"]
    if who == "assignee":
        return next((u for u in annotators if u.user_id == holder), annotators[0])
    return next(
        (u for u in annotators if u.user_id not in holders),
        next(u for u in annotators if u.user_id != holder),
    )


async def annotation_of(database: Database, task_id: str, user_id: str | None) -> str | None:
    """user_id's annotation of the task (any, when user_id is None)."""
    query = select(Annotation.id).where(Annotation.task_id == int(task_id))
    if user_id is not None:
        query = query.where(Annotation.user_id == user_id)
    async with database.read() as conn:
        found = (await conn.execute(query.limit(1))).scalar()
    return None if found is None else str(found)


async def run(world: World, project_id: str, task_ids: list[str], op: tuple[Any, ...]) -> None:
    kind = op[0]
    done = await call(world, project_id, task_ids, op)
    world.done[kind, done] += 1


async def call(world: World, project_id: str, task_ids: list[str], op: tuple[Any, ...]) -> bool:
    """Run one operation; whether it was done (False: refused, or nothing to do)."""
    kind, who, what = op
    wf, admin = world.workflow, world.users["admin"].metadata
    if kind in REVIEW_OPERATIONS:
        return await call_review(world, project_id, op)
    if kind == "configure":
        return await refused_or_done(
            wf.ConfigureProject(
                W.ConfigureProjectRequest(project_id=project_id, ready=who), metadata=admin
            )
        )
    elif kind == "overlap":
        return await refused_or_done(set_per_task(world, project_id, who))
    elif kind in ("assign_ids", "assign_count"):
        request = W.AssignTasksRequest(project_id=project_id, annotator_id=world.users[who].user_id)
        if kind == "assign_ids":
            request.task_ids.extend(task_ids[i] for i in what)
        else:
            request.count = what
        return await refused_or_done(wf.AssignTasks(request, metadata=admin))
    elif kind == "unassign":
        request = W.UnassignTasksRequest(
            project_id=project_id, task_ids=[task_ids[i] for i in what]
        )
        if who is not None:
            request.annotator_id = world.users[who].user_id
        return await refused_or_done(wf.UnassignTasks(request, metadata=admin))
    elif kind == "import":
        return await refused_or_done(import_annotations(world, project_id, who, what))
    else:
        task_id, holder = await resolve_task(world, project_id, task_ids, kind, what)
        user = await resolve_caller(world, project_id, task_id, holder, who)
        md = user.metadata
        if kind == "start":
            return await refused_or_done(
                wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
            )
        elif kind == "stale_start":
            status = (
                await wf.GetTask(W.GetTaskRequest(task_id=task_id), metadata=admin)
            ).task.status
            started = await refused_or_done(
                wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=md)
            )
            assert not (started and status == common_pb2.TASK_STATUS_COMPLETED), task_id
            return started
        elif kind == "reopen":
            return await refused_or_done(
                wf.ReopenTask(W.ReopenTaskRequest(task_id=task_id), metadata=md)
            )
        elif kind == "skip":
            return await refused_or_done(
                wf.SkipTask(W.SkipTaskRequest(task_id=task_id, reason="unclear"), metadata=md)
            )
        elif kind == "submit":
            return await refused_or_done(
                wf.SubmitAnnotation(
                    W.SubmitAnnotationRequest(task_id=task_id, result=result("正面")), metadata=md
                )
            )
        else:
            author = holder if who == "admin" else user.user_id
            annotation_id = await annotation_of(world.database, task_id, author)
            if annotation_id is not None:
                return await refused_or_done(
                    wf.UpdateAnnotation(
                        W.UpdateAnnotationRequest(
                            annotation_id=annotation_id, result=result("负面")
                        ),
                        metadata=md,
                    )
                )
    return False


async def set_per_task(world: World, project_id: str, per_task: int) -> Any:
    return await world.workflow.ConfigureProject(
        W.ConfigureProjectRequest(
            project_id=project_id,
            quality=common_pb2.QualitySettings(annotations_per_task=per_task),
        ),
        metadata=world.users["admin"].metadata,
    )


async def check_recount(database: Database, project_id: str) -> None:
    """Every stored counter and status equals its recount from the rows."""
    async with database.read() as conn:
        project = (
            await conn.execute(
                select(
                    Project.total_tasks,
                    Project.completed_tasks,
                    Project.in_progress_tasks,
                    Project.status,
                    Project.annotations_per_task,
                ).where(Project.id == project_id)
            )
        ).one()
        tasks = {
            task_id: (status, answers)
            for task_id, status, answers in await conn.execute(
                select(Task.id, Task.status, Task.annotation_count).where(
                    Task.project_id == project_id
                )
            )
        }
        assignments = (
            await conn.execute(
                select(Assignment.task_id, Assignment.user_id, Assignment.status).where(
                    Assignment.project_id == project_id
                )
            )
        ).all()
        annotations = (
            await conn.execute(
                select(Annotation.task_id, Annotation.user_id).where(
                    Annotation.project_id == project_id
                )
            )
        ).all()
        counters = (
            await conn.execute(
                select(
                    ProjectAnnotator.user_id,
                    ProjectAnnotator.assigned_count,
                    ProjectAnnotator.completed_count,
                    ProjectAnnotator.in_progress_count,
                ).where(ProjectAnnotator.project_id == project_id)
            )
        ).all()

    per_task = project.annotations_per_task
    statuses = Counter(status for status, _ in tasks.values())
    assert (project.total_tasks, project.completed_tasks, project.in_progress_tasks) == (
        len(tasks),
        statuses[TaskStatus.COMPLETED],
        statuses[TaskStatus.IN_PROGRESS],
    )
    recounted: dict[str, tuple[int, int, int]] = {}
    for user_id in {user for _, user, _ in assignments}:
        mine = [status for _, user, status in assignments if user == user_id]
        recounted[user_id] = (len(mine), mine.count("completed"), mine.count("in_progress"))
    stored = {user: counts for user, *counts in counters if any(counts) or user in recounted}
    assert {user: tuple(counts) for user, counts in stored.items()} == recounted

    # a task's answers are its completed assignments, its status follows them, N and
    # whether one of its assignments is started; it never holds more than N annotators
    by_task: dict[int, list[str]] = {task_id: [] for task_id in tasks}
    for task_id, _, status in assignments:
        by_task[task_id].append(status)
    written = Counter(task_id for task_id, _ in annotations)
    for task_id, (status, answers) in tasks.items():
        held = by_task[task_id]
        assert answers == held.count("completed"), (task_id, answers, held)
        expected = task_status_for(
            answers=answers, per_task=per_task, started="in_progress" in held
        )
        assert status == expected, (task_id, status, answers, held, per_task)
        assert len(held) <= per_task, (task_id, held, per_task)
        # every standing answer has its annotation
        assert written[task_id] >= answers, (task_id, written[task_id], answers)
    # nobody annotated a task twice
    assert max(Counter(annotations).values(), default=1) == 1, annotations

    # the project's status follows its counters once work has started
    if project.status in (ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED):
        all_done = project.completed_tasks == project.total_tasks
        assert (project.status == ProjectStatus.COMPLETED) == all_done, project.status
    elif project.status == ProjectStatus.READY:
        # (an import into a draft project assigns without starting the work)
        assert statuses[TaskStatus.IN_PROGRESS] == 0
    await check_review_recount(database, project_id)


async def call_review(world: World, project_id: str, op: tuple[Any, ...]) -> bool:
    """A review operation: the project's review mode, or a verdict on an annotation."""
    kind, who, what = op
    if kind == "review_mode":
        async with world.database.transaction() as conn:
            await conn.execute(
                update(Project)
                .where(Project.id == project_id)
                .values(review_mode=who, review_share=REVIEW_SHARE if who == "sample" else None)
            )
        return True
    for name, role in (("reviewer", "reviewer"), ("outsider", "reviewer")):
        if name not in world.users:
            world.users[name] = await make_user(world.database, name, role)
    await world.review.AddProjectReviewers(
        R.AddProjectReviewersRequest(
            project_id=project_id, user_ids=[world.users["reviewer"].user_id]
        ),
        metadata=world.users["admin"].metadata,
    )
    fitting, index = what
    async with world.database.read() as conn:
        query = select(Annotation.id).where(Annotation.project_id == project_id)
        if fitting:
            query = query.where(Annotation.review_status == "pending")
        found = [str(row) for row in (await conn.execute(query.order_by(Annotation.id))).scalars()]
    if not found:
        return False
    request = R.ReviewAnnotationRequest(
        annotation_id=found[index % len(found)],
        verdict=common_pb2.REVIEW_VERDICT_REJECT
        if kind == "reject"
        else common_pb2.REVIEW_VERDICT_ACCEPT,
        comment="重画 the box" if kind == "reject" else "",
    )
    if kind == "correct":
        request.corrected_result = result("负面")
    return await refused_or_done(
        world.review.ReviewAnnotation(request, metadata=world.users[who].metadata)
    )


async def check_review_recount(database: Database, project_id: str) -> None:
    """The review counters equal a recount of the annotations' review statuses (answers
    only: a reviewer's correction is none) and of the verdicts' history."""
    async with database.read() as conn:
        stored = (
            await conn.execute(
                select(
                    Project.review_pending_count,
                    Project.accepted_count,
                    Project.rejected_count,
                    Project.reviewed_count,
                ).where(Project.id == project_id)
            )
        ).one()
        rows = (
            await conn.execute(
                select(
                    Annotation.id,
                    Annotation.task_id,
                    Annotation.user_id,
                    Annotation.review_status,
                    Annotation.corrects_annotation_id,
                ).where(Annotation.project_id == project_id)
            )
        ).all()
        verdicts = (
            await conn.execute(
                select(func.count()).select_from(Review).where(Review.project_id == project_id)
            )
        ).scalar_one()
        counters = (
            await conn.execute(
                select(
                    ProjectAnnotator.user_id,
                    ProjectAnnotator.review_pending_count,
                    ProjectAnnotator.accepted_count,
                    ProjectAnnotator.rejected_count,
                ).where(ProjectAnnotator.project_id == project_id)
            )
        ).all()
        assignment_status = {
            (task_id, user_id): status
            for task_id, user_id, status in (
                await conn.execute(
                    select(Assignment.task_id, Assignment.user_id, Assignment.status).where(
                        Assignment.project_id == project_id
                    )
                )
            ).all()
        }
    answers = [row for row in rows if row.corrects_annotation_id is None]
    by_status = Counter(row.review_status for row in answers)
    assert tuple(stored) == (
        by_status["pending"],
        by_status["accepted"],
        by_status["rejected"],
        verdicts,
    )
    recounted: Counter[tuple[str, str]] = Counter(
        (row.user_id, row.review_status) for row in answers if row.review_status
    )
    for user_id, pending, accepted, rejected in counters:
        assert (pending, accepted, rejected) == (
            recounted[user_id, "pending"],
            recounted[user_id, "accepted"],
            recounted[user_id, "rejected"],
        ), user_id
    assert sum(recounted.values()) == sum(sum(counts) for _, *counts in counters)
    # an answer waits for review only while its author's work on the task is done (with
    # overlap the task may still wait for other answers); a correction and the answer it
    # corrects are both accepted
    status_of = {row.id: row.review_status for row in rows}
    for row in rows:
        if row.review_status == "pending":
            assert assignment_status.get((row.task_id, row.user_id)) == "completed", row
        if row.corrects_annotation_id is not None:
            assert (row.review_status, status_of[row.corrects_annotation_id]) == (
                "accepted",
                "accepted",
            ), row


@pytest.fixture
async def world(database: Database, admin: TestUser, channel: grpc.aio.Channel) -> World:
    users = {"admin": admin}
    for name in ANNOTATORS:
        users[name] = await make_user(database, name, "annotator")
    return World(
        users,
        ProjectServiceStub(channel),
        WorkflowServiceStub(channel),
        AnnotationServiceStub(channel),
        database,
        ReviewServiceStub(channel),
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_counters_and_statuses_equal_a_recount_after_any_sequence(world: World) -> None:
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)  # type: ignore[arg-type]

    async def play(configure_first: bool, per_task: int, ops: list[tuple[Any, ...]]) -> None:
        project_id, task_ids = await new_project(world)
        await set_per_task(world, project_id, per_task)
        if configure_first:
            # a ready project with work handed out, for the moves to find material
            prologue = [("assign_count", name, 2) for name in ANNOTATORS[:2]]
            ops = [("configure", True, None), *prologue, *ops]
        for op in ops:
            await run(world, project_id, task_ids, op)
        await check_recount(world.database, project_id)

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(sequences)
    def property_holds(sequence: tuple[bool, int, list[tuple[Any, ...]]]) -> None:
        on_loop(play(*sequence))

    # hypothesis drives the examples from a thread; each runs on the test's event loop
    await asyncio.to_thread(property_holds)
    # every operation was done, not only refused, somewhere in the run (the examples are
    # derandomized: the same on every run and engine)
    done = {kind for (kind, done), _ in world.done.items() if done}
    missing = set(OPERATIONS) - {"stale_start"} - done
    assert not missing, (missing, world.done)
    assert world.done["stale_start", False] > 0, world.done


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_review_counters_equal_a_recount_after_any_sequence(world: World) -> None:
    """The same property over sequences that review: every project starts ready, with
    work handed out and every answer reviewed (the sequence may change the mode)."""
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)  # type: ignore[arg-type]

    async def play(per_task: int, ops: list[tuple[Any, ...]]) -> None:
        project_id, task_ids = await new_project(world)
        await set_per_task(world, project_id, per_task)
        prologue = [("configure", True, None), ("review_mode", "all", None)]
        prologue += [("assign_count", name, 3) for name in ANNOTATORS[:2]]
        for op in [*prologue, *ops]:
            await run(world, project_id, task_ids, op)
        await check_recount(world.database, project_id)

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(review_sequences)
    def property_holds(sequence: tuple[int, list[tuple[Any, ...]]]) -> None:
        on_loop(play(*sequence))

    await asyncio.to_thread(property_holds)
    done = {kind for (kind, done), _ in world.done.items() if done}
    missing = set(REVIEW_OPERATIONS) - done
    assert not missing, (missing, world.done)


@pytest.mark.parametrize("rounds", [20])
async def test_a_start_sent_after_the_submit_does_not_reopen_the_task(
    world: World, rounds: int
) -> None:
    project_id, task_ids = await new_project(world)
    wf, admin, ann = world.workflow, world.users["admin"].metadata, world.users["ann"].metadata
    await wf.ConfigureProject(
        W.ConfigureProjectRequest(project_id=project_id, ready=True), metadata=admin
    )
    # the same task over and over: submit, and a StartTask racing it (or arriving after it)
    task_id = task_ids[0]
    await wf.AssignTasks(
        W.AssignTasksRequest(
            project_id=project_id, annotator_id=world.users["ann"].user_id, task_ids=[task_id]
        ),
        metadata=admin,
    )
    await wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=ann)
    outcomes: Counter[str] = Counter()
    for round_ in range(rounds):
        submit = wf.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=result("正面")), metadata=ann
        )
        stale = wf.StartTask(W.StartTaskRequest(task_id=task_id), metadata=ann)
        submitted, started = await asyncio.gather(submit, stale, return_exceptions=True)
        assert not isinstance(submitted, BaseException), submitted
        assert isinstance(started, grpc.aio.AioRpcError), started
        error = rpc_error(started)
        outcomes[error.details.get("task_status", "")] += 1
        assert error.error_code == "INVALID_STATE"
        got = await wf.GetTask(W.GetTaskRequest(task_id=task_id), metadata=ann)
        assert got.task.status == common_pb2.TASK_STATUS_COMPLETED
        assert len(got.task.annotations) == 1
        await check_recount(world.database, project_id)
        if round_ < rounds - 1:
            # an explicit reopen: the next submit replaces the annotation
            await wf.ReopenTask(W.ReopenTaskRequest(task_id=task_id), metadata=ann)
    # every stale start found the task completed or still in progress, never reopened it
    assert set(outcomes) <= {"completed", "in_progress"}, outcomes
    progress = await world.project.GetProgress(
        P.GetProgressRequest(project_id=project_id), metadata=admin
    )
    assert (progress.completed_tasks, progress.annotators[0].completed_count) == (1, 1)
