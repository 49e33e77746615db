"""server/lifecycle/rules.py on its own: the table is complete, counters follow statuses,
and the project's status has one rule."""

from __future__ import annotations

import pytest

from annotation_api.errors import DomainError, ErrorCode
from server.lifecycle.rules import (
    ASSIGNMENT_OF_TASK,
    TASK_MOVES,
    AnnotatorCounts,
    TaskAction,
    TaskCounts,
    TaskState,
    configured_status,
    move_task,
    project_status_after,
)
from server.vocabulary import AssignmentStatus, ProjectStatus, TaskStatus


def assigned(status: TaskStatus, *, annotated: bool = False) -> TaskState:
    return TaskState(status, "u1", ASSIGNMENT_OF_TASK[status], annotated)


def test_every_action_has_moves_and_every_move_keeps_the_task_count() -> None:
    assert set(TASK_MOVES) == set(TaskAction)
    for action, moves in TASK_MOVES.items():
        for status in moves:
            state = (
                assigned(status) if action != TaskAction.IMPORT else TaskState(status, None, None)
            )
            move = move_task(
                action, state, project_status=ProjectStatus.IN_PROGRESS, annotator_id="u2"
            )
            assert move.counts.total == 0, (action, status)
            # the assignment mirrors the task, or is gone and the task pending
            target = move.target
            assert target.assignment in (ASSIGNMENT_OF_TASK[target.task], None)


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
