"""The aggregates behind GetPredictionStats: a few grouped queries per project.

Predictions are counted per model_version over the (project_id, model_version,
task_id) index; annotations are joined to their parent prediction through
`parent_prediction_id`, and whether an annotation kept its parent unchanged is
stored with the annotation (`matches_parent`), so no result is parsed here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Integer, Table, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Annotation, Prediction

_predictions = cast(Table, Prediction.__table__)
_annotations = cast(Table, Annotation.__table__)


@dataclass(slots=True)
class ModelUsage:
    """How one model version's predictions were used (lead times unsorted)."""

    model_version: str | None
    predictions: int = 0
    tasks_covered: int = 0
    from_prediction: int = 0
    unchanged: int = 0
    without_use: int = 0
    lead_times_with: list[float] = field(default_factory=list)
    lead_times_without: list[float] = field(default_factory=list)


async def load_model_usage(conn: AsyncConnection, project_id: str) -> list[ModelUsage]:
    """One entry per model_version of the project's predictions."""
    usage: dict[str | None, ModelUsage] = {}
    rows = await conn.execute(
        select(
            _predictions.c.model_version,
            func.count(),
            func.count(distinct(_predictions.c.task_id)),
        )
        .where(_predictions.c.project_id == project_id)
        .group_by(_predictions.c.model_version)
    )
    for version, count, covered in rows:
        usage[version] = ModelUsage(version, int(count), int(covered))

    parent = _predictions.alias("parent")
    rows = await conn.execute(
        select(
            parent.c.model_version,
            func.count(),
            func.sum(case((_annotations.c.matches_parent.is_(True), 1), else_=0).cast(Integer)),
        )
        .select_from(_annotations)
        .join(parent, parent.c.id == _annotations.c.parent_prediction_id)
        .where(_annotations.c.project_id == project_id)
        .group_by(parent.c.model_version)
    )
    for version, count, unchanged in rows:
        if version in usage:
            usage[version].from_prediction = int(count)
            usage[version].unchanged = int(unchanged or 0)
    rows = await conn.execute(
        select(parent.c.model_version, _annotations.c.lead_time_seconds)
        .select_from(_annotations)
        .join(parent, parent.c.id == _annotations.c.parent_prediction_id)
        .where(
            _annotations.c.project_id == project_id,
            _annotations.c.lead_time_seconds.is_not(None),
        )
    )
    for version, lead_time in rows:
        if version in usage:
            usage[version].lead_times_with.append(float(lead_time))

    # Annotations of a task covered by a version that did not start from that version.
    covering = _predictions.alias("covering")
    rows = await conn.execute(
        select(covering.c.model_version, _annotations.c.id, _annotations.c.lead_time_seconds)
        .select_from(_annotations)
        .join(covering, covering.c.task_id == _annotations.c.task_id)
        .outerjoin(parent, parent.c.id == _annotations.c.parent_prediction_id)
        .where(
            _annotations.c.project_id == project_id,
            parent.c.id.is_(None)
            | parent.c.model_version.is_distinct_from(covering.c.model_version),
        )
        .distinct()
    )
    seen: defaultdict[str | None, set[int]] = defaultdict(set)
    for version, annotation_id, lead_time in rows:
        if version not in usage or annotation_id in seen[version]:
            continue
        seen[version].add(annotation_id)
        usage[version].without_use += 1
        if lead_time is not None:
            usage[version].lead_times_without.append(float(lead_time))
    return list(usage.values())
