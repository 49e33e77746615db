"""What one task adds to its project's agreement and ground-truth sums (pure).

A task's answers are its annotations but the reviewers' corrections. On a
task that is not ground truth, the answers are compared pairwise
(`server.quality.metrics.compare`): each answer's agreement is the mean of its
scores against the others, the task's agreement the mean over its pairs (None
with fewer than two answers). On a ground-truth task the known answer (the
annotation marked is_ground_truth) is not an answer: every other answer is
scored against it (its ground_truth_score) and the task has no agreement.

`task_contribution` gives the sums a task adds (quality_scores rows by kind,
user_id and label, "" meaning all) and its coincidences (choices only). The
stored sums are the sum of the contributions of every task, so a change of a
task moves them by `difference(new, old)`: O(answers on the task), never a
scan of the project.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations

import orjson

from server.quality.metrics import Answer, PairScore, coincidences, compare, parse_answer
from server.vocabulary import TaskType

ALL = ""  # user_id or label: every annotator, every label


class ScoreKind(StrEnum):
    """What a quality_scores row sums."""

    AGREEMENT = "agreement"
    GROUND_TRUTH = "ground_truth"
    # NER: the overlapping-span F1 beside the exact one
    AGREEMENT_OVERLAP = "agreement_overlap"
    GROUND_TRUTH_OVERLAP = "ground_truth_overlap"


OVERLAP_OF = {
    ScoreKind.AGREEMENT: ScoreKind.AGREEMENT_OVERLAP,
    ScoreKind.GROUND_TRUTH: ScoreKind.GROUND_TRUTH_OVERLAP,
}
ScoreKey = tuple[str, str, str]  # kind, user_id, label


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An annotation of a task as scoring sees it (annotation_id None: not written yet)."""

    annotation_id: int | None
    user_id: str
    result_json: str
    is_ground_truth: bool = False
    is_correction: bool = False


@dataclass(slots=True)
class ScoreSum:
    """One quality_scores row's values (a state, or a change of one)."""

    score_sum: float = 0.0
    score_count: int = 0
    matched: int = 0
    answered: int = 0
    expected: int = 0

    def add(self, score: float, matched: int = 0, answered: int = 0, expected: int = 0) -> None:
        self.score_sum += score
        self.score_count += 1
        self.matched += matched
        self.answered += answered
        self.expected += expected

    def minus(self, other: ScoreSum) -> ScoreSum:
        return ScoreSum(
            self.score_sum - other.score_sum,
            self.score_count - other.score_count,
            self.matched - other.matched,
            self.answered - other.answered,
            self.expected - other.expected,
        )

    def __bool__(self) -> bool:
        return bool(
            abs(self.score_sum) > 1e-15
            or self.score_count
            or self.matched
            or self.answered
            or self.expected
        )


@dataclass(slots=True)
class Contribution:
    """What a task adds to its project's sums, and the scores of its rows."""

    sums: defaultdict[ScoreKey, ScoreSum] = field(default_factory=lambda: defaultdict(ScoreSum))
    coincidences: dict[tuple[str, str], float] = field(default_factory=dict)
    task_agreement: float | None = None
    # annotation_id (None: the answer about to be written) -> score or None
    agreement: dict[int | None, float | None] = field(default_factory=dict)
    ground_truth_score: dict[int | None, float | None] = field(default_factory=dict)


def _add_pair(
    sums: defaultdict[ScoreKey, ScoreSum], kind: ScoreKind, user_id: str, pair: PairScore
) -> None:
    """One comparison of user_id's answer, per label."""
    for label, part in pair.labels.items():
        sums[(kind, user_id, label)].add(part.score, part.matched, part.answered, part.expected)


def _is_choice(task_type: str) -> bool:
    return task_type in (TaskType.TEXT_CLASSIFICATION, TaskType.IMAGE_CLASSIFICATION)


def task_contribution(
    task_type: str,
    *,
    iou_threshold: float,
    is_ground_truth: bool,
    answers: Sequence[StoredAnswer],
) -> Contribution:
    """A task's contribution (module docstring)."""
    found = Contribution()
    known = [a for a in answers if a.is_ground_truth]
    counted = [a for a in answers if not a.is_ground_truth and not a.is_correction]
    for answer in answers:
        found.agreement[answer.annotation_id] = None
        found.ground_truth_score[answer.annotation_id] = None
    parsed = [parse_answer(task_type, orjson.loads(a.result_json)) for a in counted]
    if is_ground_truth:
        if known:
            reference = max(known, key=lambda a: a.annotation_id or 0)
            truth = parse_answer(task_type, orjson.loads(reference.result_json))
            for answer, value in zip(counted, parsed, strict=True):
                pair = compare(task_type, value, truth, iou_threshold=iou_threshold)
                found.ground_truth_score[answer.annotation_id] = pair.score
                _add_scored(found.sums, ScoreKind.GROUND_TRUTH, answer.user_id, pair)
        return found
    if len(counted) < 2:
        return found
    _add_agreement(found, task_type, counted, parsed, iou_threshold=iou_threshold)
    return found


def _add_scored(
    sums: defaultdict[ScoreKey, ScoreSum], kind: ScoreKind, user_id: str, pair: PairScore
) -> None:
    """An answer scored against the known one: overall, per user, per label."""
    for user in (ALL, user_id):
        sums[(kind, user, ALL)].add(pair.score, pair.matched, pair.answered, pair.expected)
        _add_pair(sums, kind, user, pair)
        if pair.overlap is not None:
            sums[(OVERLAP_OF[kind], user, ALL)].add(pair.overlap)


def _add_agreement(
    found: Contribution,
    task_type: str,
    counted: Sequence[StoredAnswer],
    parsed: Sequence[Answer],
    *,
    iou_threshold: float,
) -> None:
    kind = ScoreKind.AGREEMENT
    sums = found.sums
    per_answer: list[list[PairScore]] = [[] for _ in counted]
    pairs: list[PairScore] = []
    for i, j in combinations(range(len(counted)), 2):
        pair = compare(task_type, parsed[i], parsed[j], iou_threshold=iou_threshold)
        mirrored = compare(task_type, parsed[j], parsed[i], iou_threshold=iou_threshold)
        per_answer[i].append(pair)
        per_answer[j].append(mirrored)
        pairs.append(pair)
        _add_pair(sums, kind, ALL, pair)
    found.task_agreement = _mean([p.score for p in pairs])
    total = sums[(kind, ALL, ALL)]
    total.add(found.task_agreement)
    overlap = _mean_or_none([p.overlap for p in pairs])
    if overlap is not None:
        sums[(ScoreKind.AGREEMENT_OVERLAP, ALL, ALL)].add(overlap)
    for answer, scored in zip(counted, per_answer, strict=True):
        mean = _mean([p.score for p in scored])
        found.agreement[answer.annotation_id] = mean
        mine = sums[(kind, answer.user_id, ALL)]
        mine.add(
            mean,
            sum(p.matched for p in scored),
            sum(p.answered for p in scored),
            sum(p.expected for p in scored),
        )
        for pair in scored:
            _add_pair(sums, kind, answer.user_id, pair)
        answer_overlap = _mean_or_none([p.overlap for p in scored])
        if answer_overlap is not None:
            sums[(ScoreKind.AGREEMENT_OVERLAP, answer.user_id, ALL)].add(answer_overlap)
    if _is_choice(task_type):
        found.coincidences = coincidences([value.value for value in parsed])


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return _mean(present) if present else None


@dataclass(slots=True)
class Difference:
    """How a task's change moves the stored sums and rows."""

    sums: dict[ScoreKey, ScoreSum]
    coincidences: dict[tuple[str, str], float]
    task_agreement: tuple[bool, float | None]  # (changed, value)
    # annotation_id -> (agreement, ground_truth_score), for the rows whose scores changed
    annotations: dict[int | None, tuple[float | None, float | None]]


def difference(new: Contribution, old: Contribution) -> Difference:
    """new - old, leaving out what does not move."""
    sums = {}
    for key in new.sums.keys() | old.sums.keys():
        moved = new.sums.get(key, ScoreSum()).minus(old.sums.get(key, ScoreSum()))
        if moved:
            sums[key] = moved
    pairs = {}
    for cell in new.coincidences.keys() | old.coincidences.keys():
        weight = new.coincidences.get(cell, 0.0) - old.coincidences.get(cell, 0.0)
        if abs(weight) > 1e-15:
            pairs[cell] = weight
    annotations: dict[int | None, tuple[float | None, float | None]] = {}
    for annotation_id in new.agreement:
        now = (new.agreement[annotation_id], new.ground_truth_score[annotation_id])
        before = (old.agreement.get(annotation_id), old.ground_truth_score.get(annotation_id))
        if annotation_id is None or now != before:
            annotations[annotation_id] = now
    return Difference(
        sums,
        pairs,
        (new.task_agreement != old.task_agreement, new.task_agreement),
        annotations,
    )


def total(contributions: Sequence[Contribution]) -> Mapping[ScoreKey, ScoreSum]:
    """The sums of several tasks (a recount from the rows)."""
    found: defaultdict[ScoreKey, ScoreSum] = defaultdict(ScoreSum)
    for contribution in contributions:
        for key, part in contribution.sums.items():
            row = found[key]
            row.score_sum += part.score_sum
            row.score_count += part.score_count
            row.matched += part.matched
            row.answered += part.answered
            row.expected += part.expected
    return found
