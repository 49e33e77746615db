"""Which task each entry of an import file means (seed 002, SPEC §4.5).

An entry's keys are tried in order, and the first that finds a task wins:

1. display_id "T-<id>": display ids are global, and a task of another project
   counts as not found, so a file can never write into a project its caller
   did not name (the lookup is scoped to the project, which is the same thing).
2. file_path within the project: the exact file_path first; then, for the
   entries still unmatched, by the last path segment of the task's URL: the
   given path must equal the task's path with its query and fragment removed,
   or be a trailing run of its segments ("x.jpg" and "images/x.jpg" both match
   "https://cdn/data/images/x.jpg?sig=1"). Several candidates: the first in
   project order.
3. external_id within the project (the `data[].id` given at init); the first
   in project order.

Every step is one bulk lookup for all entries, never a query per entry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncConnection

from server.predictions.entries import Entry
from storage.predictions import (
    TaskRef,
    find_tasks_by_external_ids,
    find_tasks_by_file_paths,
    find_tasks_by_ids,
    iter_task_file_paths,
)


async def match_entries(
    conn: AsyncConnection, project_id: str, entries: Sequence[Entry]
) -> list[TaskRef | None]:
    """The task of each entry (None: not found in the project), in entry order."""
    matched: list[TaskRef | None] = [None] * len(entries)
    keys = [entry.key for entry in entries]

    wanted_ids = [key.task_id for key in keys if key is not None and key.task_id is not None]
    if wanted_ids:
        # Scoped to the project: a task of another project is not found, as if absent.
        by_id = await find_tasks_by_ids(conn, project_id, wanted_ids)
        for index, key in enumerate(keys):
            if key is not None and key.task_id is not None:
                matched[index] = by_id.get(key.task_id)

    def unmatched_paths() -> dict[int, str]:
        return {
            index: key.file_path
            for index, key in enumerate(keys)
            if matched[index] is None and key is not None and key.file_path
        }

    pending = unmatched_paths()
    if pending:
        exact = await find_tasks_by_file_paths(conn, project_id, set(pending.values()))
        for index, path in pending.items():
            matched[index] = exact.get(path)
        pending = unmatched_paths()
    if pending:
        by_segment = await _find_by_trailing_segments(conn, project_id, set(pending.values()))
        for index, path in pending.items():
            matched[index] = by_segment.get(path)

    pending_external = {
        index: key.external_id
        for index, key in enumerate(keys)
        if matched[index] is None and key is not None and key.external_id
    }
    if pending_external:
        by_external = await find_tasks_by_external_ids(
            conn, project_id, set(pending_external.values())
        )
        for index, external_id in pending_external.items():
            matched[index] = by_external.get(external_id)
    return matched


def normalize_path(path: str) -> str:
    """A path or URL without query, fragment, percent-escapes or a trailing slash."""
    path = path.split("#", 1)[0].split("?", 1)[0].replace("\\", "/").rstrip("/")
    return unquote(path) if "%" in path else path


def last_segment(normalized: str) -> str:
    return normalized.rsplit("/", 1)[-1]


def _is_trailing_run(given: str, task_path: str) -> bool:
    return task_path == given or task_path.endswith("/" + given)


async def _find_by_trailing_segments(
    conn: AsyncConnection, project_id: str, given_paths: Collection[str]
) -> dict[str, TaskRef]:
    """given path -> first task of the project (in project order) it names by its last
    segments. One streamed scan of the project's file paths, keeping only candidates."""
    wanted: dict[str, str] = {}  # given path -> normalized, without leading "./" or "/"
    for given in given_paths:
        normalized = normalize_path(given).removeprefix("./").lstrip("/")
        if normalized:
            wanted[given] = normalized
    segments = {last_segment(normalized) for normalized in wanted.values()}
    candidates: dict[str, list[tuple[int, str]]] = {}
    async for task_id, file_path in iter_task_file_paths(conn, project_id):
        normalized = normalize_path(file_path)
        segment = last_segment(normalized)
        if segment in segments:
            candidates.setdefault(segment, []).append((task_id, normalized))

    chosen: dict[str, int] = {}
    for given, normalized in wanted.items():
        for task_id, task_path in candidates.get(last_segment(normalized), ()):
            if _is_trailing_run(normalized, task_path):
                chosen[given] = task_id
                break
    refs = await find_tasks_by_ids(conn, project_id, set(chosen.values()))
    return {given: refs[task_id] for given, task_id in chosen.items() if task_id in refs}
