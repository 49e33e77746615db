"""The counters behind GetPredictionStats (tables prediction_model_stats and
prediction_lead_times), so that the stats of a project with a million tasks and
predictions are a read of a few rows per model version.

* `rebuild_model_stats` recomputes a project's counters from its rows with
  grouped SQL; the prediction import runs it in its transaction (predictions
  only change there).
* `add_model_usage` / `add_lead_time` move them by one annotation, in the
  transaction that submits or updates it.

A NULL model_version is keyed as "" and every other version as "v" + version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    delete,
    distinct,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Annotation, Prediction, PredictionLeadTime, PredictionModelStats

_predictions = cast(Table, Prediction.__table__)
_annotations = cast(Table, Annotation.__table__)
_stats = cast(Table, PredictionModelStats.__table__)
_lead_times = cast(Table, PredictionLeadTime.__table__)


def version_key(model_version: str | None) -> str:
    return "" if model_version is None else "v" + model_version


def tenths(seconds: float) -> int:
    """A lead time's bucket: whole tenths of a second."""
    return round(seconds * 10)


@dataclass(slots=True)
class ModelUsage:
    """One model version's counters and lead-time histograms ({tenths: count})."""

    model_version: str | None
    predictions: int = 0
    tasks_covered: int = 0
    from_prediction: int = 0
    unchanged: int = 0
    without_use: int = 0
    lead_times_with: dict[int, int] = field(default_factory=dict)
    lead_times_without: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PredictionRef:
    """What an annotation needs of its parent, the prediction group (all the task's rows of
    one model version, server.predictions.groups): the group's id (its first row's), its
    model version, and the result of all its rows together (rows in stored order)."""

    prediction_id: int
    result_json: str
    model_version: str | None


_group_of = _predictions.alias("named")
_PREDICTION_GROUP = (
    select(_predictions.c.id, _predictions.c.result_json, _predictions.c.model_version)
    .select_from(_group_of)
    .join(
        _predictions,
        and_(
            _predictions.c.task_id == _group_of.c.task_id,
            _predictions.c.model_version.is_not_distinct_from(_group_of.c.model_version),
        ),
    )
    .where(
        _group_of.c.id == bindparam("prediction_id"), _group_of.c.task_id == bindparam("task_id")
    )
    .order_by(_predictions.c.id)
)


async def get_task_prediction(
    conn: AsyncConnection, task_id: int, prediction_id: int
) -> PredictionRef | None:
    """The group of the task's prediction row prediction_id (any row of the group), or
    None when it is not one of the task's rows. One statement."""
    rows = (
        await conn.execute(_PREDICTION_GROUP, {"prediction_id": prediction_id, "task_id": task_id})
    ).all()
    if not rows:
        return None
    regions: list[Any] = []
    for row in rows:
        result = orjson.loads(row.result_json)
        if isinstance(result, list):
            regions.extend(result)
    return PredictionRef(rows[0].id, orjson.dumps(regions).decode(), rows[0].model_version)


async def list_model_versions(conn: AsyncConnection, project_id: str) -> list[str | None]:
    """The model versions of the project's predictions (from its counters: one row each)."""
    rows = await conn.execute(
        select(_stats.c.model_version).where(_stats.c.project_id == project_id)
    )
    return [row[0] for row in rows]


async def covering_versions(conn: AsyncConnection, task_id: int) -> list[str | None]:
    """The model versions with a prediction of the task."""
    rows = await conn.execute(
        select(_predictions.c.model_version).where(_predictions.c.task_id == task_id).distinct()
    )
    return [row[0] for row in rows]


async def add_model_usage(
    conn: AsyncConnection,
    project_id: str,
    model_version: str | None,
    *,
    from_prediction: int = 0,
    unchanged: int = 0,
    without_use: int = 0,
) -> None:
    """Move a version's annotation counters (the row exists once it has a prediction)."""
    await conn.execute(
        update(_stats)
        .where(
            _stats.c.project_id == project_id, _stats.c.version_key == version_key(model_version)
        )
        .values(
            from_prediction=_stats.c.from_prediction + from_prediction,
            unchanged=_stats.c.unchanged + unchanged,
            without_use=_stats.c.without_use + without_use,
        )
    )


async def add_lead_time(
    conn: AsyncConnection,
    project_id: str,
    model_version: str | None,
    *,
    with_prelabel: bool,
    seconds: float,
    delta: int,
) -> None:
    """Count one lead time in (delta 1) or out (delta -1) of a version's histogram.
    Callers hold the project's row lock, so no one else creates the row meanwhile."""
    key = and_(
        _lead_times.c.project_id == project_id,
        _lead_times.c.version_key == version_key(model_version),
        _lead_times.c.with_prelabel == with_prelabel,
        _lead_times.c.tenths == tenths(seconds),
    )
    result = await conn.execute(
        update(_lead_times).where(key).values(count=_lead_times.c.count + delta)
    )
    if result.rowcount == 0 and delta > 0:
        await conn.execute(
            insert(_lead_times).values(
                project_id=project_id,
                version_key=version_key(model_version),
                with_prelabel=with_prelabel,
                tenths=tenths(seconds),
                count=delta,
            )
        )


def _bucket(column: Any) -> Any:
    # a literal factor, so that the GROUP BY expression is the selected one (PostgreSQL
    # does not equate two bound parameters).
    return func.round(column * literal_column("10")).cast(BigInteger)


async def rebuild_model_stats(conn: AsyncConnection, project_id: str) -> None:
    """Recompute the project's counters from its predictions and annotations."""
    await conn.execute(delete(_stats).where(_stats.c.project_id == project_id))
    await conn.execute(delete(_lead_times).where(_lead_times.c.project_id == project_id))
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
    if not usage:
        return

    parent = _predictions.alias("parent")
    from_parent = (
        select(
            _annotations.c.id,
            _annotations.c.lead_time_seconds,
            _annotations.c.matches_parent,
            parent.c.model_version,
        )
        .join(parent, parent.c.id == _annotations.c.parent_prediction_id)
        .where(_annotations.c.project_id == project_id)
        .subquery()
    )
    rows = await conn.execute(
        select(
            from_parent.c.model_version,
            func.count(),
            func.sum(case((from_parent.c.matches_parent.is_(True), 1), else_=0).cast(Integer)),
        ).group_by(from_parent.c.model_version)
    )
    for version, count, unchanged in rows:
        if version in usage:
            usage[version].from_prediction = int(count)
            usage[version].unchanged = int(unchanged or 0)
    rows = await conn.execute(
        select(from_parent.c.model_version, _bucket(from_parent.c.lead_time_seconds), func.count())
        .where(from_parent.c.lead_time_seconds.is_not(None))
        .group_by(from_parent.c.model_version, _bucket(from_parent.c.lead_time_seconds))
    )
    for version, bucket, count in rows:
        if version in usage:
            usage[version].lead_times_with[int(bucket)] = int(count)

    # Annotations of a task a version covers that did not start from that version.
    covering = (
        select(_predictions.c.task_id, _predictions.c.model_version)
        .where(_predictions.c.project_id == project_id)
        .distinct()
        .subquery()
    )
    without = (
        select(covering.c.model_version, _annotations.c.lead_time_seconds)
        .select_from(_annotations)
        .join(covering, covering.c.task_id == _annotations.c.task_id)
        .outerjoin(parent, parent.c.id == _annotations.c.parent_prediction_id)
        .where(
            _annotations.c.project_id == project_id,
            or_(
                parent.c.id.is_(None),
                parent.c.model_version.is_distinct_from(covering.c.model_version),
            ),
        )
        .subquery()
    )
    rows = await conn.execute(
        select(without.c.model_version, func.count()).group_by(without.c.model_version)
    )
    for version, count in rows:
        if version in usage:
            usage[version].without_use = int(count)
    rows = await conn.execute(
        select(without.c.model_version, _bucket(without.c.lead_time_seconds), func.count())
        .where(without.c.lead_time_seconds.is_not(None))
        .group_by(without.c.model_version, _bucket(without.c.lead_time_seconds))
    )
    for version, bucket, count in rows:
        if version in usage:
            usage[version].lead_times_without[int(bucket)] = int(count)

    await conn.execute(
        insert(_stats),
        [
            {
                "project_id": project_id,
                "version_key": version_key(u.model_version),
                "model_version": u.model_version,
                "predictions": u.predictions,
                "tasks_covered": u.tasks_covered,
                "from_prediction": u.from_prediction,
                "unchanged": u.unchanged,
                "without_use": u.without_use,
            }
            for u in usage.values()
        ],
    )
    buckets = [
        {
            "project_id": project_id,
            "version_key": version_key(u.model_version),
            "with_prelabel": with_prelabel,
            "tenths": bucket,
            "count": count,
        }
        for u in usage.values()
        for with_prelabel, histogram in ((True, u.lead_times_with), (False, u.lead_times_without))
        for bucket, count in histogram.items()
    ]
    if buckets:
        await conn.execute(insert(_lead_times), buckets)


async def load_model_usage(conn: AsyncConnection, project_id: str) -> list[ModelUsage]:
    """The project's counters, one entry per model version."""
    usage: dict[str, ModelUsage] = {}
    rows = await conn.execute(select(_stats).where(_stats.c.project_id == project_id))
    for row in rows:
        usage[row.version_key] = ModelUsage(
            row.model_version,
            row.predictions,
            row.tasks_covered,
            row.from_prediction,
            row.unchanged,
            row.without_use,
        )
    rows = await conn.execute(
        select(_lead_times).where(_lead_times.c.project_id == project_id, _lead_times.c.count > 0)
    )
    for row in rows:
        entry = usage.get(row.version_key)
        if entry is not None:
            target = entry.lead_times_with if row.with_prelabel else entry.lead_times_without
            target[row.tenths] = int(row._mapping["count"])
    return list(usage.values())


def histogram_median(histogram: dict[int, int]) -> float | None:
    """The median of the values a {tenths: count} histogram holds, in seconds."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = sorted({(total - 1) // 2, total // 2})
    found: list[int] = []
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        while wanted and wanted[0] < seen:
            found.append(bucket)
            wanted.pop(0)
        if not wanted:
            break
    if len(found) == 1:
        found.append(found[0])
    return (found[0] + found[1]) / 20
