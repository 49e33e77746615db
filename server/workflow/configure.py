"""ConfigureProject: labels and config (draft|configuring -> configuring|ready)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.access import get_visible_project, require_admin
from server.auth import Caller
from server.lifecycle.rules import configured_status, invalid_state
from server.projects.label_config import build_label_config, check_label_config
from server.projects.validation import TagSpec, check_labels, invalid
from storage.database import Database
from storage.projects import LabelRecord, list_labels, replace_labels, set_project_fields
from storage.types import utcnow

MAX_LABEL_CONFIG_LENGTH = 1_000_000


@dataclass(frozen=True, slots=True)
class Configured:
    project_id: str
    status: str
    labels: list[LabelRecord]
    config: str


async def configure_project(
    database: Database,
    caller: Caller,
    project_id: str,
    *,
    labels: Sequence[TagSpec],
    label_config: str | None,
    ready: bool,
) -> Configured:
    """Replace labels (regenerating the config) and/or the config; move to configuring|ready."""
    require_admin(caller)
    new_labels = check_labels(labels, field="labels") if labels else None
    if label_config is not None:
        if len(label_config) > MAX_LABEL_CONFIG_LENGTH:
            raise invalid("label_config", "label_config is too long")
        check_label_config(label_config)
    now = utcnow()
    async with database.transaction() as conn:
        project = await get_visible_project(conn, caller, project_id, for_update=True)
        status = configured_status(project.status, ready=ready)
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
    return Configured(project_id=project_id, status=status, labels=current, config=config)
