"""Giving freed heap memory back to the operating system after bulk work.

A large init or import allocates hundreds of megabytes in many small blocks
and frees them all at its end, but glibc keeps most of the freed memory in its
arenas (only blocks above its mmap threshold go back at once), so the idle
process would keep the peak of its largest request. `malloc_trim(0)` hands the
free pages back; it costs a few milliseconds, so it is called after large
requests only. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim = _malloc_trim()


def release_free_memory() -> None:
    """Return the heap's free pages to the operating system (glibc only)."""
    if _trim is not None:
        _trim(0)
