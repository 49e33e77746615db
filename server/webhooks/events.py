"""The events a webhook receives, and the one call each writer makes to emit one.

Every writer emits in the transaction that made the change, with one line:
`await webhook_events.<event>(conn, ...)`. The event is queued for every active
webhook that wants it (storage.webhook_outbox.insert_event: one INSERT … SELECT, which
inserts nothing when no webhook wants it), and is sent only if that transaction
commits. The caller holds the project's row lock, or created the project in
this transaction: that is what numbers a project's events in commit order.

Names and payload keys follow Label Studio's webhooks where it has them
(`action`, `project`, `task`, `annotation`); docs/webhooks.md maps them. Bulk
operations emit one event with counts, never one per task.

A reviewer's verdict is REVIEW_CREATED (Label Studio Enterprise's name), emitted by
server/review/verdicts.py.
"""

from __future__ import annotations

from enum import StrEnum

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from server.auth import Role
from server.display_ids import display_id
from server.exports.lifecycle import CALLBACK_INITIAL
from storage.ids import new_event_id
from storage.types import utcnow
from storage.webhook_outbox import insert_event


class WebhookEvent(StrEnum):
    """Every event a webhook may ask for (its `action`)."""

    PROJECT_CREATED = "PROJECT_CREATED"
    TASKS_CREATED = "TASKS_CREATED"
    ANNOTATION_CREATED = "ANNOTATION_CREATED"
    ANNOTATION_UPDATED = "ANNOTATION_UPDATED"
    TASK_SKIPPED = "TASK_SKIPPED"
    PROJECT_STATUS_CHANGED = "PROJECT_STATUS_CHANGED"
    PREDICTIONS_IMPORTED = "PREDICTIONS_IMPORTED"
    ANNOTATIONS_IMPORTED = "ANNOTATIONS_IMPORTED"
    EXPORT_COMPLETED = "EXPORT_COMPLETED"
    EXPORT_FAILED = "EXPORT_FAILED"
    REVIEW_CREATED = "REVIEW_CREATED"


# A webhook without a project serves its owner's projects; one owned by a user with
# this role serves every project (the projects that user sees: server.access).
ALL_PROJECTS_ROLE = Role.SUPER_ADMIN
# A delivery has the callbacks' lifecycle (server.exports.lifecycle); its first attempt
# is due at once.
DELIVERY_INITIAL = CALLBACK_INITIAL


async def emit(
    conn: AsyncConnection,
    event: WebhookEvent,
    *,
    project_id: str,
    **fields: object,
) -> None:
    """Queue `event` of the project with its payload fields (besides the envelope:
    event_id, action, sequence, created_at, added when it is sent)."""
    payload = orjson.dumps({"project": {"id": project_id}, **fields}).decode("utf-8")
    await insert_event(
        conn,
        event_id=new_event_id(),
        project_id=project_id,
        action=event,
        payload=payload,
        status=DELIVERY_INITIAL,
        all_projects_role=ALL_PROJECTS_ROLE,
        now=utcnow(),
    )


def _task(task_id: int) -> dict[str, object]:
    return {"id": str(task_id), "display_id": display_id(task_id)}


async def project_created(
    conn: AsyncConnection, *, project_id: str, name: str, task_type: str, status: str
) -> None:
    """A project was created (by an init: TASKS_CREATED follows in the same transaction)."""
    await emit(
        conn,
        WebhookEvent.PROJECT_CREATED,
        project_id=project_id,
        project={"id": project_id, "name": name, "task_type": task_type, "status": status},
    )


async def tasks_created(conn: AsyncConnection, *, project_id: str, count: int) -> None:
    """An init created `count` tasks: one event, whatever the count."""
    await emit(conn, WebhookEvent.TASKS_CREATED, project_id=project_id, count=count)


async def annotation_saved(
    conn: AsyncConnection,
    *,
    created: bool,
    project_id: str,
    task_id: int,
    annotation_id: int,
    user_id: str,
    result_json: str,
) -> None:
    """An annotation was submitted (created) or replaced (updated)."""
    await emit(
        conn,
        WebhookEvent.ANNOTATION_CREATED if created else WebhookEvent.ANNOTATION_UPDATED,
        project_id=project_id,
        task=_task(task_id),
        annotation={
            "id": str(annotation_id),
            "task": str(task_id),
            "completed_by": user_id,
            # the stored JSON text as it is, without parsing it again
            "result": orjson.Fragment(result_json),
        },
    )


async def review_created(
    conn: AsyncConnection,
    *,
    project_id: str,
    task_id: int,
    annotation_id: int,
    reviewer_id: str,
    verdict: str,
    comment: str,
    correction_id: int | None,
) -> None:
    """A reviewer accepted or rejected an annotation (a correction is accepted with it)."""
    await emit(
        conn,
        WebhookEvent.REVIEW_CREATED,
        project_id=project_id,
        task=_task(task_id),
        review={
            "annotation": str(annotation_id),
            "accepted": verdict == "accept",
            "verdict": verdict,
            "comment": comment,
            "created_by": reviewer_id,
            "correction": str(correction_id) if correction_id is not None else None,
        },
    )


async def task_skipped(
    conn: AsyncConnection, *, project_id: str, task_id: int, user_id: str, reason: str
) -> None:
    """An annotator handed a task back."""
    await emit(
        conn,
        WebhookEvent.TASK_SKIPPED,
        project_id=project_id,
        task=_task(task_id),
        skipped_by=user_id,
        reason=reason,
    )


async def project_status_changed(
    conn: AsyncConnection, *, project_id: str, before: str, after: str
) -> None:
    """The project's status moved (nothing is emitted when it did not)."""
    if before != after:
        await emit(
            conn,
            WebhookEvent.PROJECT_STATUS_CHANGED,
            project_id=project_id,
            **{"from": str(before), "to": str(after)},
        )


async def predictions_imported(
    conn: AsyncConnection, *, project_id: str, counts: dict[str, int]
) -> None:
    """A prediction import committed: its counts, one event per import."""
    await emit(conn, WebhookEvent.PREDICTIONS_IMPORTED, project_id=project_id, **counts)


async def annotations_imported(
    conn: AsyncConnection, *, project_id: str, counts: dict[str, int]
) -> None:
    """An annotation import committed: its counts, one event per import."""
    await emit(conn, WebhookEvent.ANNOTATIONS_IMPORTED, project_id=project_id, **counts)


async def export_ended(
    conn: AsyncConnection, *, project_id: str, completed: bool, export: bytes
) -> None:
    """An export completed or failed; `export` is its callback body (docs/exports.md)."""
    await emit(
        conn,
        WebhookEvent.EXPORT_COMPLETED if completed else WebhookEvent.EXPORT_FAILED,
        project_id=project_id,
        export=orjson.Fragment(export),
    )
