"""Which task each entry of an import file means (seed 002, SPEC §4.5).

An entry's keys are tried in order, and the first that finds a task wins:

1. display_id "T-<id>": display ids are global, and a task of another project
   counts as not found, so a file can never write into a project its caller
   did not name (the lookup is scoped to the project, which is the same thing).
2. image name (COCO file_name): the exported name of the task's image
   (server.images), exactly. One task: matched; several (the same path twice
   in the project): an error entry naming them.
3. file_path within the project: the exact file_path first; then, for the
   entries still unmatched, by the last path segment of the task's URL: the
   given path must equal the task's path with its query and fragment removed,
   or be a trailing run of its segments ("x.jpg" and "images/x.jpg" both match
   "https://cdn/data/images/x.jpg?sig=1"). Several candidates: the first in
   project order for AAP files (SPEC §4.5), with a warning in the response
   naming the candidates (Entry.candidates); for COCO files (`unique` keys) an
   error entry naming them, never a silent first match. COCO keys skip the
   exact step: the trailing-run step also finds an exact path, and sees every
   candidate.
4. external_id within the project (the `data[].id` given at init); the first
   in project order.

An entry that names several tasks gets its `problem` set here.

The tasks come from one of two sources that answer the same questions: bulk
queries (IN-lists in chunks) when the file names a small part of the project,
or one streamed pass over the project when it names a large part, which is
several times cheaper per task. Never a query per entry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncConnection

from server.display_ids import display_id
from server.images import NameParts, image_file_name
from server.predictions.entries import Entry, TaskKey
from storage.predictions import (
    TaskRef,
    find_tasks_by_external_ids,
    find_tasks_by_file_paths,
    find_tasks_by_ids,
    iter_project_tasks,
)

# Read the whole project when the file names at least this share of its tasks.
SCAN_SHARE = 1 / 3
# How many candidates an "names several tasks" reason lists.
CANDIDATES_SHOWN = 20


async def match_entries(
    conn: AsyncConnection,
    project_id: str,
    entries: Sequence[Entry],
    *,
    project_size: int,
    scan_share: float = SCAN_SHARE,
) -> list[TaskRef | None]:
    """The task of each entry (None: not found in the project), in entry order.

    project_size (the project's task count) picks the source; scan_share is
    exposed so that tests can run both sources on the same entries.
    """
    keys = [entry.key for entry in entries]
    named = sum(1 for key in keys if key is not None)
    source: _Source
    if named and named >= project_size * scan_share:
        source = await _ProjectSnapshot.load(conn, project_id, keys)
    else:
        source = _Queries(conn, project_id)

    matched: list[TaskRef | None] = [entry.task for entry in entries]

    ids = {i: key.task_id for i, key in enumerate(keys) if key and key.task_id is not None}
    if ids:
        by_id = await source.by_ids(set(ids.values()))
        for index, task_id in ids.items():
            matched[index] = by_id.get(task_id)

    names = {i: key.image_name for i, key in enumerate(keys) if key and key.image_name}
    if names:
        by_name = await source.by_image_names(set(names.values()))
        for index, name in names.items():
            _settle(entries[index], matched, index, by_name.get(name, []), "file_name", name)

    paths = {
        i: key.file_path
        for i, key in enumerate(keys)
        if key and key.file_path and not key.unique and matched[i] is None
    }
    if paths:
        by_path = await source.by_file_paths(set(paths.values()))
        for index, path in paths.items():
            _take_first(entries[index], matched, index, by_path.get(path, []), path)

    paths = {
        i: key.file_path
        for i, key in enumerate(keys)
        if key and key.file_path and matched[i] is None and entries[i].problem is None
    }
    if paths:
        by_trailing = await source.by_trailing_segments(set(paths.values()))
        for index, path in paths.items():
            found = by_trailing.get(path, [])
            key = keys[index]
            if key is not None and key.unique:
                _settle(entries[index], matched, index, found, "file_name", path)
            else:
                _take_first(entries[index], matched, index, found, path)

    external = {
        i: key.external_id
        for i, key in enumerate(keys)
        if key and key.external_id and matched[i] is None
    }
    if external:
        by_external = await source.by_external_ids(set(external.values()))
        for index, external_id in external.items():
            matched[index] = by_external.get(external_id)
    return matched


async def match_keys(
    conn: AsyncConnection, project_id: str, keys: Sequence[TaskKey]
) -> list[TaskRef | str | None]:
    """Each key's task, the reason it cannot be used (it names several tasks), or None
    (not found), in one pass over the project whatever the number of keys: how a COCO
    file's images are matched, once per file, before its annotations are read."""
    entries = [Entry(task_match=None, key=key) for key in keys]
    tasks = await match_entries(conn, project_id, entries, project_size=0)
    return [entry.problem or task for entry, task in zip(entries, tasks, strict=True)]


def _take_first(
    entry: Entry, matched: list[TaskRef | None], index: int, found: Sequence[TaskRef], path: str
) -> None:
    """Match an AAP entry to the first task its file_path names (seed 002), keeping the
    others as candidates when there are several (the response warns about them)."""
    if not found:
        return
    matched[index] = found[0]
    if len(found) > 1:
        entry.candidates = list(found[:CANDIDATES_SHOWN])
        entry.ambiguous_path = path


def _settle(
    entry: Entry,
    matched: list[TaskRef | None],
    index: int,
    found: Sequence[TaskRef],
    field: str,
    value: str,
) -> None:
    """Match an entry to its one candidate, or say that it names several."""
    if len(found) == 1:
        matched[index] = found[0]
    elif len(found) > 1:
        shown = ", ".join(display_id(task.task_id) for task in found[:CANDIDATES_SHOWN])
        more = ", …" if len(found) > CANDIDATES_SHOWN else ""
        reason = (
            f"{field} {value!r} names {len(found)} tasks of the project ({shown}{more}); "
            "give each image a name that only one task has, such as the exported file_name"
        )
        entry.problem = f"{reason} ({entry.where})" if entry.where else reason


def normalize_path(path: str) -> str:
    """A path or URL without fragment, query, percent-escapes or a trailing slash, with
    "/" separators. (Runs once per task of a project scan: each step only when needed.)"""
    if "#" in path:
        path = path.partition("#")[0]
    if "?" in path:
        path = path.partition("?")[0]
    if "\\" in path:
        path = path.replace("\\", "/")
    if path.endswith("/"):
        path = path.rstrip("/")
    return unquote(path) if "%" in path else path


def last_segment(normalized: str) -> str:
    return normalized.rsplit("/", 1)[-1]


def _given_paths(paths: Iterable[str]) -> dict[str, str]:
    """given path -> normalized, without a leading "./" or "/" (empty ones dropped)."""
    wanted: dict[str, str] = {}
    for given in paths:
        normalized = normalize_path(given).removeprefix("./").lstrip("/")
        if normalized:
            wanted[given] = normalized
    return wanted


def _choose_by_trailing_segments(
    wanted: dict[str, str], candidates: dict[str, list[tuple[TaskRef, str]]]
) -> dict[str, list[TaskRef]]:
    """For each given path, every candidate (in project order) that it names."""
    chosen: dict[str, list[TaskRef]] = {}
    for given, normalized in wanted.items():
        found = [
            task
            for task, task_path in candidates.get(last_segment(normalized), ())
            if task_path == normalized or task_path.endswith("/" + normalized)
        ]
        if found:
            chosen[given] = found
    return chosen


_UNNAMED = ("", ".", "..")


def _first_named_segment(path: str) -> str:
    """The first segment an exported name is made of (server.images.path_segments)."""
    rest = path
    while rest:
        segment, _, rest = rest.partition("/")
        if segment not in _UNNAMED:
            return segment
    return ""


def _last_named_segment(path: str) -> str:
    """The last segment an exported name is made of (server.images.path_segments)."""
    rest = path
    while rest:
        rest, _, segment = rest.rpartition("/")
        if segment not in _UNNAMED:
            return segment
    return ""


class _ImageNameLookup:
    """Which wanted exported name, if any, a task's image has.

    The whole name is computed only for images whose last path segment can end
    one of the wanted names (server.images.may_be_named): computing it for
    every task of a large project would cost more than the rest of the scan.
    """

    def __init__(self, wanted: Collection[str]) -> None:
        self.wanted = frozenset(wanted)
        self._parts = NameParts.of(self.wanted)

    def name_of(self, file_path: str, normalized: str) -> str | None:
        """The wanted name of the image at file_path (normalized: normalize_path's)."""
        if not self.wanted:
            return None
        if self._parts is not None:
            path = normalized.partition("://")[2].partition("/")[2] if "://" in normalized else ""
            first = _first_named_segment(path)
            if not self._parts.may_name(file_path, first, _last_named_segment(normalized)):
                return None
        name = image_file_name(file_path)
        return name if name in self.wanted else None


class _Source:
    async def by_ids(self, values: Collection[int]) -> dict[int, TaskRef]:
        raise NotImplementedError

    async def by_image_names(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        raise NotImplementedError

    async def by_file_paths(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        raise NotImplementedError

    async def by_trailing_segments(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        raise NotImplementedError

    async def by_external_ids(self, values: Collection[str]) -> dict[str, TaskRef]:
        raise NotImplementedError


class _Queries(_Source):
    """Bulk queries for just the keys still unmatched."""

    def __init__(self, conn: AsyncConnection, project_id: str) -> None:
        self._conn = conn
        self._project_id = project_id

    async def by_ids(self, values: Collection[int]) -> dict[int, TaskRef]:
        return await find_tasks_by_ids(self._conn, self._project_id, values)

    async def by_image_names(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        found: dict[str, list[TaskRef]] = {}
        names = _ImageNameLookup(values)
        project_id = self._project_id
        async for rows in iter_project_tasks(self._conn, project_id, with_file_path_only=True):
            for task_id, _, file_path, metadata_json in rows:
                assert file_path is not None
                name = names.name_of(file_path, normalize_path(file_path))
                if name is not None:
                    found.setdefault(name, []).append(TaskRef(task_id, project_id, metadata_json))
        return found

    async def by_file_paths(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        return await find_tasks_by_file_paths(self._conn, self._project_id, values)

    async def by_trailing_segments(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        wanted = _given_paths(values)
        segments = {last_segment(normalized) for normalized in wanted.values()}
        candidates: dict[str, list[tuple[TaskRef, str]]] = {}
        project_id = self._project_id
        async for rows in iter_project_tasks(self._conn, project_id, with_file_path_only=True):
            for task_id, _, file_path, metadata_json in rows:
                assert file_path is not None
                normalized = normalize_path(file_path)
                segment = last_segment(normalized)
                if segment in segments:
                    task = TaskRef(task_id, project_id, metadata_json)
                    candidates.setdefault(segment, []).append((task, normalized))
        return _choose_by_trailing_segments(wanted, candidates)

    async def by_external_ids(self, values: Collection[str]) -> dict[str, TaskRef]:
        return await find_tasks_by_external_ids(self._conn, self._project_id, values)


class _ProjectSnapshot(_Source):
    """Every task the file may name, read in one pass over the project."""

    def __init__(self) -> None:
        self._ids: dict[int, TaskRef] = {}
        self._file_paths: dict[str, list[TaskRef]] = {}
        self._image_names: dict[str, list[TaskRef]] = {}
        self._external_ids: dict[str, TaskRef] = {}
        self._wanted_paths: dict[str, str] = {}
        self._candidates: dict[str, list[tuple[TaskRef, str]]] = {}

    @classmethod
    async def load(
        cls, conn: AsyncConnection, project_id: str, keys: Sequence[TaskKey | None]
    ) -> _ProjectSnapshot:
        snapshot = cls()
        ids = {key.task_id for key in keys if key is not None and key.task_id is not None}
        paths = {key.file_path for key in keys if key is not None and key.file_path}
        names = _ImageNameLookup(
            {key.image_name for key in keys if key is not None and key.image_name}
        )
        external_ids = {key.external_id for key in keys if key is not None and key.external_id}
        snapshot._wanted_paths = _given_paths(paths)
        segments = {last_segment(normalized) for normalized in snapshot._wanted_paths.values()}
        async for rows in iter_project_tasks(conn, project_id):
            for task_id, external_id, file_path, metadata_json in rows:
                task = TaskRef(task_id, project_id, metadata_json)
                if task_id in ids:
                    snapshot._ids[task_id] = task
                if external_id is not None and external_id in external_ids:
                    snapshot._external_ids.setdefault(external_id, task)
                if file_path is None or not paths:
                    continue
                if file_path in paths:
                    snapshot._file_paths.setdefault(file_path, []).append(task)
                normalized = normalize_path(file_path)
                segment = last_segment(normalized)
                if names.wanted:
                    name = names.name_of(file_path, normalized)
                    if name is not None:
                        snapshot._image_names.setdefault(name, []).append(task)
                if segment in segments:
                    snapshot._candidates.setdefault(segment, []).append((task, normalized))
        return snapshot

    async def by_ids(self, values: Collection[int]) -> dict[int, TaskRef]:
        return self._ids

    async def by_image_names(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        return self._image_names

    async def by_file_paths(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        return self._file_paths

    async def by_trailing_segments(self, values: Collection[str]) -> dict[str, list[TaskRef]]:
        wanted = {path: self._wanted_paths[path] for path in values if path in self._wanted_paths}
        return _choose_by_trailing_segments(wanted, self._candidates)

    async def by_external_ids(self, values: Collection[str]) -> dict[str, TaskRef]:
        return self._external_ids
