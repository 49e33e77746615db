"""Reading a large JSON import file as a stream (ijson on its C backend, yajl2_c).

An import file is spooled to disk (server.predictions.upload) and read from
there: the repeated part (AAP `tasks[]`, COCO `annotations[]`) is built one
item at a time, so memory holds one batch of items, never the document.
Measured at 100,000 predictions (19 MB), building the items with ijson's C
backend took 0.28 s against 0.49 s for orjson.loads of the whole file, and
a Python loop over its parse events 0.70 s; so items are built by ijson in
C, and Python walks parse events only to learn the document's shape when
that is cheap (the top-level keys before the first large list) or when the
file is already known to be malformed.

The file obeys the request rule on nesting (server.request_rules) before it is
read here: its bytes were checked as they arrived (server.json_depth),
which is what keeps the parser's memory linear in the file. Top-level members
the format does not read are skipped by the C parser and never built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Protocol, TypeVar

import ijson

from server.predictions.entries import invalid_file

T = TypeVar("T")

# The C backend, named: the pure-Python fallback would be ten times slower, and
# the wheels of every supported platform ship it.
_ijson = ijson.get_backend("yajl2_c")

# Bytes the parser reads at a time. Each read releases the GIL and waits to take it back
# from the threads busy with earlier batches (up to the 5 ms switch interval): larger
# reads wait less often, while 256 KiB still parses as fast as the default 64 KiB
# (1 MiB is a third slower: the buffer leaves the CPU's cache).
READ_BYTES = 256 * 1024

# The event that opens a container; anything else is a scalar.
START_ARRAY = "start_array"
START_MAP = "start_map"
_CLOSE = {"end_array", "end_map"}
_OPEN = {START_ARRAY, START_MAP}


class Source(Protocol):
    """A spooled import file: read from the start as often as needed."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def not_json(error: Exception) -> Exception:
    return invalid_file(f"the file is not valid JSON: {error}", error=str(error))


def stream_items(file: Source, prefix: str) -> Iterator[Any]:
    """The items at `prefix` (e.g. "tasks.item"), built one at a time, numbers as
    int/float; INVALID_IMPORT_FILE when the file is not JSON, wherever the fault."""
    file.seek(0)
    try:
        yield from _ijson.items(file, prefix, use_float=True, buf_size=READ_BYTES)
    except ijson.JSONError as error:
        raise not_json(error) from None


def top_level_kinds(
    file: Source, names: tuple[str, ...], *, stop_at: str | None = None
) -> dict[str, Any] | None:
    """For each of `names` present at the top of the document, the parse event of its
    value ("start_array", "start_map", "string", "number", ...) and, for a scalar, the
    value: {name: (event, value)}. None when the document is not an object.

    Stops as soon as every name, or `stop_at` (the large list), is seen; until then
    each event passes through Python.
    """
    file.seek(0)
    found: dict[str, Any] = {}
    depth = 0
    key: str | None = None
    try:
        for _, event, value in _ijson.parse(file, use_float=True):
            if depth == 0:
                if event != START_MAP:
                    return None
                depth = 1
                continue
            if depth == 1:
                if event == "map_key":
                    key = value
                    continue
                if event == "end_map":
                    break
                if key in names and key not in found:
                    found[key] = (event, None if event in _OPEN else value)
                    if len(found) == len(names) or key == stop_at:
                        break
                if event in _OPEN:
                    depth += 1
                continue
            if event in _OPEN:
                depth += 1
            elif event in _CLOSE:
                depth -= 1
    except ijson.JSONError as error:
        raise not_json(error) from None
    return found


def first_value(file: Source, name: str) -> tuple[bool, Any]:
    """(found, value) of the top-level member `name`, read by the C parser alone."""
    for value in stream_items(file, name):
        return True, value
    return False, None


def check_complete(file: Source) -> None:
    """Raise INVALID_IMPORT_FILE unless the whole file is one JSON value (one C pass)."""
    for _ in stream_items(file, "\x00"):
        pass


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` consecutive items."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def top_level_event(file: Source) -> str | None:
    """The parse event that opens the document ("start_array", "start_map", "string",
    ...); None for an empty file. Only the first token is read."""
    file.seek(0)
    try:
        for _, event, _ in _ijson.parse(file, use_float=True):
            return str(event)
    except ijson.JSONError as error:
        raise not_json(error) from None
    return None
