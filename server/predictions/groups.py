"""A model's pre-label is its whole answer: prediction rows grouped by model version.

Stored rows hold one shape each (AAP: one row per `predictions[]` item; COCO:
one per annotation). A front end is shown, per task, one prediction per model
version, as Label Studio presents a prediction:

* the group: all the task's rows with that model_version (rows without a
  version form a group of their own);
* its prediction_id: the id of its first stored row; an annotation's
  parent_prediction_id may name any row of the group and is stored as the
  group's id;
* its result: every region of its rows, as stored, rows in stored order;
  region_prediction_ids[i] is the row of region i;
* its score: the mean of its rows' known scores (null when none has one);
* its source and created_at: its first row's.

Which group pre-labels a task (TaskDetail.prelabel_prediction_id): the group of
the project's chosen version (ConfigureProject.prelabel_model_version) when
the task has one; otherwise the group imported last on that task (the one with
the newest row), which for a project imported version by version is the most
recently imported version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from storage.task_detail import DetailPrediction


@dataclass(slots=True)
class PredictionGroup:
    """One model version's whole answer for a task."""

    prediction_id: int
    source: str
    model_version: str | None
    created_at: datetime
    result: list[Any] = field(default_factory=list)
    region_prediction_ids: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    last_row_id: int = 0

    @property
    def score(self) -> float | None:
        """The mean of the rows' known scores, or None."""
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def result_json(self) -> str:
        return orjson.dumps(self.result).decode()


def group_predictions(rows: Sequence[DetailPrediction]) -> list[PredictionGroup]:
    """The groups of a task's prediction rows (rows oldest first), oldest group first."""
    groups: dict[str | None, PredictionGroup] = {}
    for row in rows:
        group = groups.get(row.model_version)
        if group is None:
            group = PredictionGroup(
                row.prediction_id, row.source, row.model_version, row.created_at
            )
            groups[row.model_version] = group
        regions = orjson.loads(row.result_json)
        for region in regions if isinstance(regions, list) else ():
            group.result.append(region)
            group.region_prediction_ids.append(row.prediction_id)
        if row.score is not None:
            group.scores.append(row.score)
        group.last_row_id = max(group.last_row_id, row.prediction_id)
    return sorted(groups.values(), key=lambda g: g.prediction_id)


def prelabel_group(
    groups: Sequence[PredictionGroup], chosen_version: str | None
) -> PredictionGroup | None:
    """The group that pre-labels the task (module docstring), or None when it has none."""
    if chosen_version is not None:
        for group in groups:
            if group.model_version == chosen_version:
                return group
    return max(groups, key=lambda g: g.last_row_id, default=None)
