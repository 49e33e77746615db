"""Ground truth in the lifecycle (pure): what marking tasks and serving them moves.

* Marking n tasks as ground truth moves projects.ground_truth_tasks by +n,
  unmarking them by -n (`ground_truth_tasks_move`); task statuses do not move.
* A ground-truth task served to an annotator (NextTask) goes through an
  assignment with is_ground_truth = true. Its moves (start, submit) change the
  assignment's status only: no task status and no counter of the task, the
  project, the annotator or the review moves (`ground_truth_move`), and its
  answer is never one of the task's answers (server.quality scores it).
"""

from __future__ import annotations

from collections.abc import Mapping

from server.lifecycle.rules import TaskAction, invalid_state
from server.vocabulary import AssignmentStatus

# action -> {assignment status it may start from: the status after it}
GROUND_TRUTH_MOVES: Mapping[TaskAction, Mapping[AssignmentStatus, AssignmentStatus]] = {
    TaskAction.START: {AssignmentStatus.ASSIGNED: AssignmentStatus.IN_PROGRESS},
    TaskAction.SUBMIT: {AssignmentStatus.IN_PROGRESS: AssignmentStatus.COMPLETED},
}


def ground_truth_tasks_move(number: int, *, marked: bool) -> int:
    """How marking (or unmarking) `number` tasks moves projects.ground_truth_tasks."""
    return number if marked else -number


def ground_truth_move(action: TaskAction, assignment: AssignmentStatus | str) -> AssignmentStatus:
    """The status of a ground-truth assignment after `action` (it moves no counter), or
    INVALID_STATE naming why not."""
    status = AssignmentStatus(assignment)
    target = GROUND_TRUTH_MOVES.get(action, {}).get(status)
    if target is None:
        raise invalid_state(
            f"this task is {status} for you; {action} is not possible", task_status=status
        )
    return target
