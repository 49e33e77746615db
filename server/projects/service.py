"""Project use cases: init (SPEC §4.1), progress (§4.2) and the task listing."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.memory import release_free_memory
from server.access import check_project, get_visible_project
from server.auth import Caller
from server.projects.label_config import build_label_config
from server.projects.validation import NewProject, ValidProject, invalid, validate_new_project
from server.vocabulary import ProjectStatus, TaskStatus
from storage.audit import write_audit_log
from storage.database import Database
from storage.ids import new_project_id
from storage.projects import (
    AnnotatorCounts,
    ProjectRecord,
    add_to_task_counters,
    insert_project,
    load_progress,
)
from storage.projects import LabelRecord as StoredLabel
from storage.tasks import TaskRecord, insert_tasks, list_task_page
from storage.types import utcnow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Validation of a request this large runs in a worker thread, so that the
# event loop keeps serving other calls meanwhile, and its freed heap goes back
# to the operating system when it is done (unary and streamed inits alike).
LARGE_REQUEST_ITEMS = 10_000


@dataclass(frozen=True, slots=True)
class CreatedProject:
    project: ProjectRecord
    task_count: int


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    counts: AnnotatorCounts
    completion_rate: float


@dataclass(frozen=True, slots=True)
class Progress:
    project: ProjectRecord
    completion_percentage: float
    annotators: list[AnnotatorProgress]


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[TaskRecord]
    next_page_token: str
    total_size: int


def percentage(part: int, whole: int) -> float:
    """part / whole x 100 rounded to 2 decimals; 0 when whole is 0."""
    return round(part * 100 / whole, 2) if whole else 0.0


async def init_project(database: Database, caller: Caller, request: NewProject) -> CreatedProject:
    """Create a draft project with every task, its labels and config, in one transaction."""
    if len(request.contents) < LARGE_REQUEST_ITEMS:
        return await _store_new_project(database, caller, validate_new_project(request))
    # The hundreds of thousands of row tuples built for the insert would set off
    # collections that walk every live object again, for nothing (rows hold no
    # cycles); reference counting still frees everything as usual.
    try:
        with cyclic_gc_paused():
            valid = await asyncio.to_thread(validate_new_project, request)
            return await _store_new_project(database, caller, valid)
    finally:
        release_free_memory()


async def _store_new_project(
    database: Database, caller: Caller, valid: ValidProject
) -> CreatedProject:
    now = utcnow()
    project_id = new_project_id()
    async with database.transaction() as conn:
        await insert_project(
            conn,
            project_id=project_id,
            name=valid.name,
            description=valid.description,
            task_type=valid.task_type,
            status=ProjectStatus.DRAFT,
            external_id=valid.external_id,
            label_config=build_label_config(valid.task_type, valid.labels),
            owner_id=caller.user_id,
            project_labels=[StoredLabel(name, color) for name, color in valid.labels],
            now=now,
        )
        count = await insert_tasks(
            conn,
            project_id=project_id,
            status=TaskStatus.PENDING,
            now=now,
            contents=valid.contents,
            external_ids=valid.item_ids,
            file_paths=valid.file_paths,
            metadata_json=valid.metadata_json,
        )
        project = await finish_init(
            conn,
            caller,
            project_id,
            now=now,
            name=valid.name,
            task_type=valid.task_type,
            task_count=count,
            label_count=len(valid.labels),
            external_id=valid.external_id,
        )
    return CreatedProject(project=project, task_count=count)


async def finish_init(
    conn: AsyncConnection,
    caller: Caller,
    project_id: str,
    *,
    now: datetime,
    name: str,
    task_type: str,
    task_count: int,
    label_count: int,
    external_id: str | None,
) -> ProjectRecord:
    """The end of every init, unary or streamed, in its transaction: the task counters,
    the audit entry, and the project as created."""
    await add_to_task_counters(conn, project_id, now=now, total=task_count)
    await write_audit_log(
        conn,
        actor_id=caller.user_id,
        action="projects.init",
        project_id=project_id,
        detail={
            "name": name,
            "task_type": task_type,
            "task_count": task_count,
            "label_count": label_count,
            "external_id": external_id,
        },
        now=now,
    )
    return await get_visible_project(conn, caller, project_id)


async def get_progress(database: Database, caller: Caller, project_id: str) -> Progress:
    """Counts from the project's counters: no task is read, whatever the project's size."""
    async with database.read_one() as conn:
        found = await load_progress(conn, project_id) if project_id else None
    check_project(caller, project_id, found[0].owner_id if found else None)
    assert found is not None
    project, annotators = found
    return Progress(
        project=project,
        completion_percentage=percentage(project.completed_tasks, project.total_tasks),
        annotators=[
            AnnotatorProgress(a, percentage(a.completed_count, a.assigned_count))
            for a in annotators
        ],
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
