"""Project use cases: progress (SPEC §4.2) and the task listing (init: server/projects/init.py).

Progress reads counters only, never a project's tasks: the task and annotator
counters, and the agreement and ground-truth sums kept by server.quality.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from annotation_api.errors import DomainError, ErrorCode
from server.access import check_project, get_visible_project
from server.auth import Caller
from server.projects.validation import invalid
from server.quality.contribution import ScoreKind
from server.vocabulary import TaskStatus
from storage.database import Database
from storage.projects import (
    AnnotatorCounts,
    ProjectRecord,
    load_progress,
)
from storage.tasks import TaskRecord, list_task_page

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    counts: AnnotatorCounts
    completion_rate: float
    agreement: float | None = None  # mean agreement with the others (server.quality)
    ground_truth_accuracy: float | None = None  # mean score against ground truth


@dataclass(frozen=True, slots=True)
class Progress:
    project: ProjectRecord
    completion_percentage: float
    annotators: list[AnnotatorProgress]
    agreement: float | None = None  # mean task agreement (server.quality)
    ground_truth_accuracy: float | None = None  # mean answer score against ground truth


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[TaskRecord]
    next_page_token: str
    total_size: int


def mean_score(sums: tuple[float, int]) -> float | None:
    """score_sum / score_count, or None when nothing was scored."""
    total, count = sums
    return total / count if count else None


def percentage(part: int, whole: int) -> float:
    """part / whole x 100 rounded to 2 decimals; 0 when whole is 0."""
    return round(part * 100 / whole, 2) if whole else 0.0


async def get_progress(database: Database, caller: Caller, project_id: str) -> Progress:
    """Counts from the project's counters: no task is read, whatever the project's size."""
    async with database.read_one() as conn:
        found = (
            await load_progress(
                conn,
                project_id,
                agreement_kind=ScoreKind.AGREEMENT,
                ground_truth_kind=ScoreKind.GROUND_TRUTH,
            )
            if project_id
            else None
        )
    check_project(caller, project_id, found[0].owner_id if found else None)
    assert found is not None
    project, annotators, scores = found
    return Progress(
        project=project,
        completion_percentage=percentage(project.completed_tasks, project.total_tasks),
        annotators=[
            AnnotatorProgress(
                a,
                percentage(a.completed_count, a.assigned_count),
                mean_score(a.agreement),
                mean_score(a.ground_truth),
            )
            for a in annotators
        ],
        agreement=mean_score(scores.agreement),
        ground_truth_accuracy=mean_score(scores.ground_truth),
    )


def _encode_page_token(project_id: str, after_task_id: int, status: str | None) -> str:
    raw = f"{project_id}:{after_task_id}:{status or ''}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(token: str, project_id: str, status: str | None) -> int:
    """The last task id of the previous page; INVALID_REQUEST for a token of another listing."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        token_project, after, token_status = raw.rsplit(":", 2)
        after_task_id = int(after)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid("page_token", "page_token is not valid") from exc
    if token_project != project_id or token_status != (status or ""):
        raise invalid("page_token", "page_token belongs to another listing")
    return after_task_id


def _matching_count(project: ProjectRecord, status: str | None) -> int:
    counts: dict[str | None, int] = {
        None: project.total_tasks,
        TaskStatus.PENDING: project.pending_tasks,
        TaskStatus.IN_PROGRESS: project.in_progress_tasks,
        TaskStatus.COMPLETED: project.completed_tasks,
    }
    return counts[status]


async def list_tasks(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    page_size: int,
    page_token: str,
    status: str | None,
) -> TaskPage:
    """One page of tasks in input order (keyset pagination; the token is opaque)."""
    if page_size < 0:
        raise invalid("page_size", "page_size cannot be negative")
    if status is not None and status not in set(TaskStatus):
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"unknown status {status!r}",
            {"field": "status", "supported": [s.value for s in TaskStatus]},
        )
    limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    async with database.read() as conn:
        project = await get_visible_project(conn, caller, project_id)
        after = _decode_page_token(page_token, project_id, status) if page_token else 0
        # One extra row tells whether another page follows.
        rows = await list_task_page(
            conn, project_id, after_task_id=after, limit=limit + 1, status=status
        )
    page, more = rows[:limit], len(rows) > limit
    next_token = _encode_page_token(project_id, page[-1].task_id, status) if more else ""
    return TaskPage(
        tasks=page, next_page_token=next_token, total_size=_matching_count(project, status)
    )
