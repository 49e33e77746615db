"""The review moves of server.lifecycle.review: statuses, counters, the sample's hash."""

from __future__ import annotations

import pytest

from annotation_api.errors import DomainError, ErrorCode
from server.lifecycle.review import (
    ReviewAction,
    ReviewCounts,
    check_not_final,
    is_reviewed,
    move_review,
    sample_point,
    submit_review,
)
from server.vocabulary import ReviewStatus

PENDING, ACCEPTED, REJECTED = ReviewStatus.PENDING, ReviewStatus.ACCEPTED, ReviewStatus.REJECTED


def test_verdicts_move_the_counters_with_the_statuses() -> None:
    accept = move_review(ReviewAction.ACCEPT, PENDING)
    assert (accept.status, accept.counts) == (ACCEPTED, ReviewCounts(-1, 1, 0, 1))
    reject = move_review(ReviewAction.REJECT, "pending")
    assert (reject.status, reject.counts) == (REJECTED, ReviewCounts(-1, 0, 1, 1))
    resubmit = submit_review(REJECTED, reviewed=True)
    assert (resubmit.status, resubmit.counts) == (PENDING, ReviewCounts(1, 0, -1, 0))
    first = submit_review(None, reviewed=True)
    assert (first.status, first.counts) == (PENDING, ReviewCounts(pending=1))
    unreviewed = submit_review(None, reviewed=False)
    assert (unreviewed.status, bool(unreviewed.counts)) == (None, False)
    withdrawn = move_review(ReviewAction.WITHDRAW, PENDING)
    assert (withdrawn.status, withdrawn.counts) == (None, ReviewCounts(pending=-1))


@pytest.mark.parametrize("status", [None, ACCEPTED, REJECTED])
@pytest.mark.parametrize("action", [ReviewAction.ACCEPT, ReviewAction.REJECT])
def test_only_a_waiting_answer_takes_a_verdict(
    action: ReviewAction, status: ReviewStatus | None
) -> None:
    with pytest.raises(DomainError) as refused:
        move_review(action, status)
    assert refused.value.code == ErrorCode.INVALID_STATE


def test_an_accepted_answer_is_final() -> None:
    for call in (
        lambda: check_not_final(ACCEPTED),
        lambda: submit_review(ACCEPTED, reviewed=True),
        lambda: submit_review(ACCEPTED, reviewed=False),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == ErrorCode.INVALID_STATE
    check_not_final(REJECTED)
    check_not_final(None)


def test_the_sample_is_deterministic_and_takes_about_its_share() -> None:
    # SHA-256("1") begins 6b86b273ff34fce1: the documented formula, by hand
    assert sample_point(1) == int("6b86b273ff34fce1", 16) / 2**64
    points = [sample_point(task_id) for task_id in range(1, 20_001)]
    assert points == [sample_point(task_id) for task_id in range(1, 20_001)]
    share = sum(point < 0.3 for point in points) / len(points)
    assert 0.28 < share < 0.32, share
    assert all(is_reviewed("all", None, t) for t in (1, 2, 3))
    assert not any(is_reviewed("off", 1.0, t) for t in (1, 2, 3))
    assert not is_reviewed("all", None, 1, ground_truth=True)
    assert [is_reviewed("sample", 0.3, t) for t in range(1, 50)] == [p < 0.3 for p in points[:49]]
