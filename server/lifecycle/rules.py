"""Projects and tasks: which state may follow which, and how the counters move.

    project:    draft ─> configuring ─> ready ─> in_progress <─> completed
                  └──────────────────────┘ (ConfigureProject ready=true)
    task:       pending ─StartTask─> in_progress ─SubmitAnnotation─> completed
                   ^                      │  ^                           │
                   └─SkipTask, Unassign───┘  └────────ReopenTask─────────┘
                an annotation import: pending | in_progress ─> completed;
                UnassignTasks of a reopened task (it has its annotation) ─> completed
    assignment: (none) ─> assigned ─> in_progress ─> completed   (mirrors its task)

Every move of a task is a row of `TASK_MOVES`: the action, the task status it
may start from, and the task's and assignment's statuses after it (None: the
assignment is removed). The counters are never moved by hand: they follow the
statuses. A task's move from one status to another takes one from the count
of the first and adds one to the count of the second (`task_counts`); an
assignment's move does the same to its annotator's counts, and `assigned_count`
counts the annotator's assignments whatever their status (`annotator_counts`).
A project's status follows its counters (`project_status_after`): once work
has started it is `completed` exactly when every task is (`completed >= total`,
one rule for every writer).

This module is pure (no I/O). The writers (`server/projects/init.py`,
`server/workflow/`, `server/annotations_import/service.py`) ask it whether a
move is allowed (a refusal is INVALID_STATE naming the current status) and what
it changes; `server/lifecycle/apply.py` hands the sums to storage, which owns
the SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from annotation_api.errors import DomainError, ErrorCode
from server.vocabulary import AssignmentStatus, ProjectStatus, TaskStatus

# A new project, and each of its tasks.
PROJECT_INITIAL = ProjectStatus.DRAFT
TASK_INITIAL = TaskStatus.PENDING
# Where ConfigureProject may run, where tasks may be assigned, where work on them moves.
CONFIGURABLE = frozenset({ProjectStatus.DRAFT, ProjectStatus.CONFIGURING})
WORKING = frozenset({ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED})
ASSIGNABLE = frozenset({ProjectStatus.READY, *WORKING})
# An assignment mirrors its task: an assigned task that is not started is pending.
ASSIGNMENT_OF_TASK: Mapping[TaskStatus, AssignmentStatus] = {
    TaskStatus.PENDING: AssignmentStatus.ASSIGNED,
    TaskStatus.IN_PROGRESS: AssignmentStatus.IN_PROGRESS,
    TaskStatus.COMPLETED: AssignmentStatus.COMPLETED,
}
TASK_OF_ASSIGNMENT: Mapping[AssignmentStatus, TaskStatus] = {
    value: key for key, value in ASSIGNMENT_OF_TASK.items()
}


def task_status_of(assignment_status: AssignmentStatus | str) -> TaskStatus:
    """The status of an assigned task, from its assignment's."""
    return TASK_OF_ASSIGNMENT[AssignmentStatus(assignment_status)]


class TaskAction(StrEnum):
    """What moves a task."""

    START = "start"  # StartTask
    SUBMIT = "submit"  # SubmitAnnotation
    REOPEN = "reopen"  # ReopenTask
    SKIP = "skip"  # SkipTask
    RELEASE = "release"  # UnassignTasks
    IMPORT = "import"  # an annotation import annotates the task


@dataclass(frozen=True, slots=True)
class TaskTarget:
    """A task's status after a move, and its assignment's (None: removed)."""

    task: TaskStatus
    assignment: AssignmentStatus | None


_STARTED = TaskTarget(TaskStatus.IN_PROGRESS, AssignmentStatus.IN_PROGRESS)
# Where a submitted or imported annotation leaves its task.
ANNOTATED = TaskTarget(TaskStatus.COMPLETED, AssignmentStatus.COMPLETED)
_RETURNED = TaskTarget(TaskStatus.PENDING, None)

# action -> {status the task may be in: where it goes}
TASK_MOVES: Mapping[TaskAction, Mapping[TaskStatus, TaskTarget]] = {
    TaskAction.START: {TaskStatus.PENDING: _STARTED},
    TaskAction.SUBMIT: {TaskStatus.IN_PROGRESS: ANNOTATED},
    TaskAction.REOPEN: {TaskStatus.COMPLETED: _STARTED},
    TaskAction.SKIP: {TaskStatus.PENDING: _RETURNED, TaskStatus.IN_PROGRESS: _RETURNED},
    TaskAction.RELEASE: {TaskStatus.PENDING: _RETURNED, TaskStatus.IN_PROGRESS: _RETURNED},
    # (a completed task without an annotation: only in data older than this rule)
    TaskAction.IMPORT: {status: ANNOTATED for status in TaskStatus},
}
# The moves that need the task assigned (an import assigns it to its annotator).
NEEDS_ASSIGNMENT = frozenset(set(TaskAction) - {TaskAction.IMPORT})
# The moves that work on a project's tasks only while it is in WORKING.
NEEDS_WORK_STARTED = frozenset({TaskAction.START, TaskAction.REOPEN})


def invalid_state(message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.INVALID_STATE, message, dict(details))


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """The project's task counters (a state, or a change of one)."""

    total: int = 0
    completed: int = 0
    in_progress: int = 0

    def __add__(self, other: TaskCounts) -> TaskCounts:
        return TaskCounts(
            self.total + other.total,
            self.completed + other.completed,
            self.in_progress + other.in_progress,
        )

    def __bool__(self) -> bool:
        return bool(self.total or self.completed or self.in_progress)


@dataclass(frozen=True, slots=True)
class AnnotatorCounts:
    """One annotator's counters in a project (a state, or a change of one)."""

    assigned: int = 0
    completed: int = 0
    in_progress: int = 0

    def __add__(self, other: AnnotatorCounts) -> AnnotatorCounts:
        return AnnotatorCounts(
            self.assigned + other.assigned,
            self.completed + other.completed,
            self.in_progress + other.in_progress,
        )

    def __bool__(self) -> bool:
        return bool(self.assigned or self.completed or self.in_progress)


def task_counts(before: TaskStatus | None, after: TaskStatus | None) -> TaskCounts:
    """How a task's move (None: the task does not exist) moves the project's counters."""

    def of(status: TaskStatus | None) -> TaskCounts:
        if status is None:
            return TaskCounts()
        return TaskCounts(
            total=1,
            completed=int(status == TaskStatus.COMPLETED),
            in_progress=int(status == TaskStatus.IN_PROGRESS),
        )

    old, new = of(before), of(after)
    return TaskCounts(
        new.total - old.total, new.completed - old.completed, new.in_progress - old.in_progress
    )


def annotator_counts(
    before: AssignmentStatus | None, after: AssignmentStatus | None
) -> AnnotatorCounts:
    """How an assignment's move (None: no assignment) moves its annotator's counters."""

    def of(status: AssignmentStatus | None) -> AnnotatorCounts:
        if status is None:
            return AnnotatorCounts()
        return AnnotatorCounts(
            assigned=1,
            completed=int(status == AssignmentStatus.COMPLETED),
            in_progress=int(status == AssignmentStatus.IN_PROGRESS),
        )

    old, new = of(before), of(after)
    return AnnotatorCounts(
        new.assigned - old.assigned,
        new.completed - old.completed,
        new.in_progress - old.in_progress,
    )


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task as a move finds it."""

    status: TaskStatus
    assignee_id: str | None
    assignment: AssignmentStatus | None
    annotated: bool = False  # it has an annotation (a reopened task keeps its own)


@dataclass(frozen=True, slots=True)
class TaskMove:
    """A move's effect: the rows' statuses afterwards and the counters' changes."""

    target: TaskTarget
    user_id: str  # whose assignment moved
    counts: TaskCounts
    annotator: AnnotatorCounts


# Why a task in a status the table does not list cannot take the move.
_REFUSALS = {
    TaskAction.START: "a pending task can be started",
    TaskAction.SUBMIT: "only an in_progress task takes an annotation",
    TaskAction.REOPEN: "only a completed task can be reopened",
    TaskAction.SKIP: "a completed task cannot be skipped",
    TaskAction.RELEASE: "a completed task stays with its annotator",
    TaskAction.IMPORT: "an annotated task keeps its annotation",
}
# Why a move that needs an assignment cannot take an unassigned task.
_UNASSIGNED = {
    TaskAction.START: "assign it first",
    TaskAction.SUBMIT: "only an assigned in_progress task takes an annotation",
    TaskAction.REOPEN: "assign it first",
    TaskAction.SKIP: "only an assigned task can be skipped",
    TaskAction.RELEASE: "there is nothing to take back",
}


def move_task(
    action: TaskAction,
    state: TaskState,
    *,
    project_status: ProjectStatus | str,
    annotator_id: str | None = None,
) -> TaskMove:
    """The effect of `action` on a task in `state`, or INVALID_STATE naming why not.

    annotator_id: for an import, who the annotation is attributed to (the task is
    assigned to them when it has no assignment).
    """
    status = TaskStatus(state.status)
    if action is TaskAction.START and status == TaskStatus.IN_PROGRESS:
        raise invalid_state("task is in_progress already", task_status=status)
    if action in NEEDS_ASSIGNMENT and state.assignee_id is None:
        raise invalid_state(
            f"task is {status} and not assigned; {_UNASSIGNED[action]}", task_status=status
        )
    if action in NEEDS_WORK_STARTED and project_status not in WORKING:
        raise invalid_state(f"project is {project_status}", project_status=project_status)
    if action is TaskAction.START and status == TaskStatus.COMPLETED:
        # A StartTask sent again after the submit (a retry, a stale tab) must not undo it.
        raise invalid_state(
            "task is completed; StartTask does not reopen it (ReopenTask does)",
            task_status=status,
        )
    if action in (TaskAction.SKIP, TaskAction.IMPORT) and state.annotated:
        raise invalid_state(
            f"task is {status} and has an annotation; submit it instead", task_status=status
        )
    target = TASK_MOVES[action].get(status)
    if target is None:
        raise invalid_state(f"task is {status}; {_REFUSALS[action]}", task_status=status)
    if action is TaskAction.RELEASE and state.annotated:
        # A reopened task taken back returns to where it was: completed, with its
        # annotation, still attributed to its annotator.
        target = ANNOTATED
    assignment = AssignmentStatus(state.assignment) if state.assignment else None
    user_id = state.assignee_id or annotator_id
    assert user_id is not None
    return TaskMove(
        target=target,
        user_id=user_id,
        counts=task_counts(status, target.task),
        annotator=annotator_counts(assignment, target.assignment),
    )


def project_status_after(
    status: ProjectStatus | str, *, counts: TaskCounts, assigned: bool = False
) -> ProjectStatus:
    """A project's status once its counters are `counts`; `assigned`: the change created
    assignments (the first one starts the work: ready -> in_progress). Once work has
    started, the project is completed exactly when every task is."""
    current = ProjectStatus(status)
    if current == ProjectStatus.READY and assigned:
        current = ProjectStatus.IN_PROGRESS
    if current not in WORKING:
        return current
    if counts.total and counts.completed >= counts.total:
        return ProjectStatus.COMPLETED
    return ProjectStatus.IN_PROGRESS


def check_assignable(status: ProjectStatus | str) -> None:
    """AssignTasks (and assigning by import) needs a project that is ready or working."""
    if status not in ASSIGNABLE:
        raise invalid_state(
            f"project is {status}; tasks can be assigned once it is ready", project_status=status
        )


def configured_status(status: ProjectStatus | str, *, ready: bool) -> ProjectStatus:
    """ConfigureProject's move: draft|configuring -> ready when `ready`, else configuring."""
    if status not in CONFIGURABLE:
        raise invalid_state(
            f"project is {status}; only a draft or configuring project can be configured",
            project_status=status,
        )
    return ProjectStatus.READY if ready else ProjectStatus.CONFIGURING


def initial_counts(task_count: int) -> TaskCounts:
    """A new project's counters: every task pending."""
    return TaskCounts(total=task_count)
