"""Review: which review status may follow which, and how the review counters move.

    (not reviewed) ─submit─> pending ─accept─> accepted   (final)
                                │  └──correct─> accepted   (+ the reviewer's correction)
                                └──reject──> rejected ─resubmit─> pending
    pending ─ReopenTask─> (not reviewed) ─submit─> pending

Every move of an annotation's review status is a row of `REVIEW_MOVES`: the
action, the status it may start from (None: not under review) and the status
after it. What a submit leads to is `submitted_status`: pending when the
project reviews the task (`is_reviewed`), else None (not under review). An
accepted annotation is final: its author can no longer update it, reopen its
task or skip it (`check_not_final`).

The counters follow the statuses, as the task counters do (server.lifecycle.rules):
`review_pending_count`, `accepted_count` and `rejected_count` of the project and
of the annotation's author count the annotators' answers in each status (a
reviewer's correction is not an answer: it is counted nowhere), and the
project's `reviewed_count` counts verdicts (accepts and rejects, every round).

This module is pure (no I/O): the writers (server.workflow.annotating,
server.review.verdicts) ask it, and server.lifecycle.apply hands the sums to storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from server.lifecycle.rules import invalid_state
from server.vocabulary import ReviewMode, ReviewStatus, ReviewVerdict


class ReviewAction(StrEnum):
    """What moves an annotation's review status."""

    SUBMIT = "submit"  # SubmitAnnotation (first submit or resubmit) into review
    WITHDRAW = "withdraw"  # ReopenTask: the annotator takes a waiting answer back
    ACCEPT = "accept"  # ReviewAnnotation ACCEPT (with or without a correction)
    REJECT = "reject"  # ReviewAnnotation REJECT


_ANY: tuple[ReviewStatus | None, ...] = (None, ReviewStatus.PENDING, ReviewStatus.REJECTED)
# action -> {status the annotation may be in (None: not under review): status after}
REVIEW_MOVES: Mapping[ReviewAction, Mapping[ReviewStatus | None, ReviewStatus | None]] = {
    ReviewAction.SUBMIT: {status: ReviewStatus.PENDING for status in _ANY},
    ReviewAction.WITHDRAW: {ReviewStatus.PENDING: None, None: None, ReviewStatus.REJECTED: None},
    ReviewAction.ACCEPT: {ReviewStatus.PENDING: ReviewStatus.ACCEPTED},
    ReviewAction.REJECT: {ReviewStatus.PENDING: ReviewStatus.REJECTED},
}
VERDICT_ACTIONS: Mapping[ReviewVerdict, ReviewAction] = {
    ReviewVerdict.ACCEPT: ReviewAction.ACCEPT,
    ReviewVerdict.REJECT: ReviewAction.REJECT,
}


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """Review counters (a state, or a change of one). `reviewed` is the project's only."""

    pending: int = 0
    accepted: int = 0
    rejected: int = 0
    reviewed: int = 0

    def __add__(self, other: ReviewCounts) -> ReviewCounts:
        return ReviewCounts(
            self.pending + other.pending,
            self.accepted + other.accepted,
            self.rejected + other.rejected,
            self.reviewed + other.reviewed,
        )

    def __bool__(self) -> bool:
        return bool(self.pending or self.accepted or self.rejected or self.reviewed)


def review_counts(
    before: ReviewStatus | str | None, after: ReviewStatus | str | None, *, verdict: bool = False
) -> ReviewCounts:
    """How an answer's move from one review status to another moves the counters."""

    def of(status: ReviewStatus | str | None) -> ReviewCounts:
        return ReviewCounts(
            pending=int(status == ReviewStatus.PENDING),
            accepted=int(status == ReviewStatus.ACCEPTED),
            rejected=int(status == ReviewStatus.REJECTED),
        )

    old, new = of(before), of(after)
    return ReviewCounts(
        new.pending - old.pending,
        new.accepted - old.accepted,
        new.rejected - old.rejected,
        int(verdict),
    )


@dataclass(frozen=True, slots=True)
class ReviewMove:
    """A move's effect: the status afterwards and the counters' change."""

    status: ReviewStatus | None
    counts: ReviewCounts


def _status(value: ReviewStatus | str | None) -> ReviewStatus | None:
    return ReviewStatus(value) if value else None


def move_review(action: ReviewAction, current: ReviewStatus | str | None) -> ReviewMove:
    """The effect of `action` on an answer in review status `current` (a submit goes to
    pending: use `submitted_status` for where a submit leads), or INVALID_STATE."""
    status = _status(current)
    moves = REVIEW_MOVES[action]
    if status not in moves:
        shown = status or "not under review"
        if status == ReviewStatus.ACCEPTED:
            raise invalid_state("annotation is accepted; an accepted annotation is final")
        raise invalid_state(
            f"annotation is {shown}; only an annotation waiting for review takes a verdict",
            review_status=shown,
        )
    after = moves[status]
    verdict = action in (ReviewAction.ACCEPT, ReviewAction.REJECT)
    return ReviewMove(after, review_counts(status, after, verdict=verdict))


def submit_review(current: ReviewStatus | str | None, *, reviewed: bool) -> ReviewMove:
    """A (re)submit: pending when the task is reviewed, else out of review; an accepted
    answer cannot be submitted again."""
    check_not_final(current)
    if reviewed:
        return move_review(ReviewAction.SUBMIT, current)
    return move_review(ReviewAction.WITHDRAW, current)


def check_not_final(current: ReviewStatus | str | None) -> None:
    """INVALID_STATE for an accepted annotation: its author's update, reopen or skip."""
    if _status(current) == ReviewStatus.ACCEPTED:
        raise invalid_state(
            "annotation is accepted; an accepted annotation is final",
            review_status=ReviewStatus.ACCEPTED,
        )


# The sample's hash: the first 8 bytes of SHA-256 of the task id's decimal digits,
# as a big-endian integer, over 2**64 (a number in [0, 1) every server computes alike).
_SAMPLE_SCALE = float(2**64)


def sample_point(task_id: int) -> float:
    """Where a task falls in [0, 1): SHA-256(str(task_id))[:8] / 2**64."""
    digest = hashlib.sha256(str(task_id).encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / _SAMPLE_SCALE


def is_reviewed(
    mode: ReviewMode | str, share: float | None, task_id: int, *, ground_truth: bool = False
) -> bool:
    """Whether a task's answers wait for a reviewer: every task in mode all, the tasks
    whose sample_point is under review_share in mode sample, none when off (nor the
    answers of a ground-truth assignment, which are scored instead)."""
    if ground_truth:
        return False
    match ReviewMode(mode):
        case ReviewMode.ALL:
            return True
        case ReviewMode.SAMPLE:
            return share is not None and sample_point(task_id) < share
        case _:
            return False
