"""NextReview and ReviewAnnotation: the review queue and the verdicts.

* NextReview: the oldest annotation waiting for review (`pending`) in the
  projects the caller reviews (one project when named), not the caller's own,
  with its task (every answer of it, the other annotators' too). Nothing
  waiting is 404 NO_TASK_AVAILABLE. It only reads: two reviewers may be shown
  the same annotation; the first verdict wins.
* ReviewAnnotation: ACCEPT (final), ACCEPT with corrected_result (the
  correction is stored as a new annotation by the reviewer, accepted, naming
  the original in corrects_annotation_id; the original is accepted and kept),
  or REJECT with a comment (the author's task goes back to in_progress as
  ReopenTask does; their next submit replaces the annotation in place and it
  waits for review again). Every verdict is a row of the `reviews` history.
  Of two reviewers racing on one annotation exactly one verdict is stored; the
  other gets INVALID_STATE (the verdict's UPDATE only takes a `pending` row,
  under the project's row lock).

The moves and counters are server.lifecycle's (review.py for the annotation,
rules.py for the task); this module is the one that writes reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotation_api.errors import DomainError, ErrorCode
from server.access import annotation_not_found, check_review_project, check_reviewable, is_admin
from server.auth import Caller, Role
from server.lifecycle.apply import Tally, apply_tally, write_task_move
from server.lifecycle.review import VERDICT_ACTIONS, move_review
from server.lifecycle.rules import TaskAction, invalid_state, move_task
from server.projects.validation import invalid
from server.vocabulary import AssignmentStatus, ReviewStatus, ReviewVerdict, TaskStatus
from server.webhooks import events as webhook_events
from server.workflow.annotating import task_state
from server.workflow.common import check_lead_time, parse_id, parse_result
from server.workflow.queue import TaskView, task_view
from storage.database import Database
from storage.projects import get_project
from storage.reviews import (
    get_reviewed_annotation,
    insert_correction,
    insert_review,
    is_reviewer,
    next_pending_annotation,
    set_verdict,
)
from storage.task_detail import load_task_detail
from storage.types import utcnow
from storage.workflow import lock_task

MAX_COMMENT_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class NextReview:
    annotation_id: int
    task: TaskView


@dataclass(frozen=True, slots=True)
class Verdict:
    annotation_id: int
    review_status: ReviewStatus
    correction_annotation_id: int | None
    task_id: int
    task_status: str
    project_status: str


async def next_review(database: Database, caller: Caller, *, project_id: str | None) -> NextReview:
    """The caller's next annotation to review (see module docstring)."""
    reviewer_only = caller.role == Role.REVIEWER
    async with database.read() as conn:
        # the seek keeps to the projects the caller reviews: an answer found is theirs to see
        found = await next_pending_annotation(
            conn,
            user_id=caller.user_id,
            project_id=project_id,
            owner_id=None if caller.is_super_admin or not is_admin(caller) else caller.user_id,
            reviewer_only=reviewer_only,
        )
        detail = (
            await load_task_detail(conn, found[1], viewer_id=caller.user_id, all_assignees=True)
            if found
            else None
        )
        if detail is None and project_id is not None:
            # nothing found: PROJECT_NOT_FOUND for a project the caller does not review
            project = await get_project(conn, project_id)
            reviewing = reviewer_only and await is_reviewer(conn, project_id, caller.user_id)
            check_review_project(
                caller, project_id, project.owner_id if project else None, is_reviewer=reviewing
            )
    if found is None or detail is None:
        details = {"project_id": project_id} if project_id else {}
        raise DomainError(ErrorCode.NO_TASK_AVAILABLE, "no annotation waits for review", details)
    return NextReview(found[0], task_view(detail))


def _check_request(
    verdict: ReviewVerdict | None, comment: str, corrected_result: str | None
) -> tuple[ReviewVerdict, str | None]:
    """The verdict and the parsed correction; INVALID_REQUEST naming the field otherwise."""
    if verdict is None:
        raise invalid("verdict", "verdict is accept or reject")
    if len(comment) > MAX_COMMENT_LENGTH:
        raise invalid("comment", f"comment is at most {MAX_COMMENT_LENGTH} characters")
    if verdict is ReviewVerdict.REJECT and not comment.strip():
        raise invalid("comment", "a reject needs a comment (its annotator is shown it)")
    if corrected_result is None:
        return verdict, None
    if verdict is not ReviewVerdict.ACCEPT:
        raise invalid("corrected_result", "a correction is accepted: verdict must be accept")
    # validated exactly as SubmitAnnotation validates a result
    return verdict, parse_result(corrected_result)


async def review_annotation(
    database: Database,
    caller: Caller,
    annotation_id: str,
    *,
    verdict: ReviewVerdict | None,
    comment: str,
    corrected_result: str | None = None,
    lead_time_seconds: float | None = None,
) -> Verdict:
    """Accept, reject or correct-and-accept a waiting annotation (see module docstring)."""
    verdict, correction_json = _check_request(verdict, comment, corrected_result)
    lead_time = check_lead_time(lead_time_seconds)
    comment = comment.strip()
    number = parse_id(annotation_id)
    now = utcnow()
    async with database.transaction() as conn:
        found = (
            await get_reviewed_annotation(conn, number, user_id=caller.user_id)
            if number is not None
            else None
        )
        if found is None or number is None:
            raise annotation_not_found(annotation_id)
        record, is_project_reviewer = found
        # the project's row lock first; the assignment read is the author's
        locked = await lock_task(
            conn, record.task_id, user_id=record.user_id, started=AssignmentStatus.IN_PROGRESS
        )
        assert locked is not None
        project, task = locked.project, locked.task
        reviewing = caller.role == Role.REVIEWER and is_project_reviewer
        check_reviewable(
            caller,
            annotation_id,
            project_owner_id=project.owner_id,
            author_id=record.user_id,
            is_reviewer=reviewing,
        )
        review = move_review(VERDICT_ACTIONS[verdict], record.review_status)
        assert review.status is not None
        tally = Tally()
        task_status = task.status
        if verdict is ReviewVerdict.REJECT:
            # the author's task comes back to them, as ReopenTask brings it
            assignment = locked.assignment
            if assignment is None or assignment.user_id != record.user_id:
                raise invalid_state("the annotation's author no longer holds its task")
            move = move_task(TaskAction.REOPEN, task_state(locked), project_status=project.status)
            assert move.target.assignment is not None
            await write_task_move(conn, task.task_id, move, now=now)
            tally.add(move)
            task_status = move.target.task
        if not await set_verdict(
            conn,
            number,
            status=review.status,
            reviewer_id=caller.user_id,
            comment=comment or None,
            now=now,
        ):
            raise invalid_state("annotation is no longer waiting for review")
        tally.add_review(record.user_id, review)
        correction_id = None
        if correction_json is not None:
            correction_id = await insert_correction(
                conn,
                corrects=number,
                task_id=task.task_id,
                project_id=project.project_id,
                reviewer_id=caller.user_id,
                result_json=correction_json,
                parent_prediction_id=None,
                lead_time_seconds=lead_time,
                status=ReviewStatus.ACCEPTED,
                comment=comment or None,
                now=now,
            )
        await insert_review(
            conn,
            annotation_id=number,
            task_id=task.task_id,
            project_id=project.project_id,
            reviewer_id=caller.user_id,
            verdict=verdict,
            comment=comment,
            correction_annotation_id=correction_id,
            now=now,
        )
        await webhook_events.review_created(
            conn,
            project_id=project.project_id,
            task_id=task.task_id,
            annotation_id=number,
            reviewer_id=caller.user_id,
            verdict=verdict,
            comment=comment,
            correction_id=correction_id,
        )
        project_status = await apply_tally(conn, project, tally, now=now)
    return Verdict(
        number, review.status, correction_id, task.task_id, TaskStatus(task_status), project_status
    )
