"""How one annotation counts in its task's prediction stats (GetPredictionStats).

For every model version with a prediction of the annotated task:

* the annotation started from one of that version's predictions (its parent):
  it counts in annotations_from_prediction, in accepted_unchanged when its
  result equals the parent's (server.workflow.prelabel), and its lead time in
  the version's "with pre-label" median;
* otherwise (no parent, or another version's): it counts in
  annotated_without_prediction_use, and its lead time in the "without" median.

`count_annotation` applies one annotation with sign +1 (submitted, or the new
state of an update) or -1 (the old state of an update), in the transaction
that writes it; storage.prediction_stats rebuilds the same counters from the
rows when predictions are imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.prediction_stats import add_lead_time, add_model_usage, covering_versions


@dataclass(frozen=True, slots=True)
class AnnotationUsage:
    """What of an annotation the stats count."""

    parent_version: str | None
    has_parent: bool
    matches_parent: bool | None
    lead_time_seconds: float | None


async def count_annotation(
    conn: AsyncConnection, project_id: str, task_id: int, usage: AnnotationUsage, *, sign: int
) -> None:
    for version in await covering_versions(conn, task_id):
        from_it = usage.has_parent and usage.parent_version == version
        if from_it:
            await add_model_usage(
                conn,
                project_id,
                version,
                from_prediction=sign,
                unchanged=sign if usage.matches_parent else 0,
            )
        else:
            await add_model_usage(conn, project_id, version, without_use=sign)
        if usage.lead_time_seconds is not None:
            await add_lead_time(
                conn,
                project_id,
                version,
                with_prelabel=from_it,
                seconds=usage.lead_time_seconds,
                delta=sign,
            )
