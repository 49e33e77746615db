"""Review over gRPC: the queue, reject with a comment and the resubmit, accept (final),
correct-and-accept, the sampled share, the reviewer's access, and two reviewers racing."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1 import review_service_pb2 as R
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.review_service_pb2_grpc import ReviewServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import func, select, update

from server.lifecycle.review import is_reviewed
from storage.database import Database
from storage.models import Project, Review
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import make_user
from tests.workflow.test_rules import error_of

P = project_service_pb2
ACCEPT, REJECT = common_pb2.REVIEW_VERDICT_ACCEPT, common_pb2.REVIEW_VERDICT_REJECT
PENDING, ACCEPTED = common_pb2.REVIEW_STATUS_PENDING, common_pb2.REVIEW_STATUS_ACCEPTED
REJECTED = common_pb2.REVIEW_STATUS_REJECTED
# two boxes from two model versions' pre-labels, as an annotator submits them
BOX = {
    "type": "rectanglelabels",
    "from_name": "label",
    "to_name": "image",
    "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 40.0, "rotation": 0,
              "rectanglelabels": ["cat"]},
}  # fmt: skip
SECOND_BOX = copy.deepcopy(BOX)
SECOND_BOX["value"].update(x=60.0, width=40.0001, rectanglelabels=["dög"])  # a sub-pixel overrun
ANSWER = orjson.dumps([BOX, SECOND_BOX]).decode()
NEGATIVE = "[]"
IMAGES = ["x.png", "x.jpg", "X.png", "x.jpeg", "größe/ß.png", "y.png"]


async def set_review_mode(
    database: Database, project_id: str, mode: str, share: float | None = None
) -> None:
    """The project's review setting, as ConfigureProject's `quality` stores it."""
    async with database.transaction() as conn:
        await conn.execute(
            update(Project.__table__)
            .where(Project.__table__.c.id == project_id)
            .values(review_mode=mode, review_share=share)
        )


class World:
    """A detection project owned by alice, tasks for carol and dave, reviewer rita."""

    def __init__(self, channel: grpc.aio.Channel, owner: TestUser) -> None:
        self.project = ProjectServiceStub(channel)
        self.workflow = WorkflowServiceStub(channel)
        self.review = ReviewServiceStub(channel)
        self.owner = owner
        self.project_id = ""
        self.task_ids: list[str] = []

    async def create(self, database: Database, *, mode: str, share: float | None = None) -> None:
        md = self.owner.metadata
        created = await self.project.InitProject(
            P.InitProjectRequest(
                name="review",
                task_type=common_pb2.TASK_TYPE_OBJECT_DETECTION,
                data=[P.TaskInput(content=f"https://img.example/{name}") for name in IMAGES],
                tags=[common_pb2.TagInput(tag="cat"), common_pb2.TagInput(tag="dög")],
            ),
            metadata=md,
        )
        self.project_id = created.project_id
        page = await self.project.ListTasks(
            P.ListTasksRequest(project_id=self.project_id), metadata=md
        )
        self.task_ids = [t.task_id for t in page.tasks]
        await self.workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=self.project_id, ready=True), metadata=md
        )
        await set_review_mode(database, self.project_id, mode, share)

    async def assign(self, user: TestUser, task_ids: list[str]) -> None:
        await self.workflow.AssignTasks(
            W.AssignTasksRequest(
                project_id=self.project_id, annotator_id=user.user_id, task_ids=task_ids
            ),
            metadata=self.owner.metadata,
        )

    async def add_reviewer(self, user: TestUser) -> Any:
        return await self.review.AddProjectReviewers(
            R.AddProjectReviewersRequest(project_id=self.project_id, user_ids=[user.user_id]),
            metadata=self.owner.metadata,
        )

    async def submit(self, user: TestUser, task_id: str, result: str = ANSWER) -> str:
        await self.workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=user.metadata)
        return await self.resubmit(user, task_id, result)

    async def resubmit(self, user: TestUser, task_id: str, result: str = ANSWER) -> str:
        submitted = await self.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=result), metadata=user.metadata
        )
        return str(submitted.annotation_id)

    async def verdict(self, user: TestUser, annotation_id: str, verdict: int, **fields: Any) -> Any:
        return await self.review.ReviewAnnotation(
            R.ReviewAnnotationRequest(annotation_id=annotation_id, verdict=verdict, **fields),
            metadata=user.metadata,
        )

    async def progress(self) -> Any:
        return await self.project.GetProgress(
            P.GetProgressRequest(project_id=self.project_id), metadata=self.owner.metadata
        )


def review_counts(progress: Any) -> tuple[int, int, int, int]:
    return (
        progress.review_pending_count,
        progress.accepted_count,
        progress.rejected_count,
        progress.reviewed_count,
    )


def annotator_counts(progress: Any, username: str) -> tuple[int, int, int]:
    (entry,) = [a for a in progress.annotators if a.username == username]
    return entry.review_pending_count, entry.accepted_count, entry.rejected_count


@pytest.fixture
async def world(channel: grpc.aio.Channel, admin: TestUser) -> World:
    return World(channel, admin)


@pytest.fixture
async def rita(database: Database) -> TestUser:
    return await make_user(database, "rita", "reviewer")


async def test_reject_sends_the_task_back_with_its_comment_and_accept_is_final(
    world: World, database: Database, annotator: TestUser, rita: TestUser
) -> None:
    await world.create(database, mode="all")
    dave = await make_user(database, "dave", "annotator")
    carol, ids = annotator, world.task_ids
    await world.assign(carol, ids[:2])
    await world.assign(dave, ids[2:4])
    await world.add_reviewer(rita)
    wf = world.workflow

    first = await world.submit(carol, ids[0])
    negative = await world.submit(dave, ids[2], NEGATIVE)  # an empty answer is reviewed too
    progress = await world.progress()
    assert review_counts(progress) == (2, 0, 0, 0)
    assert annotator_counts(progress, "carol") == (1, 0, 0)
    assert (progress.completed_tasks, progress.in_progress_tasks) == (2, 0)

    nxt = await world.review.NextReview(R.NextReviewRequest(), metadata=rita.metadata)
    assert (nxt.annotation_id, nxt.task.task_id) == (first, ids[0])  # the oldest first
    (shown,) = nxt.task.annotations
    assert (shown.review_status, shown.annotator.username) == (PENDING, "carol")

    error = await error_of(world.verdict(rita, first, REJECT, comment="  "))
    assert (error.error_code, error.details.get("field")) == ("INVALID_REQUEST", "comment")
    rejected = await world.verdict(rita, first, REJECT, comment="the dög box is too loose")
    assert (rejected.review_status, rejected.task_status) == (
        REJECTED,
        common_pb2.TASK_STATUS_IN_PROGRESS,
    )
    progress = await world.progress()
    assert review_counts(progress) == (1, 0, 1, 1)
    assert annotator_counts(progress, "carol") == (0, 0, 1)
    assert (progress.completed_tasks, progress.in_progress_tasks) == (1, 1)
    assert progress.annotators[0].completed_count == 0  # carol's task came back

    queue = await wf.ListAssignedTasks(W.ListAssignedTasksRequest(), metadata=carol.metadata)
    back = next(t for t in queue.tasks if t.task_id == ids[0])
    assert (back.status, back.review_status, back.review_comment) == (
        common_pb2.TASK_STATUS_IN_PROGRESS,
        REJECTED,
        "the dög box is too loose",
    )
    task = await wf.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=carol.metadata)
    assert task.task.annotations[0].reviewer.username == "rita"

    again = await world.resubmit(carol, ids[0], orjson.dumps([BOX]).decode())
    assert again == first  # replaced in place, waiting again
    progress = await world.progress()
    assert review_counts(progress) == (2, 0, 0, 1)
    assert annotator_counts(progress, "carol") == (1, 0, 0)

    accepted = await world.verdict(rita, first, ACCEPT)
    assert (accepted.review_status, accepted.task_status) == (
        ACCEPTED,
        common_pb2.TASK_STATUS_COMPLETED,
    )
    await world.verdict(rita, negative, ACCEPT, comment="nothing to see: right")
    progress = await world.progress()
    assert review_counts(progress) == (0, 2, 0, 3)
    assert annotator_counts(progress, "carol") == (0, 1, 0)
    assert annotator_counts(progress, "dave") == (0, 1, 0)

    # accepted is final: for its author, and for a second verdict
    md = carol.metadata
    for call in (
        wf.UpdateAnnotation(
            W.UpdateAnnotationRequest(annotation_id=first, result=ANSWER), metadata=md
        ),
        wf.ReopenTask(W.ReopenTaskRequest(task_id=ids[0]), metadata=md),
        wf.SkipTask(W.SkipTaskRequest(task_id=ids[0], reason="x"), metadata=md),
        world.verdict(rita, first, REJECT, comment="changed my mind"),
    ):
        assert (await error_of(call)).error_code == "INVALID_STATE"
    error = await error_of(world.review.NextReview(R.NextReviewRequest(), metadata=rita.metadata))
    assert error.error_code == "NO_TASK_AVAILABLE"
    async with database.read() as conn:
        verdicts = (await conn.execute(select(func.count()).select_from(Review))).scalar_one()
    assert verdicts == 3


async def test_correct_and_accept_keeps_the_original_and_credits_the_reviewer(
    world: World, database: Database, annotator: TestUser, rita: TestUser
) -> None:
    await world.create(database, mode="all")
    await world.assign(annotator, world.task_ids[:1])
    await world.add_reviewer(rita)
    original = await world.submit(annotator, world.task_ids[0])

    for bad in ('{"not": "a list"}', "[1, 2"):
        error = await error_of(world.verdict(rita, original, ACCEPT, corrected_result=bad))
        assert error.error_code == "INVALID_REQUEST"
    error = await error_of(
        world.verdict(rita, original, REJECT, comment="no", corrected_result=ANSWER)
    )
    assert error.details.get("field") == "corrected_result"

    fixed = orjson.dumps([BOX]).decode()
    done = await world.verdict(
        rita, original, ACCEPT, comment="dropped a box", corrected_result=fixed
    )
    assert done.review_status == ACCEPTED and done.HasField("correction_annotation_id")
    task = await world.workflow.GetTask(
        W.GetTaskRequest(task_id=world.task_ids[0]), metadata=rita.metadata
    )
    kept, correction = task.task.annotations
    labels = [r["value"]["rectanglelabels"] for r in orjson.loads(kept.result)]
    assert (kept.annotation_id, kept.review_status, labels) == (
        original,
        ACCEPTED,
        [["cat"], ["dög"]],  # the original, kept (its overrun clamped as at submit)
    )
    assert (correction.annotation_id, correction.annotator.username) == (
        done.correction_annotation_id,
        "rita",
    )
    assert (correction.corrects_annotation_id, correction.review_status) == (original, ACCEPTED)
    assert orjson.loads(correction.result) == [BOX]
    progress = await world.progress()
    assert review_counts(progress) == (0, 1, 0, 1)  # the correction is no answer of its own
    assert [a.username for a in progress.annotators] == ["carol"]


async def test_a_reviewer_sees_only_the_projects_they_review(
    world: World, database: Database, annotator: TestUser, rita: TestUser
) -> None:
    await world.create(database, mode="all")
    await world.assign(annotator, world.task_ids[:1])
    annotation = await world.submit(annotator, world.task_ids[0])
    md = rita.metadata
    error = await error_of(
        world.review.NextReview(R.NextReviewRequest(project_id=world.project_id), metadata=md)
    )
    assert error.error_code == "PROJECT_NOT_FOUND"
    error = await error_of(world.review.NextReview(R.NextReviewRequest(), metadata=md))
    assert error.error_code == "NO_TASK_AVAILABLE"
    error = await error_of(
        world.workflow.GetTask(W.GetTaskRequest(task_id=world.task_ids[0]), metadata=md)
    )
    assert error.error_code == "TASK_NOT_FOUND"
    assert (await error_of(world.verdict(rita, annotation, ACCEPT))).error_code == (
        "ANNOTATION_NOT_FOUND"
    )
    error = await error_of(
        world.review.AddProjectReviewers(
            R.AddProjectReviewersRequest(project_id=world.project_id, user_ids=[annotator.user_id]),
            metadata=world.owner.metadata,
        )
    )
    assert (error.error_code, error.details["user_ids"]) == ("USER_NOT_FOUND", [annotator.user_id])

    added = await world.add_reviewer(rita)
    assert [u.username for u in added.reviewers] == ["rita"]
    nxt = await world.review.NextReview(
        R.NextReviewRequest(project_id=world.project_id), metadata=md
    )
    assert nxt.annotation_id == annotation
    removed = await world.review.RemoveProjectReviewers(
        R.RemoveProjectReviewersRequest(project_id=world.project_id, user_ids=[rita.user_id]),
        metadata=world.owner.metadata,
    )
    assert list(removed.reviewers) == []
    assert (await error_of(world.verdict(rita, annotation, ACCEPT))).error_code == (
        "ANNOTATION_NOT_FOUND"
    )


async def test_sampled_review_and_review_off(
    world: World, database: Database, annotator: TestUser, admin: TestUser
) -> None:
    await world.create(database, mode="sample", share=0.5)
    ids = world.task_ids
    await world.assign(annotator, ids)
    for task_id in ids:
        await world.submit(annotator, task_id)
    task_pages = [
        await world.workflow.GetTask(W.GetTaskRequest(task_id=t), metadata=admin.metadata)
        for t in ids
    ]
    statuses = {t.task.task_id: t.task.annotations[0].review_status for t in task_pages}
    expected = {t: PENDING if is_reviewed("sample", 0.5, int(t)) else 0 for t in ids}
    assert statuses == expected
    progress = await world.progress()
    assert progress.review_pending_count == sum(1 for s in expected.values() if s == PENDING)

    await set_review_mode(database, world.project_id, "off")
    await world.workflow.ReopenTask(
        W.ReopenTaskRequest(task_id=ids[0]), metadata=annotator.metadata
    )
    await world.resubmit(annotator, ids[0])
    task = await world.workflow.GetTask(W.GetTaskRequest(task_id=ids[0]), metadata=admin.metadata)
    assert task.task.annotations[0].review_status == common_pb2.REVIEW_STATUS_UNSPECIFIED
    progress = await world.progress()
    assert progress.review_pending_count == sum(
        1 for t, s in expected.items() if s == PENDING and t != ids[0]
    )


async def test_reopen_takes_a_waiting_answer_out_of_the_queue(
    world: World, database: Database, annotator: TestUser, admin: TestUser
) -> None:
    await world.create(database, mode="all")
    await world.assign(annotator, world.task_ids[:1])
    task_id = world.task_ids[0]
    annotation = await world.submit(annotator, task_id)
    await world.workflow.ReopenTask(
        W.ReopenTaskRequest(task_id=task_id), metadata=annotator.metadata
    )
    assert review_counts(await world.progress()) == (0, 0, 0, 0)
    error = await error_of(world.review.NextReview(R.NextReviewRequest(), metadata=admin.metadata))
    assert error.error_code == "NO_TASK_AVAILABLE"
    assert (await error_of(world.verdict(admin, annotation, ACCEPT))).error_code == "INVALID_STATE"
    await world.resubmit(annotator, task_id)
    nxt = await world.review.NextReview(R.NextReviewRequest(), metadata=admin.metadata)
    assert nxt.annotation_id == annotation  # an admin reviews the projects they see


async def test_two_reviewers_racing_on_one_annotation_give_one_verdict(
    world: World, database: Database, annotator: TestUser, rita: TestUser
) -> None:
    await world.create(database, mode="all")
    rosa = await make_user(database, "rosa", "reviewer")
    await world.assign(annotator, world.task_ids)
    await world.add_reviewer(rita)
    await world.add_reviewer(rosa)
    annotations = [await world.submit(annotator, t) for t in world.task_ids]

    async def outcome(call: Any) -> str:
        try:
            await call
        except grpc.aio.AioRpcError as exc:
            return rpc_error(exc).error_code or "?"
        return "ok"

    for index, annotation in enumerate(annotations):
        verdict = REJECT if index % 2 else ACCEPT
        results = await asyncio.gather(
            outcome(world.verdict(rita, annotation, verdict, comment="rita")),
            outcome(world.verdict(rosa, annotation, ACCEPT, comment="rosa")),
        )
        assert sorted(results) == ["INVALID_STATE", "ok"], results
    progress = await world.progress()
    pending, accepted, rejected, reviewed = review_counts(progress)
    assert (pending, accepted + rejected, reviewed) == (0, len(annotations), len(annotations))
    assert (progress.completed_tasks, progress.in_progress_tasks) == (accepted, rejected)
    async with database.read() as conn:
        verdicts = (await conn.execute(select(func.count()).select_from(Review))).scalar_one()
    assert verdicts == len(annotations)
