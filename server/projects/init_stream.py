"""Project init from a stream of parts (InitProjectStream): bounded memory at any size.

The same rules, errors, response and audit as `service.init_project`, in the
same one transaction, but the items are checked and inserted batch by batch as
they arrive, so no more than a batch of them is held at a time.

The first part names the project (name, task_type): both are checked at once,
as an unary init checks them first. The other fields (description,
external_id, tags) may still change in later parts, so what an unary init
checks before the items (external_id, the tags) is checked at the end, and the
first item error, if any, is kept until then: the answer is the one the whole
request gets from InitProject. Once an item has failed, later batches are
still read (they may carry fields whose error comes first) but not stored;
the transaction then rolls back, so nothing is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from annotation_api.errors import DomainError
from annotation_api.gc_pause import cyclic_gc_paused
from annotation_api.memory import release_free_memory
from server.auth import Caller
from server.projects.label_config import build_label_config
from server.projects.service import LARGE_REQUEST_ITEMS, CreatedProject, finish_init
from server.projects.validation import (
    ItemChecker,
    TagSpec,
    check_external_id,
    check_labels,
    check_name,
    check_task_type,
    file_paths_of,
    invalid,
)
from server.vocabulary import ProjectStatus, TaskStatus
from storage.database import Database
from storage.ids import new_project_id
from storage.projects import (
    LabelRecord,
    insert_labels,
    insert_project,
    update_project_details,
)
from storage.tasks import insert_tasks
from storage.types import utcnow

# Batches this large are checked in a worker thread, so that the event loop
# keeps serving other calls meanwhile.
THREADED_BATCH_ITEMS = 2_000


@dataclass(frozen=True, slots=True)
class ProjectPart:
    """One message of a streamed init: the fields it sets (None: not set) and a
    batch of items, column-wise."""

    name: str | None = None
    task_type: str | None = None
    description: str | None = None
    external_id: str | None = None
    tags: Sequence[TagSpec] = ()
    contents: Sequence[str] = ()
    item_ids: Sequence[str | None] = ()
    metadata: Sequence[str] = ()


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


async def init_project_stream(
    database: Database, caller: Caller, parts: AsyncIterator[ProjectPart]
) -> CreatedProject:
    """Create a draft project from the parts of one request, in one transaction."""
    first = await anext(parts, None) or ProjectPart()
    name = check_name(first.name or "")
    task_type = check_task_type(first.task_type or "")
    late = _LateFields(description=first.description or "", external_id=None)
    late.merge(first)
    checker = ItemChecker(task_type)
    failed: DomainError | None = None
    now = utcnow()
    project_id = new_project_id()
    with cyclic_gc_paused():
        async with database.transaction() as conn:
            await insert_project(
                conn,
                project_id=project_id,
                name=name,
                description=late.description,
                task_type=task_type,
                status=ProjectStatus.DRAFT,
                external_id=None,
                label_config="",
                owner_id=caller.user_id,
                project_labels=[],
                now=now,
            )
            part: ProjectPart | None = first
            while part is not None:
                if part is not first:
                    _refuse_header(part)
                    late.merge(part)
                if failed is None and part.contents:
                    position = checker.count
                    try:
                        metadata_json = await _check_batch(checker, part)
                    except DomainError as error:
                        failed = error
                    else:
                        await insert_tasks(
                            conn,
                            project_id=project_id,
                            status=TaskStatus.PENDING,
                            now=now,
                            contents=part.contents,
                            external_ids=part.item_ids,
                            file_paths=file_paths_of(task_type, part.contents),
                            metadata_json=metadata_json,
                            first_position=position,
                        )
                part = await anext(parts, None)
            check_external_id(late.external_id)
            labels = check_labels(late.tags)
            if failed is not None:
                raise failed
            count = checker.count
            if count == 0:
                raise invalid("data", "data needs at least one item")
            await update_project_details(
                conn,
                project_id,
                description=late.description,
                external_id=late.external_id,
                label_config=build_label_config(task_type, labels),
            )
            await insert_labels(conn, project_id, [LabelRecord(n, c) for n, c in labels])
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
    if count >= LARGE_REQUEST_ITEMS:
        release_free_memory()
    return CreatedProject(project=project, task_count=count)


def _refuse_header(part: ProjectPart) -> None:
    """name and task_type come in the first part: the items are checked against them."""
    for name, value in (("name", part.name), ("task_type", part.task_type)):
        if value is not None:
            raise invalid(name, f"{name} is given in the first message of the stream only")


async def _check_batch(checker: ItemChecker, part: ProjectPart) -> list[str]:
    if len(part.contents) < THREADED_BATCH_ITEMS:
        return checker.check(part.contents, part.item_ids, part.metadata)
    return await asyncio.to_thread(checker.check, part.contents, part.item_ids, part.metadata)
