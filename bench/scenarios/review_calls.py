"""The reviewer's calls beside the annotator's (bench.scenarios.calls): server CPU per
NextReview and per ReviewAnnotation on the calls project.

Per run, untimed: the project reviews every answer (review mode `all`), the annotator
submits a batch of fresh tasks, and the mode goes back to `off` (the annotator's own
figures are of an unreviewed project). Timed: the reviewer asks NextReview as often as
the annotator asks NextTask, then gives each answer of the batch its verdict (one in
four a reject with a comment, which sends the task back: the costlier move; the others
accepted).
"""

from __future__ import annotations

from annotation.v1 import common_pb2, review_service_pb2_grpc, workflow_service_pb2_grpc
from annotation.v1 import review_service_pb2 as R
from annotation.v1 import workflow_service_pb2 as W
from grpc import aio
from sqlalchemy import update

from bench.scenarios.loop import RESULT
from bench.session import Session
from server.accounts import create_token, create_user
from storage.models import Project

Metadata = tuple[tuple[str, str], ...]
REVIEW_KINDS = ("next_review", "review")


async def set_review_mode(session: Session, project_id: str, mode: str) -> None:
    """The project's review mode, as ConfigureProject's `quality` stores it."""
    async with session.database() as database, database.transaction() as conn:
        await conn.execute(update(Project).where(Project.id == project_id).values(review_mode=mode))


class Reviewer:
    """A reviewer of the calls project, on a channel."""

    def __init__(self, channel: aio.Channel, metadata: Metadata, project_id: str) -> None:
        self.review = review_service_pb2_grpc.ReviewServiceStub(channel)
        self.metadata = metadata
        self.project_id = project_id

    @classmethod
    async def create(cls, session: Session, channel: aio.Channel, project_id: str) -> Reviewer:
        username = f"bench-reviewer-{session.admin_id[-6:]}"
        async with session.database() as database:
            user = await create_user(database, username=username, role="reviewer")
            issued = await create_token(database, username=username)
        reviewer = cls(channel, (("authorization", f"Bearer {issued.secret}"),), project_id)
        await reviewer.review.AddProjectReviewers(
            R.AddProjectReviewersRequest(project_id=project_id, user_ids=[user.user_id]),
            metadata=(("authorization", f"Bearer {session.token}"),),
        )
        return reviewer

    async def next_review(self) -> str:
        request = R.NextReviewRequest(project_id=self.project_id)
        return str((await self.review.NextReview(request, metadata=self.metadata)).annotation_id)

    async def verdict(self, annotation_id: str, index: int) -> None:
        reject = index % 4 == 3
        await self.review.ReviewAnnotation(
            R.ReviewAnnotationRequest(
                annotation_id=annotation_id,
                verdict=common_pb2.REVIEW_VERDICT_REJECT
                if reject
                else common_pb2.REVIEW_VERDICT_ACCEPT,
                comment="the box misses the wheel" if reject else "",
            ),
            metadata=self.metadata,
        )


async def submit_reviewed_batch(
    session: Session,
    workflow: workflow_service_pb2_grpc.WorkflowServiceStub,
    metadata: Metadata,
    project_id: str,
    size: int,
) -> list[str]:
    """Untimed: the annotator's next `size` pending tasks submitted while the project
    reviews every answer; the answers' ids."""
    pending = W.ListAssignedTasksRequest(status=common_pb2.TASK_STATUS_PENDING, page_size=size)
    page = await workflow.ListAssignedTasks(pending, metadata=metadata)
    await set_review_mode(session, project_id, "all")
    answers = []
    try:
        for task in page.tasks:
            task_id = str(task.task_id)
            await workflow.StartTask(W.StartTaskRequest(task_id=task_id), metadata=metadata)
            reply = await workflow.SubmitAnnotation(
                W.SubmitAnnotationRequest(task_id=task_id, result=RESULT), metadata=metadata
            )
            answers.append(str(reply.annotation_id))
    finally:
        await set_review_mode(session, project_id, "off")
    return answers


async def resubmit_returned(
    workflow: workflow_service_pb2_grpc.WorkflowServiceStub, metadata: Metadata
) -> None:
    """Untimed: the annotator fixes the tasks a reviewer sent back (in_progress again), so
    that their queue holds only pending tasks for the next figures."""
    returned = W.ListAssignedTasksRequest(status=common_pb2.TASK_STATUS_IN_PROGRESS)
    page = await workflow.ListAssignedTasks(returned, metadata=metadata)
    for task in page.tasks:
        await workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=str(task.task_id), result=RESULT), metadata=metadata
        )
