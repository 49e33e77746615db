"""Annotation import (ground truth in bulk): the rules, in the order they apply.

The sibling of the prediction import (server.predictions.service), built from
the same parts: the upload is spooled to disk (server.predictions.upload) and
read as a stream in batches one ahead of their use (json_stream, pipeline),
units are matched in bulk, checked, and written batch by batch inside one
transaction, with the audit entry; dry_run runs the same in a read
transaction and writes nothing.

1. The caller must see the project (its owner or a super_admin), and
   annotator_id must be a user whose role is annotator (USER_NOT_FOUND, as
   AssignTasks answers).
2. The file's shape is checked before the transaction starts (422
   INVALID_IMPORT_FILE); a fault found later (broken JSON, nesting too deep)
   rolls everything back.
3. Each matched task without an annotation takes the unit's annotations
   (attributed to annotator_id) and is completed: its assignment, created for
   the annotator when it had none, is completed too, and the project's and
   annotators' counters move by the same rules as SubmitAnnotation. The
   unit's predictions become external_import predictions.
4. With `ground_truth`, every task that got an annotation becomes a
   ground-truth task, its imported annotation (the latest, when a unit has
   several) the known answer (server.quality.scoring; a dry run counts them).
5. The prediction stats are rebuilt, the project's status follows its
   counters, and the audit entry `annotations.import` is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.settings import Settings
from server.access import get_visible_project
from server.annotations_import.coco import iter_coco_units
from server.annotations_import.label_studio import iter_label_studio
from server.annotations_import.matching import match_units
from server.annotations_import.plan import BatchPlan, SeenTasks, plan_units
from server.annotations_import.units import Unit
from server.auth import Caller
from server.lifecycle.apply import Tally, apply_tally
from server.lifecycle.rules import TaskAction, TaskState, move_task
from server.predictions.coco import match_images, read_coco_index
from server.predictions.entries import ImportTarget, model_version_problem
from server.predictions.json_stream import Source, batched
from server.predictions.pipeline import import_batches
from server.predictions.rows import ImportIssue
from server.predictions.service import BATCH_SIZE
from server.quality.scoring import mark_ground_truth
from server.vocabulary import AssignmentStatus, TaskStatus, TaskType
from server.webhooks import events as webhook_events
from server.workflow.assignments import check_annotator
from storage.annotation_import import (
    complete_annotated_tasks,
    get_task_id_range,
    insert_annotations,
)
from storage.audit import write_audit_log
from storage.database import Database
from storage.prediction_stats import rebuild_model_stats
from storage.predictions import SOURCE_EXTERNAL_IMPORT, insert_predictions
from storage.projects import ProjectRecord, get_project, list_labels
from storage.types import utcnow

log = logging.getLogger(__name__)

AUDIT_ACTION = "annotations.import"


class AnnotationImportFormat(StrEnum):
    LABEL_STUDIO_JSON = "label_studio_json"
    COCO = "coco"


@dataclass(frozen=True, slots=True)
class AnnotationImportOptions:
    """The request's fields other than the file."""

    project_id: str
    format: AnnotationImportFormat
    dry_run: bool
    annotator_id: str
    model_version: str | None  # used for imported predictions that carry none
    ground_truth: bool = False  # every imported task becomes a ground-truth task


@dataclass(frozen=True, slots=True)
class AnnotationImportReport:
    """The response: what was (or would be) written, what was not, and why."""

    imported: int
    predictions_imported: int
    skipped: int
    errors: list[ImportIssue]
    dry_run: bool
    ground_truth_tasks: int = 0


@dataclass(slots=True)
class _Totals:
    imported: int = 0
    predictions_imported: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    moves: Tally = field(default_factory=Tally)  # the annotated tasks' moves
    waiting: list[int] = field(default_factory=list)  # annotated, waiting for more answers
    holders: list[tuple[int, str]] = field(default_factory=list)  # (task, holder) completed
    annotated: list[int] = field(default_factory=list)  # the tasks that get an annotation

    def add(self, plan: BatchPlan) -> None:
        self.annotated.extend(task.task_id for task in plan.completed)
        self.imported += len(plan.annotations)
        self.predictions_imported += len(plan.predictions)
        self.skipped += plan.skipped
        self.issues.extend(plan.issues)


class AnnotationImportService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database

    async def import_annotations(
        self, caller: Caller, options: AnnotationImportOptions, chunks: AsyncIterable[bytes]
    ) -> AnnotationImportReport:
        """Run one import; `chunks` is the file, read only once the caller is allowed."""
        fallback = options.model_version or None
        problem = model_version_problem(fallback)
        if problem is not None:
            raise DomainError(ErrorCode.INVALID_REQUEST, problem, {"field": "model_version"})
        target = await self._authorize(caller, options)
        totals = _Totals()
        reader = partial(self._reader, file_format=options.format, target=target)
        limit = self._settings.max_upload_bytes
        async with import_batches(chunks, limit=limit, reader=reader) as (first, batches):
            if not options.dry_run:
                await self._write(caller, options, target, fallback, first, batches, totals)
            else:
                async with self._database.read() as conn:
                    id_range = await get_task_id_range(conn, target.project_id)
                    annotator_id = options.annotator_id
                    await _plan_all(
                        conn, first, batches, target, fallback, id_range, totals, annotator_id
                    )
        log.info(
            "annotations imported",
            extra={
                "project_id": target.project_id,
                "format": str(options.format),
                "dry_run": options.dry_run,
                "imported": totals.imported,
                "predictions_imported": totals.predictions_imported,
                "skipped": totals.skipped,
                "error_count": len(totals.issues),
            },
        )
        return AnnotationImportReport(
            imported=totals.imported,
            predictions_imported=totals.predictions_imported,
            skipped=totals.skipped,
            errors=totals.issues,
            dry_run=options.dry_run,
            ground_truth_tasks=len(totals.annotated) if options.ground_truth else 0,
        )

    async def _reader(
        self, file: Source, *, file_format: AnnotationImportFormat, target: ImportTarget
    ) -> Iterator[list[Unit]]:
        """The file's units in batches (a blocking iterator: run it in a thread)."""
        if file_format is AnnotationImportFormat.COCO:
            # images read and matched once per file, as a COCO prediction import does
            use_segmentation = target.task_type == TaskType.POLYGON
            index = await asyncio.to_thread(
                read_coco_index, file, use_segmentation=use_segmentation
            )
            async with self._database.read() as conn:
                await match_images(conn, target.project_id, index)
            return iter_coco_units(file, index, target, batch_size=BATCH_SIZE)
        return batched(iter_label_studio(file, target), BATCH_SIZE)

    async def _authorize(self, caller: Caller, options: AnnotationImportOptions) -> ImportTarget:
        """Who may import predictions may import annotations (server.access); the
        annotator must be one (server.workflow.assignments.check_annotator)."""
        async with self._database.read() as conn:
            project = await get_visible_project(conn, caller, options.project_id)
            await check_annotator(conn, options.annotator_id)
            labels = await list_labels(conn, project.project_id)
        return ImportTarget(
            project_id=project.project_id,
            task_type=project.task_type,
            task_count=project.total_tasks,
            labels=tuple(label.name for label in labels),
        )

    async def _write(
        self,
        caller: Caller,
        options: AnnotationImportOptions,
        target: ImportTarget,
        fallback: str | None,
        first: list[Unit] | None,
        batches: AsyncIterator[list[Unit]],
        totals: _Totals,
    ) -> None:
        now = utcnow()
        project_id = target.project_id
        # Units are matched on a read connection of their own, as in a prediction import
        # (server.predictions.service): it sees the project as it was before the import.
        async with self._database.read() as reader, self._database.transaction() as conn:
            # The project's row lock: no annotation, assignment or prediction of the
            # project changes under the import (every workflow change takes it first).
            project = await get_project(conn, project_id, for_update=True)
            assert project is not None
            id_range = await get_task_id_range(reader, project_id)
            writer = _BatchWriter(conn, project, options.annotator_id, now, totals)
            await _plan_all(
                reader,
                first,
                batches,
                target,
                fallback,
                id_range,
                totals,
                options.annotator_id,
                writer,
            )
            if totals.imported:
                await complete_annotated_tasks(
                    conn,
                    project_id,
                    annotated_at=now,
                    user_id=options.annotator_id,
                    task_status=TaskStatus.COMPLETED,
                    assignment_status=AssignmentStatus.COMPLETED,
                    waiting=totals.waiting,
                    waiting_status=TaskStatus.IN_PROGRESS,
                    holders=totals.holders,
                )
            await apply_tally(conn, project, totals.moves, now=now, touch=False)
            if options.ground_truth and totals.annotated:
                await mark_ground_truth(
                    conn, project_id=project_id, task_ids=totals.annotated, marked=True, now=now
                )
            if totals.predictions_imported or totals.imported:
                await rebuild_model_stats(conn, project_id)
            await write_audit_log(
                conn,
                actor_id=caller.user_id,
                action=AUDIT_ACTION,
                project_id=project_id,
                detail={
                    "format": str(options.format),
                    "imported": totals.imported,
                    "predictions_imported": totals.predictions_imported,
                    "skipped": totals.skipped,
                    "error_count": len(totals.issues),
                    "annotator_id": options.annotator_id,
                    # a ground_truth import says so (the others' entries are unchanged)
                    **(
                        {"ground_truth_tasks": len(totals.annotated)}
                        if options.ground_truth
                        else {}
                    ),
                },
                now=now,
            )
            await webhook_events.annotations_imported(
                conn,
                project_id=project_id,
                counts={
                    "imported": totals.imported,
                    "predictions_imported": totals.predictions_imported,
                    "skipped": totals.skipped,
                    "error_count": len(totals.issues),
                },
            )


@dataclass(slots=True)
class _BatchWriter:
    """Writes each batch in the import's transaction (conn)."""

    conn: AsyncConnection
    project: ProjectRecord
    annotator_id: str
    now: datetime
    totals: _Totals

    async def write(self, plan: BatchPlan) -> None:
        conn, project_id, now = self.conn, self.project.project_id, self.now
        annotator_id = self.annotator_id
        await insert_annotations(
            conn, project_id=project_id, user_id=annotator_id, annotations=plan.annotations, now=now
        )
        await insert_predictions(
            conn,
            project_id=project_id,
            source=SOURCE_EXTERNAL_IMPORT,
            predictions=plan.predictions,
            created_at=now,
        )
        # The tasks and their assignments are written once, at the end of the import, and
        # the counters with them; their moves are summed here.
        for task in plan.completed:
            mover, mine = task.assignee_id, task.assignment_status
            if task.full:
                # others hold every place: the first open one takes the answer (the
                # annotation says who wrote it, progress counts the holder's work)
                mover, mine = task.holder_id, task.holder_status
                assert mover is not None
                self.totals.holders.append((task.task_id, mover))
            state = TaskState(
                TaskStatus(task.status),
                mover,
                AssignmentStatus(mine) if mine else None,
                task.annotated,
                answers=task.answers,
                per_task=task.per_task,
            )
            move = move_task(
                TaskAction.IMPORT,
                state,
                project_status=self.project.status,
                annotator_id=annotator_id,
            )
            self.totals.moves.add(move)
            if move.target.task != TaskStatus.COMPLETED:
                # one of several answers: the task waits for the others'
                assert move.target.task == TaskStatus.IN_PROGRESS
                self.totals.waiting.append(task.task_id)


async def _plan_all(
    conn: AsyncConnection,
    first: list[Unit] | None,
    rest: AsyncIterator[list[Unit]],
    target: ImportTarget,
    fallback: str | None,
    id_range: tuple[int, int] | None,
    totals: _Totals,
    annotator_id: str,
    writer: _BatchWriter | None = None,
) -> None:
    """Match (on conn), check and (with a writer) write every batch, adding each to totals."""
    seen = SeenTasks(id_range)
    batch = first
    while batch is not None:
        matched = await match_units(
            conn, target, batch, id_range=id_range, annotator_id=annotator_id
        )
        plan = plan_units(batch, matched, seen=seen, fallback_model_version=fallback)
        totals.add(plan)
        if writer is not None:
            await writer.write(plan)
        batch = await anext(rest, None)
