"""Ground truth in the lifecycle (pure): what marking tasks and serving them moves.

* Marking n tasks as ground truth moves projects.ground_truth_tasks by +n,
  unmarking them by -n (`ground_truth_tasks_move`); no task status moves.
* A ground-truth task is served to an annotator through an assignment with
  is_ground_truth = true, as the `ground_truth_rate`-th share of the tasks they
  are handed (`serves_ground_truth`). Creating it, and its moves, change no task
  status and no counter of the task, the project, the annotator or the review
  (the GT rule of the task moves), and its answer is never one of the task's
  answers (server.quality scores it against the known answer).
"""

from __future__ import annotations

import math

# A product of a count and a rate such as 100 * 0.57 is 56.99999999999999 in floating
# point; the share is rounded up to the next whole task within this tolerance.
RATE_TOLERANCE = 1e-9


def ground_truth_tasks_move(number: int, *, marked: bool) -> int:
    """How marking (or unmarking) `number` tasks moves projects.ground_truth_tasks."""
    return number if marked else -number


def serves_ground_truth(*, rate: float, answered: int, served: int, open_served: int) -> bool:
    """Whether the next task handed to an annotator is a ground-truth task.

    answered: their completed (counted) assignments in the project; served: the
    ground-truth tasks served to them so far, open_served those not yet answered.
    With n = answered + served tasks handed and done, the (n + 1)-th is a
    ground-truth task when floor((n + 1) * rate) > served: at rate 0.25 the 4th,
    8th, 12th... Deterministic (the same on every server), and one at a time: none
    while one served is still open.
    """
    if rate <= 0 or open_served:
        return False
    handed = answered + served + 1
    return math.floor(handed * rate + RATE_TOLERANCE) > served
