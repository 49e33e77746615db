"""GetPredictionStats: how good each model version's pre-labels were (SPEC §4.3a).

Per model_version of the project's predictions:

* predictions, tasks_covered: its predictions and the tasks with one;
* annotations_from_prediction: annotations whose parent_prediction_id is one
  of them, split into accepted_unchanged (equal to the parent by the rule of
  server.workflow.prelabel, decided when the annotation is written or updated)
  and modified;
* annotated_without_prediction_use: annotations of tasks it covers that did
  not start from one of its predictions (no parent, or another version's);
* the median lead time of each group (annotations without a lead time are left
  out; null when none has one), exact to a tenth of a second.

The figures are counters (storage.prediction_stats, moved by server.workflow.usage
when an annotation is written, rebuilt when predictions are imported), so
reading them costs a few rows per model version whatever the project's size.
Administrators who see the project only.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.access import get_visible_project, require_admin
from server.auth import Caller
from storage.database import Database
from storage.prediction_stats import histogram_median, load_model_usage


@dataclass(frozen=True, slots=True)
class ModelStats:
    model_version: str | None
    predictions: int
    tasks_covered: int
    annotations_from_prediction: int
    accepted_unchanged: int
    modified: int
    annotated_without_prediction_use: int
    median_lead_time_with_prelabel_seconds: float | None
    median_lead_time_without_prelabel_seconds: float | None


async def get_prediction_stats(
    database: Database, caller: Caller, project_id: str
) -> list[ModelStats]:
    """One entry per model version, ordered by version (null last)."""
    require_admin(caller)
    async with database.read() as conn:
        await get_visible_project(conn, caller, project_id)
        usage = await load_model_usage(conn, project_id)
    usage.sort(key=lambda u: (u.model_version is None, u.model_version or ""))
    return [
        ModelStats(
            model_version=u.model_version,
            predictions=u.predictions,
            tasks_covered=u.tasks_covered,
            annotations_from_prediction=u.from_prediction,
            accepted_unchanged=u.unchanged,
            modified=u.from_prediction - u.unchanged,
            annotated_without_prediction_use=u.without_use,
            median_lead_time_with_prelabel_seconds=histogram_median(u.lead_times_with),
            median_lead_time_without_prelabel_seconds=histogram_median(u.lead_times_without),
        )
        for u in usage
    ]
