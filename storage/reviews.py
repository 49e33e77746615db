"""Review rows: a project's reviewers, the review queue, verdicts and their history.

The queue is read through ix_annotations_project_id_review_status_id: one index
seek per project the caller reviews, oldest waiting annotation first; no call
scans a project's annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Annotation, Project, ProjectReviewer, Review, User
from storage.sqlite_cursor import DEFERRED_WRITE
from storage.workflow import ANNOTATION_COLUMNS, AnnotationRecord, annotation_record

annotation_rows = cast(Table, Annotation.__table__)
projects = cast(Table, Project.__table__)
reviewers = cast(Table, ProjectReviewer.__table__)
reviews = cast(Table, Review.__table__)
users = cast(Table, User.__table__)

PENDING = "pending"  # server.vocabulary.ReviewStatus.PENDING, as stored


async def is_reviewer(conn: AsyncConnection, project_id: str, user_id: str) -> bool:
    """Whether user_id is a reviewer of project_id (a primary-key lookup)."""
    row = (
        await conn.execute(
            select(reviewers.c.user_id).where(
                reviewers.c.project_id == project_id, reviewers.c.user_id == user_id
            )
        )
    ).first()
    return row is not None


async def add_reviewers(
    conn: AsyncConnection, project_id: str, user_ids: Sequence[str], *, now: datetime
) -> None:
    """Make users reviewers of a project; one already is stays as they were."""
    if not user_ids:
        return
    dialect_insert: Any = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    await conn.execute(
        dialect_insert(reviewers)
        .values([{"project_id": project_id, "user_id": u, "created_at": now} for u in user_ids])
        .on_conflict_do_nothing(index_elements=[reviewers.c.project_id, reviewers.c.user_id])
    )


async def remove_reviewers(conn: AsyncConnection, project_id: str, user_ids: Sequence[str]) -> None:
    if user_ids:
        await conn.execute(
            delete(reviewers).where(
                reviewers.c.project_id == project_id, reviewers.c.user_id.in_(list(user_ids))
            )
        )


async def list_reviewers(conn: AsyncConnection, project_id: str) -> list[tuple[str, str]]:
    """A project's reviewers as (user_id, username), by username."""
    rows = await conn.execute(
        select(users.c.id, users.c.username)
        .join(reviewers, reviewers.c.user_id == users.c.id)
        .where(reviewers.c.project_id == project_id)
        .order_by(users.c.username)
    )
    return [(row.id, row.username) for row in rows]


def _oldest_pending(not_by: Any) -> Any:
    """The oldest waiting annotation of the outer query's project not written by not_by."""
    return (
        select(annotation_rows.c.id)
        .where(
            annotation_rows.c.project_id == projects.c.id,
            annotation_rows.c.review_status == PENDING,
            annotation_rows.c.user_id != not_by,
        )
        .order_by(annotation_rows.c.id)
        .limit(1)
        .correlate(projects)
        .scalar_subquery()
    )


async def next_pending_annotation(
    conn: AsyncConnection,
    *,
    user_id: str,
    project_id: str | None,
    owner_id: str | None,
    reviewer_only: bool,
) -> tuple[int, int] | None:
    """The oldest annotation waiting for review, not user_id's own, in the projects
    that user reviews: one project when project_id is given; those user_id is a
    reviewer of when reviewer_only; else those owned by owner_id (None: every
    project). One statement, one seek per project: (annotation id, task id), or None
    when nothing waits."""
    query = select(func.min(_oldest_pending(bindparam("user_id")))).select_from(projects)
    where: list[ColumnElement[bool]] = []
    if project_id is not None:
        where.append(projects.c.id == project_id)
    if reviewer_only:
        query = query.join(
            reviewers,
            (reviewers.c.project_id == projects.c.id) & (reviewers.c.user_id == user_id),
        )
    elif owner_id is not None:
        where.append(projects.c.owner_id == owner_id)
    oldest = query.where(*where).scalar_subquery()
    row = (
        await conn.execute(
            select(annotation_rows.c.id, annotation_rows.c.task_id).where(
                annotation_rows.c.id == oldest
            ),
            {"user_id": user_id},
        )
    ).first()
    return None if row is None else (int(row.id), int(row.task_id))


async def set_verdict(
    conn: AsyncConnection,
    annotation_id: int,
    *,
    status: str,
    reviewer_id: str,
    comment: str | None,
    now: datetime,
) -> bool:
    """Give a waiting annotation its verdict; False (nothing changed) when it is not
    waiting any more: of two reviewers racing on one annotation, one wins.

    On SQLite the caller has read the annotation's status in this write transaction,
    which holds the database from its BEGIN IMMEDIATE: nobody can have changed it
    since, so the UPDATE travels with the next trip (a deferred write) and the answer
    is True. On PostgreSQL the UPDATE's condition decides, under the row's lock."""
    params = {
        "b_id": annotation_id,
        "b_status": status,
        "b_reviewer_id": reviewer_id,
        "b_comment": comment,
        "b_now": now,
    }
    if conn.dialect.name == "sqlite":
        await conn.execute(_SET_VERDICT_DEFERRED, params)
        return True
    result = await conn.execute(_SET_VERDICT, params)
    return result.rowcount == 1


_SET_VERDICT = (
    update(annotation_rows)
    .where(annotation_rows.c.id == bindparam("b_id"), annotation_rows.c.review_status == PENDING)
    .values(
        review_status=bindparam("b_status"),
        reviewer_id=bindparam("b_reviewer_id"),
        review_comment=bindparam("b_comment"),
        reviewed_at=bindparam("b_now"),
    )
)
_SET_VERDICT_DEFERRED = _SET_VERDICT.execution_options(**DEFERRED_WRITE)


async def get_reviewed_annotation(
    conn: AsyncConnection, annotation_id: int, *, user_id: str
) -> tuple[AnnotationRecord, bool] | None:
    """The annotation, and whether user_id is a reviewer of its project (one statement),
    or None."""
    row = (
        await conn.execute(
            select(*ANNOTATION_COLUMNS, _is_project_reviewer.label("is_reviewer")).where(
                annotation_rows.c.id == annotation_id
            ),
            {"b_user_id": user_id},
        )
    ).first()
    return None if row is None else (annotation_record(row), bool(row.is_reviewer))


_is_project_reviewer = (
    select(reviewers.c.user_id)
    .where(
        reviewers.c.project_id == annotation_rows.c.project_id,
        reviewers.c.user_id == bindparam("b_user_id"),
    )
    .exists()
)


async def set_review_status(conn: AsyncConnection, annotation_id: int, status: str | None) -> None:
    """An annotation's review status without a verdict (its author withdrew it)."""
    await conn.execute(
        update(annotation_rows)
        .where(annotation_rows.c.id == annotation_id)
        .values(review_status=status)
    )


async def insert_review(
    conn: AsyncConnection,
    *,
    annotation_id: int,
    task_id: int,
    project_id: str,
    reviewer_id: str,
    verdict: str,
    comment: str,
    correction_annotation_id: int | None,
    now: datetime,
) -> None:
    """One row of the verdicts' history."""
    await conn.execute(
        insert(reviews)
        .execution_options(**DEFERRED_WRITE)
        .values(
            annotation_id=annotation_id,
            task_id=task_id,
            project_id=project_id,
            reviewer_id=reviewer_id,
            verdict=verdict,
            comment=comment,
            correction_annotation_id=correction_annotation_id,
            created_at=now,
        )
    )


async def insert_correction(
    conn: AsyncConnection,
    *,
    corrects: int,
    task_id: int,
    project_id: str,
    reviewer_id: str,
    result_json: str,
    parent_prediction_id: int | None,
    lead_time_seconds: float | None,
    status: str,
    comment: str | None,
    now: datetime,
) -> int:
    """Store a reviewer's correction of annotation `corrects`, accepted; return its id."""
    result = await conn.execute(
        insert(annotation_rows)
        .values(
            task_id=task_id,
            project_id=project_id,
            user_id=reviewer_id,
            result_json=result_json,
            parent_prediction_id=parent_prediction_id,
            lead_time_seconds=lead_time_seconds,
            review_status=status,
            reviewer_id=reviewer_id,
            review_comment=comment,
            reviewed_at=now,
            corrects_annotation_id=corrects,
            created_at=now,
            updated_at=now,
        )
        .returning(annotation_rows.c.id)
    )
    return int(result.scalar_one())
