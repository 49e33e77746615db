"""An annotator's moves on a task: start, submit, update, skip.

* StartTask: an assigned pending task -> in_progress. It never reopens a
  completed task (a StartTask sent again after the submit, from a stale tab or
  a retry, is INVALID_STATE and changes nothing).
* ReopenTask: the explicit way back: a completed task -> in_progress with the
  same assignee, its annotation kept; a completed project -> in_progress.
* SubmitAnnotation: an in_progress task -> completed, with the annotation
  attributed to the task's assignee; the last completion completes the project.
  A reopened task's submit replaces the assignee's annotation in place (same
  id, as UpdateAnnotation does): a task never holds two annotations by one
  annotator.
  `parent_prediction_id` must name one of the task's predictions; whether the
  result equals it (server.workflow.prelabel) is stored with the annotation.
  The parent is a prediction group (server.predictions.groups): any of its
  rows may be named, the group's id is stored, and the whole result is
  compared with the group's. An empty result is a negative. Its agreement with
  the task's other answers, or its score against the known answer of a
  ground-truth task, is kept by server.quality.scoring (on UpdateAnnotation
  too). image_width and image_height, the image's natural size as the front
  end loaded it, are kept on the task (image tasks only).
* UpdateAnnotation: the author (while the task is still assigned to them) or an
  admin of the project replaces the result in place; `updated_at` moves, the
  task's status does not. The annotation keeps its id, so the one-answer export
  formats, which take the latest annotation, write the corrected result.
* Review (server.lifecycle.review): a submitted answer waits for review when
  the project reviews its task; a resubmit (after ReopenTask or a reviewer's
  reject) waits again; ReopenTask takes a waiting answer out of the queue until
  it is submitted again. An accepted answer is final: UpdateAnnotation and
  ReopenTask are INVALID_STATE (and SkipTask is, as for any annotated task).
* SkipTask (Label Studio's "skip" with its re-queue-for-others setting; CVAT has
  no per-task skip, a job is handed back to be re-assigned): a task that is not
  completed goes back to the pool: its assignment is removed, it is pending
  again (a started task too), and a skip record keeps who skipped it, why and
  when. Assigning by count never hands it back to the same annotator. Progress
  stays truthful: the task counts as pending and in nobody's assigned_count.
  A reopened task (it has an annotation) cannot be skipped: submit it.

Which move is allowed, and how the statuses and counters move, is decided in
server.lifecycle; this module reads and writes the rows. Every change locks the
project row first, so the status and the counters of projects and
project_annotators move together in the transaction that changes the task. A
transition that is not allowed is INVALID_STATE, naming the current status.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from server.access import annotation_not_found, check_annotation
from server.auth import Caller
from server.images import check_recorded_size, require_image_task
from server.lifecycle.apply import Tally, apply_tally, write_task_move
from server.lifecycle.review import (
    ReviewAction,
    ReviewMove,
    check_not_final,
    is_reviewed,
    move_review,
    submit_review,
)
from server.lifecycle.rules import TaskAction, TaskState, move_task
from server.projects.validation import invalid
from server.quality.scoring import score_answer
from server.vocabulary import AssignmentStatus, TaskStatus
from server.webhooks import events as webhook_events
from server.workflow.assignments import release_assignments
from server.workflow.common import (
    TaskMoved,
    check_lead_time,
    locked_task,
    parse_id,
    parse_result,
)
from server.workflow.prelabel import results_match
from server.workflow.usage import AnnotationUsage, count_annotation
from storage.assignments import get_annotator_assignment
from storage.database import Database
from storage.prediction_stats import PredictionRef, get_task_prediction
from storage.projects import get_project, set_project_fields
from storage.reviews import set_review_status
from storage.types import utcnow
from storage.workflow import (
    AnnotationRecord,
    LockedTask,
    get_annotation,
    insert_annotation,
    insert_skip,
)
from storage.workflow import (
    update_annotation as store_annotation_update,
)

MAX_SKIP_REASON_LENGTH = 1000


def task_state(locked: LockedTask) -> TaskState:
    """The locked task as server.lifecycle sees it."""
    assignment = locked.assignment
    return TaskState(
        status=TaskStatus(locked.task.status),
        assignee_id=assignment.user_id if assignment else None,
        assignment=AssignmentStatus(assignment.status) if assignment else None,
        annotated=assignment.annotated if assignment else False,
        answers=locked.answers,
        per_task=locked.project.annotations_per_task,
        others_started=locked.others_started,
        ground_truth=assignment.ground_truth if assignment else False,
    )


async def start_task(database: Database, caller: Caller, task_id: str) -> TaskMoved:
    """pending -> in_progress; never a reopen (see module docstring)."""
    return await _start(database, caller, task_id, TaskAction.START)


async def reopen_task(database: Database, caller: Caller, task_id: str) -> TaskMoved:
    """completed -> in_progress with the same assignee (and a completed project with it)."""
    return await _start(database, caller, task_id, TaskAction.REOPEN)


async def _start(database: Database, caller: Caller, task_id: str, action: TaskAction) -> TaskMoved:
    now = utcnow()
    async with database.transaction() as conn:
        locked = await locked_task(conn, caller, task_id)
        project, task = locked.project, locked.task
        move = move_task(action, task_state(locked), project_status=project.status)
        assert move.target.assignment is not None
        tally = Tally()
        if action is TaskAction.REOPEN and locked.assignee_annotation_id is not None:
            await _withdraw_from_review(conn, locked.assignee_annotation_id, tally)
        await write_task_move(conn, task.task_id, move, now=now)
        tally.add(move)
        project_status = await apply_tally(conn, project, tally, now=now)
    return TaskMoved(task.task_id, move.target.task, project_status)


async def _withdraw_from_review(conn: AsyncConnection, annotation_id: int, tally: Tally) -> None:
    """A reopened task's answer leaves the review queue until it is submitted again; an
    accepted one is final (INVALID_STATE)."""
    record = await get_annotation(conn, annotation_id)
    assert record is not None
    check_not_final(record.review_status)
    if record.review_status is not None:
        review = move_review(ReviewAction.WITHDRAW, record.review_status)
        await set_review_status(conn, annotation_id, review.status)
        tally.add_review(record.user_id, review)


def _usage(
    result_json: str, parent: PredictionRef | None, lead_time_seconds: float | None
) -> AnnotationUsage:
    """How the annotation counts in the stats (server.workflow.usage)."""
    if parent is None:
        return AnnotationUsage(None, False, None, lead_time_seconds)
    parent_result = orjson.loads(parent.result_json)
    matches = results_match(
        orjson.loads(result_json), parent_result if isinstance(parent_result, list) else []
    )
    return AnnotationUsage(parent.model_version, True, matches, lead_time_seconds)


async def submit_annotation(
    database: Database,
    caller: Caller,
    task_id: str,
    *,
    result: str,
    parent_prediction_id: str | None = None,
    lead_time_seconds: float | None = None,
    image_width: int | None = None,
    image_height: int | None = None,
) -> TaskMoved:
    """Store the annotation of an in_progress task and complete it (and maybe the project)."""
    result_json = parse_result(result)
    lead_time = check_lead_time(lead_time_seconds)
    image_size = check_recorded_size(image_width, image_height)
    parent_id = None
    if parent_prediction_id is not None:
        parent_id = parse_id(parent_prediction_id)
        if parent_id is None:
            raise invalid("parent_prediction_id", "parent_prediction_id is not a prediction id")
    now = utcnow()
    async with database.transaction() as conn:
        locked = await locked_task(conn, caller, task_id)
        project, task, assignment = locked.project, locked.task, locked.assignment
        move = move_task(TaskAction.SUBMIT, task_state(locked), project_status=project.status)
        assert assignment is not None and move.target.assignment is not None
        parent = None
        if parent_id is not None:
            parent = await get_task_prediction(conn, task.task_id, parent_id)
            if parent is None:
                raise invalid(
                    "parent_prediction_id",
                    f"prediction {parent_prediction_id} is not a prediction of task {task_id}",
                )
            parent_id = parent.prediction_id  # the group's
        if image_size is not None:
            require_image_task(project.task_type)
        usage = _usage(result_json, parent, lead_time)
        reviewed = is_reviewed(
            project.review_mode,
            project.review_share,
            task.task_id,
            ground_truth=assignment.ground_truth,
        )
        resubmitted = locked.assignee_annotation_id
        scores = await score_answer(
            conn,
            task_id=task.task_id,
            annotation_id=resubmitted,
            user_id=assignment.user_id,
            result_json=result_json,
            # (a ground-truth assignment's task holds its known answer)
            task_has_answers=assignment.annotated or locked.answers > 0 or assignment.ground_truth,
        )
        if resubmitted is not None:
            # a reopened (or rejected) task: the assignee's annotation is replaced, not repeated
            review = await _replace_annotation(
                conn, locked, resubmitted, result_json, parent_id, usage, now=now, reviewed=reviewed
            )
            await webhook_events.annotation_saved(
                conn,
                created=False,
                project_id=project.project_id,
                task_id=task.task_id,
                annotation_id=resubmitted,
                user_id=assignment.user_id,
                result_json=result_json,
            )
        else:
            review = submit_review(None, reviewed=reviewed)
        if resubmitted is None and locked.has_predictions:
            await count_annotation(conn, project.project_id, task.task_id, usage, sign=1)
        await write_task_move(conn, task.task_id, move, now=now, image_size=image_size)
        tally = Tally()
        tally.add(move)
        tally.add_review(assignment.user_id, review)
        project_status = await apply_tally(conn, project, tally, now=now)
        if resubmitted is not None:
            return TaskMoved(task.task_id, move.target.task, project_status, resubmitted)
        annotation_id = await insert_annotation(
            conn,
            task_id=task.task_id,
            project_id=project.project_id,
            user_id=assignment.user_id,
            result_json=result_json,
            parent_prediction_id=parent_id,
            lead_time_seconds=lead_time,
            matches_parent=usage.matches_parent,
            agreement=scores.agreement,
            ground_truth_score=scores.ground_truth_score,
            now=now,
            review_status=review.status,
        )
        # a deferred write: on SQLite it travels with the COMMIT (storage.sqlite_cursor)
        await webhook_events.annotation_saved(
            conn,
            created=True,
            project_id=project.project_id,
            task_id=task.task_id,
            annotation_id=annotation_id,
            user_id=assignment.user_id,
            result_json=result_json,
        )
    return TaskMoved(task.task_id, move.target.task, project_status, annotation_id)


async def _replace_annotation(
    conn: AsyncConnection,
    locked: LockedTask,
    annotation_id: int,
    result_json: str,
    parent_id: int | None,
    usage: AnnotationUsage,
    *,
    now: datetime,
    reviewed: bool,
) -> ReviewMove:
    """A reopened task's submit: the assignee's annotation takes the new result, parent
    and lead time in place, the prediction stats count it anew, and it waits for review
    again when the task is reviewed (server.lifecycle.review); returns the review move."""
    record = await get_annotation(conn, annotation_id)
    assert record is not None
    review = submit_review(record.review_status, reviewed=reviewed)
    if usage.lead_time_seconds is None:
        usage = replace(usage, lead_time_seconds=record.lead_time_seconds)
    if locked.has_predictions:
        before = await _recorded_usage(conn, record)
        if before != usage:
            await count_annotation(conn, record.project_id, record.task_id, before, sign=-1)
            await count_annotation(conn, record.project_id, record.task_id, usage, sign=1)
    await store_annotation_update(
        conn,
        annotation_id,
        result_json=result_json,
        lead_time_seconds=usage.lead_time_seconds,
        matches_parent=usage.matches_parent,
        now=now,
        parent_prediction_id=parent_id,
        replace_parent=True,
        review_status=review.status,
    )
    return review


async def _recorded_usage(conn: AsyncConnection, record: AnnotationRecord) -> AnnotationUsage:
    """How a stored annotation counts in the prediction stats now."""
    parent = None
    if record.parent_prediction_id is not None:
        parent = await get_task_prediction(conn, record.task_id, record.parent_prediction_id)
    return AnnotationUsage(
        parent.model_version if parent else None,
        parent is not None,
        record.matches_parent,
        record.lead_time_seconds,
    )


async def update_annotation(
    database: Database,
    caller: Caller,
    annotation_id: str,
    *,
    result: str,
    lead_time_seconds: float | None = None,
) -> tuple[int, int, datetime]:
    """Replace an annotation's result; returns (annotation_id, task_id, updated_at)."""
    result_json = parse_result(result)
    lead_time = check_lead_time(lead_time_seconds)
    number = parse_id(annotation_id)
    now = utcnow()
    async with database.transaction() as conn:
        record = await get_annotation(conn, number) if number is not None else None
        if record is None or number is None:
            raise annotation_not_found(annotation_id)
        project = await get_project(conn, record.project_id, for_update=True)
        # the author may update it while they hold the task (their own assignment)
        held = await get_annotator_assignment(conn, record.task_id, record.user_id)
        check_annotation(
            caller,
            annotation_id,
            project_owner_id=project.owner_id if project else None,
            author_id=record.user_id,
            assignee_id=record.user_id if held is not None else None,
        )
        check_not_final(record.review_status)
        before = await _recorded_usage(conn, record)
        parent = None
        if record.parent_prediction_id is not None:
            parent = await get_task_prediction(conn, record.task_id, record.parent_prediction_id)
        after = _usage(
            result_json, parent, lead_time if lead_time is not None else record.lead_time_seconds
        )
        await score_answer(
            conn,
            task_id=record.task_id,
            annotation_id=number,
            user_id=record.user_id,
            result_json=result_json,
        )
        await store_annotation_update(
            conn,
            number,
            result_json=result_json,
            lead_time_seconds=lead_time,
            matches_parent=after.matches_parent,
            now=now,
        )
        if after != before:
            await count_annotation(conn, record.project_id, record.task_id, before, sign=-1)
            await count_annotation(conn, record.project_id, record.task_id, after, sign=1)
        await set_project_fields(conn, record.project_id, now=now)
        await webhook_events.annotation_saved(
            conn,
            created=False,
            project_id=record.project_id,
            task_id=record.task_id,
            annotation_id=number,
            user_id=record.user_id,
            result_json=result_json,
        )
    return number, record.task_id, now


async def skip_task(database: Database, caller: Caller, task_id: str, *, reason: str) -> TaskMoved:
    """Hand a task that is not completed back to the pool (see module docstring)."""
    reason = reason.strip()
    if len(reason) > MAX_SKIP_REASON_LENGTH:
        raise invalid("reason", f"reason is at most {MAX_SKIP_REASON_LENGTH} characters")
    now = utcnow()
    async with database.transaction() as conn:
        locked = await locked_task(conn, caller, task_id)
        project, task, assignment = locked.project, locked.task, locked.assignment
        move = move_task(TaskAction.SKIP, task_state(locked), project_status=project.status)
        assert assignment is not None
        await insert_skip(
            conn,
            task_id=task.task_id,
            project_id=project.project_id,
            user_id=assignment.user_id,
            reason=reason,
            now=now,
        )
        project_status = await release_assignments(conn, project, [assignment], now=now)
        await webhook_events.task_skipped(
            conn,
            project_id=project.project_id,
            task_id=task.task_id,
            user_id=assignment.user_id,
            reason=reason,
        )
    return TaskMoved(task.task_id, move.target.task, project_status)
