"""Projects and tasks: which state may follow which, and how the counters move.

    project:    draft ─> configuring ─> ready ─> in_progress <─> completed
                  └──────────────────────┘ (ConfigureProject ready=true)
    assignment: (none) ─Assign─> assigned ─Start─> in_progress ─Submit─> completed
                   ^                   │                │  ^                    │
                   └───────Skip, Unassign───────────────┘  └───────Reopen───────┘
                an annotation import: (none) | assigned | in_progress ─> completed;
                UnassignTasks of a reopened assignment (it has its annotation) ─> completed
    task:       derived from its assignments (`task_status_for`): completed when
                `annotations_per_task` (N) answers stand (tasks.annotation_count == N: its
                completed assignments), in_progress when one answer stands or one
                assignment is started, else pending. With N = 1 the task mirrors its
                one assignment, as before overlap.

Every move is a row of `TASK_MOVES`: the action, the status the mover's assignment
may start from (None: the mover has none), and its status after it (None: removed).
The task's status after the move follows from its answers, N and whether any of its
assignments is started. The counters are never moved by hand: they follow the
statuses. A task's move from one status to another takes one from the count of the
first and adds one to the count of the second (`task_counts`); an assignment's move
does the same to its annotator's counts, and `assigned_count` counts the annotator's
assignments whatever their status (`annotator_counts`). A project's status follows
its counters (`project_status_after`): once work has started it is `completed`
exactly when every task is (`completed >= total`, one rule for every writer).

A ground-truth assignment (a known-answer task served unmarked, `is_ground_truth`)
follows the same table, but its moves move NO task status and NO counter
(`TaskState.ground_truth`, `new_assignments`): its answer is scored, never counted.

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
    """A task's status after a move, and the mover's assignment's (None: removed)."""

    task: TaskStatus
    assignment: AssignmentStatus | None


_A = AssignmentStatus
_OPEN = (_A.ASSIGNED, _A.IN_PROGRESS)
# action -> {status the mover's assignment may be in (None: none): its status after}
TASK_MOVES: Mapping[TaskAction, Mapping[AssignmentStatus | None, AssignmentStatus | None]] = {
    TaskAction.START: {_A.ASSIGNED: _A.IN_PROGRESS},
    TaskAction.SUBMIT: {_A.IN_PROGRESS: _A.COMPLETED},
    TaskAction.REOPEN: {_A.COMPLETED: _A.IN_PROGRESS},
    TaskAction.SKIP: {status: None for status in _OPEN},
    TaskAction.RELEASE: {status: None for status in _OPEN},
    TaskAction.IMPORT: {None: _A.COMPLETED, **{status: _A.COMPLETED for status in _OPEN}},
}
# The moves that need the mover's assignment (an import creates it for its annotator).
NEEDS_ASSIGNMENT = frozenset(set(TaskAction) - {TaskAction.IMPORT})
# The moves that work on a project's tasks only while it is in WORKING.
NEEDS_WORK_STARTED = frozenset({TaskAction.START, TaskAction.REOPEN})
# Where a submitted or imported annotation leaves a task of one answer (N = 1).
ANNOTATED = TaskTarget(TaskStatus.COMPLETED, AssignmentStatus.COMPLETED)


def task_status_for(*, answers: int, per_task: int, started: bool) -> TaskStatus:
    """A task's status: completed once `per_task` answers stand, in_progress once one
    does or one of its assignments is started, else pending."""
    if answers >= per_task:
        return TaskStatus.COMPLETED
    if answers or started:
        return TaskStatus.IN_PROGRESS
    return TaskStatus.PENDING


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
    """A task as a move finds it, seen from the assignment that moves (the mover's)."""

    status: TaskStatus
    assignee_id: str | None  # the mover (None: no assignment)
    assignment: AssignmentStatus | None  # the mover's assignment
    annotated: bool = False  # the mover has an annotation of it (a reopened task keeps it)
    answers: int = 0  # tasks.annotation_count: the answers that stand
    per_task: int = 1  # the project's annotations_per_task (N)
    others_started: bool = False  # another (not ground-truth) assignment is in_progress
    ground_truth: bool = False  # the mover's assignment serves a ground-truth task


@dataclass(frozen=True, slots=True)
class TaskMove:
    """A move's effect: the rows' statuses afterwards and the counters' changes."""

    target: TaskTarget
    user_id: str  # whose assignment moved
    counts: TaskCounts
    annotator: AnnotatorCounts
    answers: int = 0  # how tasks.annotation_count moves (-1, 0, +1)


# Why an assignment in a status the table does not list cannot take the move.
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
    """The effect of `action` on the mover's assignment of a task in `state`, or
    INVALID_STATE naming why not.

    A refusal names the task's status as the mover sees it (their assignment's,
    which with one answer per task is the task's). annotator_id: for an import,
    who the annotation is attributed to (the mover when they have no assignment).
    """
    mine = AssignmentStatus(state.assignment) if state.assignment else None
    seen = task_status_of(mine) if mine is not None else TaskStatus(state.status)
    if action is TaskAction.START and mine == AssignmentStatus.IN_PROGRESS:
        raise invalid_state("task is in_progress already", task_status=seen)
    if action in NEEDS_ASSIGNMENT and mine is None:
        raise invalid_state(
            f"task is {seen} and not assigned; {_UNASSIGNED[action]}", task_status=seen
        )
    if action in NEEDS_WORK_STARTED and project_status not in WORKING:
        raise invalid_state(f"project is {project_status}", project_status=project_status)
    if action is TaskAction.START and mine == AssignmentStatus.COMPLETED:
        # A StartTask sent again after the submit (a retry, a stale tab) must not undo it.
        raise invalid_state(
            "task is completed; StartTask does not reopen it (ReopenTask does)",
            task_status=seen,
        )
    if action in (TaskAction.SKIP, TaskAction.IMPORT) and state.annotated:
        raise invalid_state(
            f"task is {seen} and has an annotation; submit it instead", task_status=seen
        )
    moves = TASK_MOVES[action]
    if mine not in moves:
        raise invalid_state(f"task is {seen}; {_REFUSALS[action]}", task_status=seen)
    after = moves[mine]
    if action is TaskAction.RELEASE and state.annotated:
        # A reopened assignment taken back returns to where it was: completed, with its
        # annotation, still attributed to its annotator.
        after = AssignmentStatus.COMPLETED
    user_id = state.assignee_id or annotator_id
    assert user_id is not None
    status = TaskStatus(state.status)
    if state.ground_truth:
        # a ground-truth answer is scored, never counted: no task status, no counter moves
        return TaskMove(TaskTarget(status, after), user_id, TaskCounts(), AnnotatorCounts())
    answers = int(after == AssignmentStatus.COMPLETED) - int(mine == AssignmentStatus.COMPLETED)
    task = task_status_for(
        answers=state.answers + answers,
        per_task=state.per_task,
        started=state.others_started or after == AssignmentStatus.IN_PROGRESS,
    )
    return TaskMove(
        target=TaskTarget(task, after),
        user_id=user_id,
        counts=task_counts(status, task),
        annotator=annotator_counts(mine, after),
        answers=answers,
    )


def new_assignments(number: int, *, ground_truth: bool = False) -> AnnotatorCounts:
    """How `number` new assignments of one annotator move their counters (AssignTasks):
    an assignment of a ground-truth task moves none."""
    return AnnotatorCounts() if ground_truth else AnnotatorCounts(assigned=number)


def free_places(per_task: int, assigned: int) -> int:
    """How many more annotators a task with `assigned` (not ground-truth) assignments may
    be given."""
    return max(per_task - assigned, 0)


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
