"""ConfigureProject: labels and config (draft|configuring -> configuring|ready), and the
model version that pre-labels the project.

* Labels and config change only while the project is draft or configuring;
  the call moves it to configuring, or ready when asked.
* prelabel_model_version chooses which model version's predictions pre-label
  the project's tasks (server.predictions.groups); it must be one of the
  project's model versions, and "" returns to the default (the version
  imported last on each task). A call that changes nothing but the version
  is allowed in every status and leaves the status as it is: it changes what
  the next task shows, not the labelling setup.
* quality (server.workflow.quality_settings): review, overlap, ground truth and
  the IoU threshold; like the version, allowed in every status, and a call that
  changes only these leaves the status as it is. The response carries the
  settings in force (every field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.access import get_visible_project, require_admin
from server.auth import Caller
from server.lifecycle.rules import configured_status, invalid_state
from server.predictions.entries import MAX_MODEL_VERSION_LENGTH
from server.projects.label_config import build_label_config, check_label_config
from server.projects.validation import TagSpec, check_labels, invalid
from server.webhooks import events as webhook_events
from server.workflow.common import LISTED_IDS
from server.workflow.quality_settings import QualityChange, apply_quality, check_quality
from storage.database import Database
from storage.prediction_stats import list_model_versions
from storage.projects import (
    LabelRecord,
    get_prelabel_model_version,
    list_labels,
    replace_labels,
    set_prelabel_model_version,
    set_project_fields,
)
from storage.quality_settings import QualitySettingsRecord
from storage.types import utcnow

MAX_LABEL_CONFIG_LENGTH = 1_000_000
PRELABEL_FIELD = "prelabel_model_version"


@dataclass(frozen=True, slots=True)
class Configured:
    project_id: str
    status: str
    labels: list[LabelRecord]
    config: str
    prelabel_model_version: str | None = None
    quality: QualitySettingsRecord | None = None


async def configure_project(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    labels: Sequence[TagSpec],
    label_config: str | None,
    ready: bool,
    prelabel_model_version: str | None = None,
    quality: QualityChange | None = None,
) -> Configured:
    """Replace labels (regenerating the config) and/or the config; move to configuring|ready;
    choose the pre-labelling model version (module docstring)."""
    require_admin(caller)
    new_labels = check_labels(labels, field="labels") if labels else None
    if label_config is not None:
        if len(label_config) > MAX_LABEL_CONFIG_LENGTH:
            raise invalid("label_config", "label_config is too long")
        check_label_config(label_config)
    if prelabel_model_version is not None:
        _check_version_text(prelabel_model_version)
    change = check_quality(quality or QualityChange())
    # An empty `quality` reads the settings (a front end's settings form) in any status.
    if (prelabel_model_version is not None or quality is not None) and (
        not labels and label_config is None and not ready
    ):
        return await _choose_settings_only(
            database, caller, project_id, prelabel_model_version, change
        )
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        status = configured_status(project.status, ready=ready)
        settings, _ = await apply_quality(conn, project, change, now=now)
        if new_labels is not None:
            await replace_labels(
                conn, project_id, [LabelRecord(name, color) for name, color in new_labels]
            )
        current = await list_labels(conn, project_id)
        if ready and not current:
            raise invalid_state(
                "project has no labels yet; give labels before marking it ready",
                project_status=project.status,
            )
        if label_config is not None:
            config = label_config
        elif new_labels is not None:
            config = build_label_config(project.task_type, new_labels)
        else:
            config = project.label_config
        await set_project_fields(conn, project_id, now=now, status=status, label_config=config)
        await webhook_events.project_status_changed(
            conn, project_id=project_id, before=project.status, after=status
        )
        chosen = await _store_version(conn, project_id, prelabel_model_version, now=now)
    return Configured(project_id, status, current, config, chosen, settings)


def _check_version_text(version: str) -> None:
    if len(version) > MAX_MODEL_VERSION_LENGTH:
        raise invalid(
            PRELABEL_FIELD, f"{PRELABEL_FIELD} is at most {MAX_MODEL_VERSION_LENGTH} characters"
        )


async def _choose_settings_only(
    database: Database,
    caller: Caller,
    project_id: str,
    version: str | None,
    change: QualityChange,
) -> Configured:
    """Only the pre-labelling version and/or the quality settings change: any status,
    which stays as it is (a change of annotations_per_task may complete the project, or
    bring it back to in_progress, through the lifecycle)."""
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        settings, status = await apply_quality(conn, project, change, now=now)
        chosen = await _store_version(conn, project_id, version, now=now)
        labels = await list_labels(conn, project_id)
    return Configured(project_id, status, labels, project.label_config, chosen, settings)


async def _store_version(
    conn: AsyncConnection, project_id: str, version: str | None, *, now: datetime
) -> str | None:
    """Store the chosen version ("" for the default) when given; the version in force."""
    if version is None:
        return await get_prelabel_model_version(conn, project_id)
    chosen = version or None
    if chosen is not None:
        known = await list_model_versions(conn, project_id)
        if chosen not in known:
            listed = sorted(v for v in known if v is not None)[:LISTED_IDS]
            raise invalid(
                PRELABEL_FIELD,
                f"the project has no predictions of model version {chosen!r}"
                + (f" (it has {', '.join(map(repr, listed))})" if listed else ""),
                model_versions=listed,
            )
    await set_prelabel_model_version(conn, project_id, chosen, now=now)
    return chosen
