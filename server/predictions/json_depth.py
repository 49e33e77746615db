"""The nesting rule on an import file's raw bytes, checked while the file arrives.

A file nested deeper than MAX_JSON_DEPTH (server.request_rules) is refused
before any parser sees it. Parsing it first is what must not happen: the C
parser (yajl through ijson) gives every parse event the path of its container
as a string ("item.item.item…"), so a file of n nested brackets makes events
whose paths add up to n² characters; a 39 KB file of 20,000 levels made the
server's memory grow by 900 MB before any item could be checked.

`DepthScan.feed` takes the file chunk by chunk and keeps only the depth, whether
a string is open and whether a backslash is pending, so its memory is that of
one chunk. Each chunk goes through C-speed byte operations only:

1. escaped backslashes and escaped quotes are removed (`bytes.replace`, left to
   right, which pairs a run of backslashes as JSON does);
2. every byte but the four brackets and the quote is deleted (`bytes.translate`);
3. adjacent quotes are removed: an empty string, or the end of one string and
   the start of the next with no bracket between; quotes are left only around
   strings holding a bracket, which are cut out;
4. the brackets left are the structure: a chunk whose openers cannot reach the
   limit from the current depth is decided by counting, any other by its
   running sum (`itertools.accumulate`).

Measured on a 16 MB prediction file: 0.02 s, against 0.8 s to parse it.
A file that is not JSON may be counted differently from how a parser reads
it; the parser refuses it afterwards in any case.
"""

from __future__ import annotations

from array import array
from itertools import accumulate

from server.request_rules import MAX_JSON_DEPTH, too_deep

_OPEN = 1
_CLOSE = 0xFF  # -1 as a signed byte
_STEPS = bytes(_OPEN if byte in b"[{" else _CLOSE if byte in b"]}" else 0 for byte in range(256))
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')


class DepthScan:
    """The depth of a JSON text fed in chunks; too_deep(field) once it passes the limit."""

    def __init__(self, field: str = "file") -> None:
        self._field = field
        self._depth = 0
        self._in_string = False
        self._backslash = b""  # an odd run of backslashes ended the last chunk

    def feed(self, chunk: bytes) -> None:
        data = self._backslash + chunk if self._backslash else chunk
        run = _trailing_backslashes(data)
        self._backslash = b"\\" if run % 2 else b""
        if run:
            data = data[: len(data) - run]
        if b"\\" in data:
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        kept = data.translate(None, _NOT_STRUCTURE)
        if self._in_string:
            kept = b'"' + kept
        if b'"' in kept:
            kept = kept.replace(b'""', b"")
            parts = kept.split(b'"')
            self._in_string = len(parts) % 2 == 0
            kept = b"".join(parts[::2])
        else:
            self._in_string = False
        self._add(kept.translate(_STEPS))

    def _add(self, steps: bytes) -> None:
        openers = steps.count(_OPEN)
        closers = len(steps) - openers
        if self._depth + openers > MAX_JSON_DEPTH:
            moves = array("b", steps)
            if max(accumulate(moves, initial=self._depth)) > MAX_JSON_DEPTH:
                raise too_deep(self._field)
        # below zero the text is not JSON (the parser says so); counting on from zero
        # can only find it deeper than it is
        self._depth = max(self._depth + openers - closers, 0)


def _trailing_backslashes(data: bytes) -> int:
    end = len(data)
    start = end
    while start and data[start - 1] == 0x5C:
        start -= 1
    return end - start
