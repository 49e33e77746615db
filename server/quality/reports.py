"""QualityService's use cases: the agreement and ground-truth reads, and SetGroundTruth.

Every project read is the project's sum rows (quality_scores: one per kind,
annotator and label) and, for choices, its coincidence matrix: constant in the
number of tasks. A task read is the task's answers. Access: the admins who see
the project (server.access); annotators never reach these calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from server.access import (
    check_review_project,
    check_task,
    get_visible_project,
    task_not_found,
)
from server.auth import Caller, Role
from server.projects.validation import invalid
from server.quality.contribution import ALL, OVERLAP_OF, ScoreKind
from server.quality.metrics import alpha
from server.quality.scoring import GroundTruthChange, mark_ground_truth
from server.vocabulary import TaskType
from server.workflow.common import parse_id
from storage.database import Database
from storage.quality import (
    QualityHeader,
    ScoreRow,
    load_coincidences,
    load_quality_header,
    load_scored_tasks,
    load_scores,
)
from storage.reviews import is_reviewer
from storage.types import utcnow

MAX_GROUND_TRUTH_TASKS = 10_000
CHOICE_TASK_TYPES = frozenset({TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION})


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: str
    score: float | None
    count: int


@dataclass(slots=True)
class AnnotatorScore:
    user_id: str
    username: str
    score: float | None = None
    tasks: int = 0
    precision: float | None = None
    recall: float | None = None
    overlap: float | None = None
    labels: list[LabelScore] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """A project's agreement, or its accuracy against ground truth."""

    project_id: str
    score: float | None  # the mean task agreement, or the mean answer accuracy
    scored: int  # tasks (agreement) or answers (ground truth) scored
    overlap: float | None
    precision: float | None
    recall: float | None
    iou_threshold: float
    annotators: list[AnnotatorScore]
    labels: list[LabelScore]
    krippendorff_alpha: float | None = None
    ground_truth_tasks: int = 0


@dataclass(frozen=True, slots=True)
class AnswerScore:
    annotation_id: int
    user_id: str
    username: str
    score: float | None


@dataclass(frozen=True, slots=True)
class TaskAgreement:
    task_id: int
    agreement: float | None
    answers: list[AnswerScore]


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _report(
    header: QualityHeader, kind: ScoreKind, rows: Sequence[ScoreRow]
) -> tuple[ScoreRow | None, float | None, list[AnnotatorScore], list[LabelScore]]:
    """The sum rows of one kind as totals, annotators (by username) and labels."""
    total, overlap = None, None
    annotators: dict[str, AnnotatorScore] = {}
    labels: list[LabelScore] = []
    user_labels: defaultdict[str, list[LabelScore]] = defaultdict(list)
    for row in rows:
        mean = ratio(row.score_sum, row.score_count)
        if row.kind == OVERLAP_OF[kind]:
            if row.user_id == ALL:
                overlap = mean
            else:
                annotators.setdefault(row.user_id, AnnotatorScore(row.user_id, row.username))
                annotators[row.user_id].overlap = mean
            continue
        if row.user_id == ALL:
            if row.label == ALL:
                total = row
            else:
                labels.append(LabelScore(row.label, mean, row.score_count))
            continue
        annotator = annotators.setdefault(row.user_id, AnnotatorScore(row.user_id, row.username))
        if row.label != ALL:
            user_labels[row.user_id].append(LabelScore(row.label, mean, row.score_count))
            continue
        annotator.score, annotator.tasks = mean, row.score_count
        if header.task_type not in CHOICE_TASK_TYPES:
            annotator.precision = ratio(row.matched, row.answered)
            annotator.recall = ratio(row.matched, row.expected)
    for user_id, found in user_labels.items():
        annotators[user_id].labels = found
    ordered = sorted(annotators.values(), key=lambda a: (a.username, a.user_id))
    return total, overlap, ordered, labels


async def _reviews(conn: AsyncConnection, caller: Caller, project_id: str) -> bool:
    """Whether the caller is a reviewer of the project (the reads are theirs too)."""
    return caller.role == Role.REVIEWER and await is_reviewer(conn, project_id, caller.user_id)


async def _check_reads(
    conn: AsyncConnection, caller: Caller, project_id: str, owner_id: str | None
) -> None:
    """PROJECT_NOT_FOUND unless the caller sees the project or reviews it."""
    reviewing = owner_id is not None and await _reviews(conn, caller, project_id)
    check_review_project(caller, project_id, owner_id, is_reviewer=reviewing)


async def get_agreement(database: Database, caller: Caller, project_id: str) -> ScoreReport:
    """A project's agreement: overall, per annotator, per label, and alpha for choices."""
    async with database.read() as conn:
        header = await load_quality_header(conn, project_id) if project_id else None
        await _check_reads(conn, caller, project_id, header.owner_id if header else None)
        assert header is not None
        kinds = (ScoreKind.AGREEMENT, ScoreKind.AGREEMENT_OVERLAP)
        rows = await load_scores(conn, project_id, kinds)
        matrix = (
            await load_coincidences(conn, project_id)
            if header.task_type in CHOICE_TASK_TYPES
            else {}
        )
    total, overlap, annotators, labels = _report(header, ScoreKind.AGREEMENT, rows)
    return ScoreReport(
        project_id=project_id,
        score=ratio(total.score_sum, total.score_count) if total else None,
        scored=total.score_count if total else 0,
        overlap=overlap,
        precision=None,
        recall=None,
        iou_threshold=header.iou_threshold,
        annotators=annotators,
        labels=labels,
        krippendorff_alpha=alpha(matrix),
        ground_truth_tasks=header.ground_truth_tasks,
    )


async def get_quality_report(database: Database, caller: Caller, project_id: str) -> ScoreReport:
    """Each annotator's accuracy against ground truth, overall and per label."""
    async with database.read() as conn:
        header = await load_quality_header(conn, project_id) if project_id else None
        await _check_reads(conn, caller, project_id, header.owner_id if header else None)
        assert header is not None
        kinds = (ScoreKind.GROUND_TRUTH, ScoreKind.GROUND_TRUTH_OVERLAP)
        rows = await load_scores(conn, project_id, kinds)
    total, overlap, annotators, labels = _report(header, ScoreKind.GROUND_TRUTH, rows)
    regions = header.task_type not in CHOICE_TASK_TYPES
    return ScoreReport(
        project_id=project_id,
        score=ratio(total.score_sum, total.score_count) if total else None,
        scored=total.score_count if total else 0,
        overlap=overlap,
        precision=ratio(total.matched, total.answered) if total and regions else None,
        recall=ratio(total.matched, total.expected) if total and regions else None,
        iou_threshold=header.iou_threshold,
        annotators=annotators,
        labels=labels,
        ground_truth_tasks=header.ground_truth_tasks,
    )


async def get_task_agreement(database: Database, caller: Caller, task_id: str) -> TaskAgreement:
    """One task's agreement and each of its answers' (corrections and a known answer are
    not answers)."""
    number = parse_id(task_id)
    async with database.read() as conn:
        found = await load_scored_tasks(conn, [number]) if number is not None else []
        task = found[0] if found else None
        reviewing = task is not None and await _reviews(conn, caller, task.project_id)
    check_task(
        caller,
        task_id,
        project_owner_id=task.owner_id if task else None,
        assignee_id=None,
        is_reviewer=reviewing,
    )
    assert task is not None
    return TaskAgreement(
        task.task_id,
        task.agreement,
        [
            AnswerScore(a.annotation_id, a.user_id, a.username, a.agreement)
            for a in task.answers
            if not a.is_correction and not a.is_ground_truth
        ],
    )


def _task_numbers(task_ids: Sequence[str]) -> list[int]:
    if not 1 <= len(task_ids) <= MAX_GROUND_TRUTH_TASKS:
        raise invalid("task_ids", f"give 1 to {MAX_GROUND_TRUTH_TASKS:,} task ids")
    numbers = []
    for task_id in task_ids:
        number = parse_id(task_id)
        if number is None:
            raise task_not_found(task_id)
        numbers.append(number)
    if len(set(numbers)) != len(numbers):
        raise invalid("task_ids", "task_ids must not repeat a task")
    return numbers


async def set_ground_truth(
    database: Database, caller: Caller, project_id: str, task_ids: Sequence[str], *, marked: bool
) -> GroundTruthChange:
    """Mark or unmark tasks of a project as ground truth (server.quality.scoring)."""
    numbers = _task_numbers(task_ids)
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        return await mark_ground_truth(
            conn, project_id=project.project_id, task_ids=numbers, marked=marked, now=utcnow()
        )
