"""Keep the stored scores in step with the answers: the one call each writer makes.

* `score_answer`: SubmitAnnotation, UpdateAnnotation and a reviewer's
  correction call it in their transaction, before the answer is written, with
  the answer as it will be (annotation_id None: a new row). It reads the task's
  answers, scores the task before and after (server.quality.contribution),
  moves the project's sums and coincidences by the difference, writes the
  task's and the other answers' new scores, and returns the new answer's
  scores for its row. O(answers on the task).
* `mark_ground_truth`: SetGroundTruth and the annotation import's ground_truth
  flag: marks or unmarks tasks, their known answer being their accepted, else
  latest, annotation (INVALID_STATE for a task without one), and rescores them.

The caller holds the project's row lock, so the sums of one project move in
one order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.access import task_not_found
from server.lifecycle.ground_truth import ground_truth_tasks_move
from server.lifecycle.rules import invalid_state
from server.quality.contribution import (
    Contribution,
    ScoreKey,
    ScoreSum,
    StoredAnswer,
    difference,
    task_contribution,
)
from storage.quality import (
    ScoredTask,
    add_coincidences,
    add_ground_truth_tasks,
    add_scores,
    load_scored_tasks,
    set_annotation_scores,
    set_ground_truth_marks,
    set_task_agreements,
)


@dataclass(frozen=True, slots=True)
class AnswerScores:
    """A new answer's scores, for its row."""

    agreement: float | None = None
    ground_truth_score: float | None = None


NO_SCORES = AnswerScores()
# annotations.review_status of an accepted answer (the review's vocabulary)
ACCEPTED = "accepted"
# A task's state for scoring: whether it is ground truth, and its answers.
TaskAnswers = tuple[bool, list[StoredAnswer]]


def stored_answers(task: ScoredTask) -> TaskAnswers:
    return task.is_ground_truth, [
        StoredAnswer(a.annotation_id, a.user_id, a.result_json, a.is_ground_truth, a.is_correction)
        for a in task.answers
    ]


def contribution_of(task: ScoredTask, state: TaskAnswers) -> Contribution:
    is_ground_truth, answers = state
    return task_contribution(
        task.task_type,
        iou_threshold=task.iou_threshold,
        is_ground_truth=is_ground_truth,
        answers=answers,
    )


async def _rescore(
    conn: AsyncConnection,
    tasks: Sequence[ScoredTask],
    change: Callable[[ScoredTask, TaskAnswers], TaskAnswers],
) -> AnswerScores:
    """Move the stored scores of tasks (one project) from their rows' state to
    change(task, state); returns the scores of a new answer (annotation_id None)."""
    sums: defaultdict[ScoreKey, ScoreSum] = defaultdict(ScoreSum)
    cells: defaultdict[tuple[str, str], float] = defaultdict(float)
    annotations: list[tuple[int, float | None, float | None]] = []
    agreements: list[tuple[int, float | None]] = []
    new_answer = NO_SCORES
    for task in tasks:
        before = stored_answers(task)
        moved = difference(
            contribution_of(task, change(task, before)), contribution_of(task, before)
        )
        for key, part in moved.sums.items():
            row = sums[key]
            row.score_sum += part.score_sum
            row.score_count += part.score_count
            row.matched += part.matched
            row.answered += part.answered
            row.expected += part.expected
        for cell, weight in moved.coincidences.items():
            cells[cell] += weight
        for annotation_id, (agreement, truth) in moved.annotations.items():
            if annotation_id is None:
                new_answer = AnswerScores(agreement, truth)
            else:
                annotations.append((annotation_id, agreement, truth))
        changed, value = moved.task_agreement
        if changed:
            agreements.append((task.task_id, value))
    if tasks:
        project_id = tasks[0].project_id
        await add_scores(
            conn,
            project_id,
            [
                (kind, user, label, s.score_sum, s.score_count, s.matched, s.answered, s.expected)
                for (kind, user, label), s in sums.items()
                if s
            ],
        )
        await add_coincidences(conn, project_id, [(a, b, w) for (a, b), w in cells.items() if w])
    await set_annotation_scores(conn, annotations)
    await set_task_agreements(conn, agreements)
    return new_answer


async def score_answer(
    conn: AsyncConnection,
    *,
    task_id: int,
    annotation_id: int | None,
    user_id: str,
    result_json: str,
    task_has_answers: bool = True,
    is_correction: bool = False,
) -> AnswerScores:
    """Score an answer about to be written (module docstring). task_has_answers False
    (the task holds no annotation yet) skips every read: a lone answer scores nothing.
    is_correction: a reviewer's correction (corrects_annotation_id set), which is not an
    answer: it scores nothing and changes no other score, so its writer may call this or
    not; the call keeps one path for every writer."""
    if not task_has_answers:
        return NO_SCORES
    tasks = await load_scored_tasks(conn, [task_id])

    def change(_task: ScoredTask, state: TaskAnswers) -> TaskAnswers:
        is_ground_truth, answers = state
        if annotation_id is None:
            new = StoredAnswer(None, user_id, result_json, is_correction=is_correction)
            return is_ground_truth, [*answers, new]
        return is_ground_truth, [
            StoredAnswer(
                a.annotation_id, a.user_id, result_json, a.is_ground_truth, a.is_correction
            )
            if a.annotation_id == annotation_id
            else a
            for a in answers
        ]

    return await _rescore(conn, tasks, change)


@dataclass(frozen=True, slots=True)
class GroundTruthChange:
    changed_count: int
    ground_truth_tasks: int


def known_answer(task: ScoredTask) -> int | None:
    """The annotation that becomes a task's known answer: the latest accepted one (a
    reviewer's correction is accepted), else the latest."""
    accepted = [a.annotation_id for a in task.answers if a.review_status == ACCEPTED]
    chosen = accepted or [a.annotation_id for a in task.answers]
    return max(chosen) if chosen else None


async def mark_ground_truth(
    conn: AsyncConnection,
    *,
    project_id: str,
    task_ids: Sequence[int],
    marked: bool,
    now: datetime,
) -> GroundTruthChange:
    """Mark or unmark tasks of one project: TASK_NOT_FOUND for a task of another
    project, INVALID_STATE for a task to mark that has no annotation (each naming it)."""
    found = await load_scored_tasks(conn, task_ids)
    ours = {task.task_id for task in found if task.project_id == project_id}
    for task_id in task_ids:
        if task_id not in ours:
            raise task_not_found(str(task_id))
    tasks = [task for task in found if task.is_ground_truth != marked]
    known: dict[int, int] = {}
    if marked:
        for task in tasks:
            chosen = known_answer(task)
            if chosen is None:
                raise invalid_state(
                    f"task {task.task_id} has no annotation to be its known answer",
                    task_id=str(task.task_id),
                )
            known[task.task_id] = chosen

    def change(task: ScoredTask, state: TaskAnswers) -> TaskAnswers:
        _, answers = state
        chosen = known.get(task.task_id)
        return marked, [
            StoredAnswer(
                a.annotation_id,
                a.user_id,
                a.result_json,
                a.annotation_id == chosen,
                a.is_correction,
            )
            for a in answers
        ]

    await _rescore(conn, tasks, change)
    await set_ground_truth_marks(
        conn,
        task_ids=[t.task_id for t in tasks],
        annotation_ids=list(known.values()),
        marked=marked,
    )
    count = await add_ground_truth_tasks(
        conn, project_id, ground_truth_tasks_move(len(tasks), marked=marked), now=now
    )
    return GroundTruthChange(len(tasks), count)
