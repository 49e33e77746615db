"""server/lifecycle/rules.py on its own: the table is complete, counters follow statuses,
and the project's status has one rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from annotation_api.errors import DomainError, ErrorCode
from server.lifecycle.rules import (
    ASSIGNMENT_OF_TASK,
    TASK_MOVES,
    AnnotatorCounts,
    TaskAction,
    TaskCounts,
    TaskState,
    TaskTarget,
    configured_status,
    free_places,
    move_task,
    new_assignments,
    project_status_after,
    task_status_for,
    task_status_of,
)
from server.vocabulary import AssignmentStatus, ProjectStatus, TaskStatus


def assigned(status: TaskStatus, *, annotated: bool = False) -> TaskState:
    """A task of one answer (N = 1) whose one assignment mirrors it."""
    return TaskState(
        status,
        "u1",
        ASSIGNMENT_OF_TASK[status],
        annotated,
        answers=int(status == TaskStatus.COMPLETED),
    )


def test_every_action_has_moves_and_every_move_keeps_the_task_count() -> None:
    assert set(TASK_MOVES) == set(TaskAction)
    for action, moves in TASK_MOVES.items():
        for mine in moves:
            task = task_status_of(mine) if mine is not None else TaskStatus.PENDING
            state = TaskState(task, "u1" if mine else None, mine, answers=int(mine == "completed"))
            move = move_task(
                action, state, project_status=ProjectStatus.IN_PROGRESS, annotator_id="u2"
            )
            assert move.counts.total == 0, (action, mine)
            # with one answer per task the assignment mirrors the task, or is gone and the
            # task pending
            target = move.target
            assert target.assignment in (ASSIGNMENT_OF_TASK[target.task], None)


def test_a_task_of_two_answers_is_completed_by_the_second() -> None:
    working = ProjectStatus.IN_PROGRESS
    # ann started, bob only assigned: the task is in_progress
    first = move_task(
        TaskAction.SUBMIT,
        TaskState(TaskStatus.IN_PROGRESS, "ann", AssignmentStatus.IN_PROGRESS, per_task=2),
        project_status=working,
    )
    assert (first.target.task, first.answers, first.counts) == (
        TaskStatus.IN_PROGRESS,
        1,
        TaskCounts(),
    )
    assert first.annotator == AnnotatorCounts(completed=1, in_progress=-1)
    started = move_task(
        TaskAction.START,
        TaskState(TaskStatus.IN_PROGRESS, "bob", AssignmentStatus.ASSIGNED, answers=1, per_task=2),
        project_status=working,
    )
    assert (started.target.task, started.counts) == (TaskStatus.IN_PROGRESS, TaskCounts())
    second = move_task(
        TaskAction.SUBMIT,
        TaskState(
            TaskStatus.IN_PROGRESS, "bob", AssignmentStatus.IN_PROGRESS, answers=1, per_task=2
        ),
        project_status=working,
    )
    assert second.target.task == TaskStatus.COMPLETED
    assert second.counts == TaskCounts(completed=1, in_progress=-1)
    # bob reopens his answer: one answer stands, the task is in_progress again
    reopened = move_task(
        TaskAction.REOPEN,
        TaskState(
            TaskStatus.COMPLETED, "bob", AssignmentStatus.COMPLETED, True, answers=2, per_task=2
        ),
        project_status=working,
    )
    assert (reopened.target.task, reopened.answers) == (TaskStatus.IN_PROGRESS, -1)
    # a skip by the only one working leaves a pending task; with another started, not
    alone = TaskState(TaskStatus.IN_PROGRESS, "ann", AssignmentStatus.IN_PROGRESS, per_task=3)
    assert move_task(TaskAction.SKIP, alone, project_status=working).target.task == "pending"
    with_others = replace(alone, others_started=True)
    skipped = move_task(TaskAction.SKIP, with_others, project_status=working)
    assert (skipped.target.task, skipped.counts) == (TaskStatus.IN_PROGRESS, TaskCounts())


def test_a_ground_truth_assignment_moves_no_status_and_no_counter() -> None:
    state = TaskState(TaskStatus.PENDING, "ann", AssignmentStatus.IN_PROGRESS, ground_truth=True)
    move = move_task(TaskAction.SUBMIT, state, project_status=ProjectStatus.IN_PROGRESS)
    assert move.target == TaskTarget(TaskStatus.PENDING, AssignmentStatus.COMPLETED)
    assert (move.counts, move.annotator, move.answers) == (TaskCounts(), AnnotatorCounts(), 0)
    assert new_assignments(3, ground_truth=True) == AnnotatorCounts()
    assert new_assignments(3) == AnnotatorCounts(assigned=3)


def test_the_task_status_is_derived_from_answers_and_starts() -> None:
    assert task_status_for(answers=0, per_task=2, started=False) == TaskStatus.PENDING
    assert task_status_for(answers=0, per_task=2, started=True) == TaskStatus.IN_PROGRESS
    assert task_status_for(answers=1, per_task=2, started=False) == TaskStatus.IN_PROGRESS
    assert task_status_for(answers=2, per_task=2, started=True) == TaskStatus.COMPLETED
    assert task_status_for(answers=2, per_task=1, started=False) == TaskStatus.COMPLETED
    assert (free_places(2, 1), free_places(2, 2), free_places(1, 3)) == (1, 0, 0)


def test_counters_follow_the_statuses() -> None:
    submit = move_task(
        TaskAction.SUBMIT,
        assigned(TaskStatus.IN_PROGRESS),
        project_status=ProjectStatus.IN_PROGRESS,
    )
    assert submit.counts == TaskCounts(completed=1, in_progress=-1)
    assert submit.annotator == AnnotatorCounts(completed=1, in_progress=-1)
    skip = move_task(
        TaskAction.SKIP, assigned(TaskStatus.IN_PROGRESS), project_status=ProjectStatus.IN_PROGRESS
    )
    assert skip.counts == TaskCounts(in_progress=-1)
    assert skip.annotator == AnnotatorCounts(assigned=-1, in_progress=-1)
    imported = move_task(
        TaskAction.IMPORT,
        TaskState(TaskStatus.PENDING, None, None),
        project_status=ProjectStatus.READY,
        annotator_id="u2",
    )
    assert (imported.user_id, imported.annotator) == ("u2", AnnotatorCounts(1, 1, 0))
    # a reopened task taken back returns to completed, still its annotator's
    released = move_task(
        TaskAction.RELEASE,
        assigned(TaskStatus.IN_PROGRESS, annotated=True),
        project_status=ProjectStatus.IN_PROGRESS,
    )
    assert released.target.task == TaskStatus.COMPLETED
    assert released.target.assignment == AssignmentStatus.COMPLETED
    assert released.annotator == AnnotatorCounts(completed=1, in_progress=-1)


@pytest.mark.parametrize(
    ("action", "state", "task_status"),
    [
        (TaskAction.START, assigned(TaskStatus.COMPLETED), "completed"),
        (TaskAction.START, assigned(TaskStatus.IN_PROGRESS), "in_progress"),
        (TaskAction.REOPEN, assigned(TaskStatus.PENDING), "pending"),
        (TaskAction.SUBMIT, TaskState(TaskStatus.PENDING, None, None), "pending"),
        # with overlap a refusal names the task as the mover has it
        (
            TaskAction.START,
            TaskState(TaskStatus.IN_PROGRESS, "u1", AssignmentStatus.COMPLETED, per_task=2),
            "completed",
        ),
        (TaskAction.SKIP, assigned(TaskStatus.IN_PROGRESS, annotated=True), "in_progress"),
        (TaskAction.SKIP, assigned(TaskStatus.COMPLETED), "completed"),
    ],
)
def test_refused_moves_name_the_task_status(
    action: TaskAction, state: TaskState, task_status: str
) -> None:
    with pytest.raises(DomainError) as refused:
        move_task(action, state, project_status=ProjectStatus.IN_PROGRESS)
    assert refused.value.code == ErrorCode.INVALID_STATE
    assert refused.value.details == {"task_status": task_status}
    assert task_status in refused.value.message


def test_the_project_status_has_one_rule() -> None:
    def after(status: ProjectStatus, total: int, completed: int, *, assigned: bool = False) -> str:
        return project_status_after(status, counts=TaskCounts(total, completed), assigned=assigned)

    assert after(ProjectStatus.READY, 3, 0) == ProjectStatus.READY
    assert after(ProjectStatus.READY, 3, 0, assigned=True) == ProjectStatus.IN_PROGRESS
    assert after(ProjectStatus.READY, 1, 1, assigned=True) == ProjectStatus.COMPLETED
    assert after(ProjectStatus.IN_PROGRESS, 3, 3) == ProjectStatus.COMPLETED
    assert after(ProjectStatus.COMPLETED, 3, 2) == ProjectStatus.IN_PROGRESS
    # an import into a draft project completes tasks, not the project
    assert after(ProjectStatus.DRAFT, 2, 2, assigned=True) == ProjectStatus.DRAFT
    assert configured_status(ProjectStatus.DRAFT, ready=True) == ProjectStatus.READY
    with pytest.raises(DomainError) as refused:
        configured_status(ProjectStatus.READY, ready=True)
    assert refused.value.details == {"project_status": "ready"}
