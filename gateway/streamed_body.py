"""Splitting a JSON object body around its one large array, chunk by chunk.

A body such as `{"name": "x", "data": [{…}, {…}, …], "tags": […]}` is read as
three parts: the members before the array (the head), the array's items in
chunks of about `chunk_bytes`, and the members after it (the tail). Each part
is parsed by orjson on its own, so at any moment only one chunk of items is
alive as Python objects, whatever the body's size.

Finding the parts costs no scan in Python: the array is located with one
regular-expression search, and a chunk ends at a `},{` between two items. A
cut that falls inside a string or a nested value cannot parse as a list of
whole items (its brackets or quotes do not balance), so a chunk that parses
is exactly a run of items; when one does not, the next cut is tried.

Anything this reading does not expect (items that are not objects, the field
twice, a member both before and after the array, malformed JSON, …) raises
`IrregularBody`: the caller then parses the whole body the usual way, which
gives such bodies exactly their usual meaning or their usual error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

# Cuts tried for one chunk before the body is declared irregular.
MAX_CUTS_TRIED = 8
_BETWEEN_ITEMS = re.compile(rb"\}\s*,\s*\{")
_WHITESPACE = b" \t\r\n"
_CLOSE_BRACE = ord("}")


class IrregularBody(Exception):
    """The body is not a plain object around one array of objects: parse it whole."""


class StreamedBody:
    """The head, items and tail of a JSON object body (see module docstring)."""

    def __init__(self, raw: bytes | bytearray, field: str, *, chunk_bytes: int) -> None:
        self._raw = raw
        self._field = field
        self._chunk_bytes = chunk_bytes
        key = re.compile(rb'"' + re.escape(field.encode()) + rb'"\s*:\s*\[')
        match = key.search(raw)
        if match is None:
            raise IrregularBody
        self.head = self._members(raw[: match.start()].rstrip(_WHITESPACE), before=True)
        self._start = match.end()
        self._end = -1  # the index of the array's closing bracket, once found
        self.tail: dict[str, Any] = {}

    def chunks(self) -> Iterator[list[Any]]:
        """The array's items, a list per chunk; then `tail` is set."""
        raw = self._raw
        pos = _skip_whitespace(raw, self._start)
        if raw[pos : pos + 1] == b"]":
            self._finish(pos)
            return
        while True:
            if raw[pos : pos + 1] != b"{":
                raise IrregularBody
            cut = _BETWEEN_ITEMS.search(raw, pos + self._chunk_bytes)
            tried = 0
            while cut is not None and tried < MAX_CUTS_TRIED:
                items = _items(raw, pos, cut.start() + 1)
                if items is not None:
                    yield items
                    pos = cut.end() - 1
                    break
                tried += 1
                cut = _BETWEEN_ITEMS.search(raw, cut.end() - 1)
            else:
                items, end = self._last_chunk(pos)
                yield items
                self._finish(end)
                return

    def _last_chunk(self, pos: int) -> tuple[list[Any], int]:
        """The items up to the array's end, tried from the body's end backwards
        (the tail, which may hold brackets of its own, is short)."""
        raw = self._raw
        end = len(raw)
        for _ in range(MAX_CUTS_TRIED):
            end = raw.rfind(b"]", pos, end)
            if end < 0:
                break
            last = end - 1
            while last > pos and raw[last] in _WHITESPACE:
                last -= 1
            if raw[last] == _CLOSE_BRACE:
                items = _items(raw, pos, last + 1)
                if items is not None:
                    return items, end
        raise IrregularBody

    def _finish(self, end: int) -> None:
        rest = self._raw[end + 1 :].strip(_WHITESPACE)
        if rest == b"}":
            self.tail = {}
        elif rest.startswith(b",") and rest[1:].strip(_WHITESPACE) != b"}":
            self.tail = self._members(b"{" + rest[1:], before=False)
        else:
            raise IrregularBody
        if self._field in self.tail or not self.tail.keys().isdisjoint(self.head):
            raise IrregularBody

    def _members(self, text: bytes | bytearray, *, before: bool) -> dict[str, Any]:
        if before:
            if text.endswith(b","):
                text = text[:-1] + b"}"
            elif text.lstrip(_WHITESPACE) == b"{":
                text += b"}"
            else:
                raise IrregularBody
        try:
            members = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise IrregularBody from None
        if members.__class__ is not dict or self._field in members:
            raise IrregularBody
        return members


def _skip_whitespace(raw: bytes | bytearray, pos: int) -> int:
    while pos < len(raw) and raw[pos] in _WHITESPACE:
        pos += 1
    return pos


def _items(raw: bytes | bytearray, start: int, end: int) -> list[Any] | None:
    """raw[start:end] as a list of items, or None when it is not a run of whole items."""
    try:
        items = orjson.loads(b"[" + raw[start:end] + b"]")
    except orjson.JSONDecodeError:
        return None
    return items  # type: ignore[no-any-return]
