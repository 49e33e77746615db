"""Project init (SPEC §4.1) from a request in parts: bounded memory at any size.

InitProjectStream sends its messages as parts; InitProject's request is cut
into parts of `BATCH_ITEMS` items by its servicer, so both calls run this one
code, with the same rules, errors, response and audit, in one transaction. The
items are checked and inserted batch by batch, and each batch is written while
the next one is read and checked (the database works in its own thread, see
storage/bulk.py), so no more than a few batches are held at a time.

The first part names the project (name, task_type): both are checked at once.
When the first part's fields are final (`ProjectPart.final_fields`: an unary
request), external_id and the tags are checked next, then the items, and the
first item error ends the read. Otherwise those fields may still change in
later parts, so they are checked at the end, and the first item error, if any,
is kept until then: the answer is the one the whole request gets from
InitProject. Once an item has failed, later batches are still read (they may
carry fields whose error comes first) but not stored; the transaction then
rolls back, so nothing is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.memory import release_free_memory
from server.access import get_visible_project
from server.auth import Caller
from server.lifecycle.rules import PROJECT_INITIAL, TASK_INITIAL, initial_counts
from server.projects.label_config import build_label_config
from server.projects.validation import (
    ItemChecker,
    TagSpec,
    check_external_id,
    check_labels,
    check_name,
    check_task_type,
    duplicate_id,
    file_paths_of,
    invalid,
)
from server.webhooks import events as webhook_events
from storage.audit import write_audit_log
from storage.database import Database
from storage.ids import new_project_id
from storage.projects import (
    LabelRecord,
    ProjectRecord,
    add_to_task_counters,
    insert_labels,
    insert_project,
    update_project_details,
)
from storage.tasks import TaskInserts, first_positions, first_repeated_external_id
from storage.types import utcnow

# After a request this large its freed heap goes back to the operating system.
LARGE_REQUEST_ITEMS = 10_000


@dataclass(frozen=True, slots=True)
class CreatedProject:
    project: ProjectRecord
    task_count: int


# Items per part when an unary request is cut into parts.
BATCH_ITEMS = 10_000
# Batches this large are checked in a worker thread, so that the event loop
# keeps serving other calls meanwhile.
THREADED_BATCH_ITEMS = 2_000


@dataclass(frozen=True, slots=True)
class ProjectPart:
    """One part of an init request: the fields it sets (None: not set) and a
    batch of items, column-wise. final_fields (first part only): no later part
    sets a field (the parts of one unary request)."""

    name: str | None = None
    task_type: str | None = None
    description: str | None = None
    external_id: str | None = None
    tags: Sequence[TagSpec] = ()
    contents: Sequence[str] = ()
    item_ids: Sequence[str | None] = ()
    metadata: Sequence[str] = ()
    final_fields: bool = False


@dataclass(slots=True)
class _LateFields:
    """The fields later parts may still set, merged as protobuf merges messages."""

    description: str
    external_id: str | None
    tags: list[TagSpec] = field(default_factory=list)

    def merge(self, part: ProjectPart) -> None:
        if part.description is not None:
            self.description = part.description
        if part.external_id is not None:
            self.external_id = part.external_id
        self.tags.extend(part.tags)

    def check(self) -> list[tuple[str, str]]:
        """external_id's rule, then the tags' (as an unary init checks them); the labels."""
        check_external_id(self.external_id)
        return check_labels(self.tags)


async def init_project_stream(
    database: Database, caller: Caller, parts: AsyncIterator[ProjectPart]
) -> CreatedProject:
    """Create a draft project from the parts of one request, in one transaction."""
    first = await anext(parts, None) or ProjectPart()
    name = check_name(first.name or "")
    task_type = check_task_type(first.task_type or "")
    late = _LateFields(description=first.description or "", external_id=None)
    late.merge(first)
    labels = late.check() if first.final_fields else None
    checker = ItemChecker(task_type)
    try:
        # The batches' row tuples would set off collections that walk every live
        # object again, for nothing (rows hold no cycles); reference counting
        # still frees everything as usual.
        with cyclic_gc_paused():
            return await _store(
                database,
                caller,
                parts,
                first=first,
                name=name,
                late=late,
                labels=labels,
                checker=checker,
            )
    finally:
        if checker.count >= LARGE_REQUEST_ITEMS:
            release_free_memory()


async def _store(
    database: Database,
    caller: Caller,
    parts: AsyncIterator[ProjectPart],
    *,
    first: ProjectPart,
    name: str,
    late: _LateFields,
    labels: list[tuple[str, str]] | None,
    checker: ItemChecker,
) -> CreatedProject:
    """The transaction of an init whose name and task_type passed (labels: the final
    fields' labels, already checked, or None)."""
    task_type = checker.task_type
    failed: DomainError | None = None
    now = utcnow()
    project_id = new_project_id()
    async with database.transaction() as conn:
        await insert_project(
            conn,
            project_id=project_id,
            name=name,
            description=late.description,
            task_type=task_type,
            status=PROJECT_INITIAL,
            external_id=late.external_id if labels is not None else None,
            label_config=build_label_config(task_type, labels) if labels is not None else "",
            owner_id=caller.user_id,
            project_labels=[LabelRecord(n, c) for n, c in labels or ()],
            now=now,
        )
        async with TaskInserts(
            conn, project_id=project_id, status=TASK_INITIAL, now=now
        ) as inserts:
            part: ProjectPart | None = first
            while part is not None:
                if part is not first:
                    _refuse_header(part)
                    late.merge(part)
                if failed is None and part.contents:
                    try:
                        metadata_json = await _check_batch(
                            checker, part, conn=conn, project_id=project_id, inserts=inserts
                        )
                    except DomainError as error:
                        if labels is not None:
                            raise  # the fields are final: nothing later comes first
                        failed = error
                    else:
                        # Written while the next part is read and checked.
                        await inserts.add(
                            contents=part.contents,
                            external_ids=part.item_ids,
                            file_paths=file_paths_of(task_type, part.contents),
                            metadata_json=metadata_json,
                        )
                part = await anext(parts, None)
            count = await inserts.finish()
        if failed is None and count:
            repeated = await first_repeated_external_id(conn, project_id)
            if repeated is not None:
                failed = duplicate_id(*repeated)
        if labels is None:
            labels = late.check()
            if failed is None and count:
                await update_project_details(
                    conn,
                    project_id,
                    description=late.description,
                    external_id=late.external_id,
                    label_config=build_label_config(task_type, labels),
                )
                await insert_labels(conn, project_id, [LabelRecord(n, c) for n, c in labels])
        if failed is not None:
            raise failed
        if count == 0:
            raise invalid("data", "data needs at least one item")
        project = await finish_init(
            conn,
            caller,
            project_id,
            now=now,
            name=name,
            task_type=task_type,
            task_count=count,
            label_count=len(labels),
            external_id=late.external_id,
        )
    return CreatedProject(project=project, task_count=count)


def _refuse_header(part: ProjectPart) -> None:
    """name and task_type come in the first part: the items are checked against them."""
    for name, value in (("name", part.name), ("task_type", part.task_type)):
        if value is not None:
            raise invalid(name, f"{name} is given in the first message of the stream only")


async def _check_batch(
    checker: ItemChecker,
    part: ProjectPart,
    *,
    conn: AsyncConnection,
    project_id: str,
    inserts: TaskInserts,
) -> list[str]:
    """The batch's metadata texts to store, or its first error.

    The checker compares the batch's ids with each other only: the ids of the
    batches before are in the database, which is asked about them once, at the
    end (`first_repeated_external_id`, one index scan), or as soon as an item
    breaks a rule, since an id repeated from an earlier batch may come first.
    """
    try:
        if len(part.contents) < THREADED_BATCH_ITEMS:
            return checker.check(part.contents, part.item_ids, part.metadata)
        return await asyncio.to_thread(checker.check, part.contents, part.item_ids, part.metadata)
    except DomainError:
        await inserts.finish()
        repeated = await first_repeated_external_id(conn, project_id)
        if repeated is not None:
            raise duplicate_id(*repeated) from None
        given = [item_id for item_id in part.item_ids if item_id]
        earlier = await first_positions(conn, project_id, given)
        checker.check(part.contents, part.item_ids, part.metadata, earlier=earlier)
        raise  # (not reached: `earlier` only adds errors)


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
    counts = initial_counts(task_count)
    await add_to_task_counters(conn, project_id, now=now, total=counts.total)
    await webhook_events.project_created(
        conn, project_id=project_id, name=name, task_type=task_type, status=PROJECT_INITIAL
    )
    await webhook_events.tasks_created(conn, project_id=project_id, count=task_count)
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
