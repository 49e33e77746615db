"""The rules about a task's image that exports and imports share: its exported
file name and its size in pixels.

Exported file name
    The image's URL path (the host, query and fragment left out), percent-
    decoded, with its folders joined by "__" in front of the file name:
    `https://cdn.example.com/data/cam_a/0001.jpg` -> `data__cam_a__0001.jpg`.
    Each part keeps letters, digits, `.`, `-` and `_` (anything else becomes
    `_`), the suffix is lowercased and an image suffix Ultralytics knows
    (else `.jpg` is appended). A name longer than MAX_NAME_CHARS keeps its
    last parts behind a short hash of the whole path. The name depends on the
    URL alone, so a project with the same URLs gives the same names, and COCO
    prediction import matches a `file_name` against it exactly.
    Within one export, a stem already given to an earlier task (the same path
    twice, or on two hosts, or another suffix: `x.png` and `x.jpg`, or another
    case: `X.png` and `x.png`) gets the task's display id: `0001__T-42.jpg`,
    so image names, YOLO label files and VOC xml files never collide, also
    on case-insensitive file systems.

Pixel size
    The best size known, in this order: the task metadata's `width`/`height`
    (else its `original_width`/`original_height`), as the data's owner gave
    it; then the size a front end recorded when the image was annotated (the
    task's image_width/image_height); then the first region of a result that
    carries `original_width` and `original_height`. Each a positive finite
    number, rounded to whole pixels. None when none of them is known.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from annotation_api.errors import DomainError, ErrorCode
from server.display_ids import display_id
from server.vocabulary import IMAGE_TASK_TYPES

# Ultralytics' image suffixes; anything else is assumed to be a JPEG.
IMAGE_SUFFIXES = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
)
FOLDER_SEPARATOR = "__"
# Longest exported name without its suffix (file systems allow 255 bytes; CJK
# characters take 3 bytes each in UTF-8).
MAX_NAME_CHARS = 80
HASH_CHARS = 8
# what a part may not hold; "/" separates the parts while they are cleaned in one pass.
_UNSAFE = re.compile(r"[^\w./-]+")
# scheme, authority (up to / ? #), then the path (up to ? #), as urlsplit parses
# them; URLs that urlsplit would clean up or validate first take the slow path.
_WEB_URL = re.compile(r"https?://[^/?#]*([^?#]*)")


def _url_path(location: str) -> str:
    """urlsplit(location).path, without urlsplit's cost for the plain
    http(s) URLs that make up nearly every image task."""
    if location.isprintable() and "[" not in location and "]" not in location:
        web = _WEB_URL.match(location)
        if web is not None:
            return web.group(1)
    return urlsplit(location).path


def path_segments(location: str) -> list[str]:
    """The percent-decoded segments of a URL's path (or of a path), without
    empty and "." segments; "\\" separates too."""
    path = _url_path(location) if "://" in location else location
    return [s for s in unquote(path).replace("\\", "/").split("/") if s and s != "."]


def basename(location: str) -> str:
    """The last path segment of a URL or path, percent-decoded ('' if none)."""
    segments = path_segments(location)
    return segments[-1] if segments else ""


def _split_suffix(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file name, as PurePosixPath(name).stem/.suffix."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[:dot], name[dot:]
    return name, ""


def image_name(location: str) -> tuple[str, str]:
    """(stem, suffix) of the exported file name of an image; stem '' when the
    location has no path to name it by."""
    if location.isprintable():
        plain = _PLAIN_WEB_URL.fullmatch(location)
        if plain is not None:
            joined = plain[1].replace("/", FOLDER_SEPARATOR)
            if len(joined) <= MAX_NAME_CHARS:
                return joined, plain[2]
    segments = path_segments(location)
    if ".." in segments:
        segments = [s for s in segments if s != ".."]
    if not segments:
        return "", ".jpg"
    last = segments[-1]
    stem, suffix = _split_suffix(last)
    lowered = suffix.lower()
    suffix = lowered if lowered in IMAGE_SUFFIXES else ".jpg"
    segments[-1] = stem
    path = "/".join(segments)
    if _UNSAFE.search(path) is not None:
        path = _UNSAFE.sub("_", path)
    parts = [part.strip("._") for part in path.split("/")]
    joined = FOLDER_SEPARATOR.join(parts if "" not in parts else [p for p in parts if p])
    if len(joined) <= MAX_NAME_CHARS:
        return joined, suffix
    # imported here: hashlib loads OpenSSL (~4 MB of memory), which the export
    # format process needs only for the rare name this long.
    import hashlib

    whole = "/".join([*segments[:-1], last])
    digest = hashlib.blake2b(whole.encode(), digest_size=HASH_CHARS // 2)
    tail = joined[-(MAX_NAME_CHARS - HASH_CHARS - 1) :].lstrip("_")
    return f"{digest.hexdigest()}_{tail}", suffix


# A last path segment whose exported form is itself: a word character first and
# last in the stem (nothing for strip("._") to take), only characters a name
# keeps, and a lowercase image suffix.
_PLAIN_SEGMENT = re.compile(
    r"[^\W_](?:[\w.-]*[^\W_])?\.(?:" + "|".join(s[1:] for s in sorted(IMAGE_SUFFIXES)) + ")"
)


# A folder name that is kept as it is.
_PLAIN_PART = re.compile(r"[^\W_](?:[\w.-]*[^\W_])?")

# An http(s) URL without query or fragment whose path is plain folders and a
# plain file name with a lowercase image suffix: nothing of its path is
# decoded, replaced or stripped, so its name is its path's parts joined by "__"
# (when not too long). Nearly every image of a large project has such a URL;
# image_name takes this shortcut for them (tests/exports/test_image_names.py
# checks it against the general rule).
_PLAIN_WEB_URL = re.compile(
    r"https?://[^/?#\[\]]*/((?:"
    + _PLAIN_PART.pattern
    + r"/)*"
    + _PLAIN_PART.pattern
    + r")(\.(?:"
    + "|".join(s[1:] for s in sorted(IMAGE_SUFFIXES))
    + "))"
)


@dataclass(frozen=True, slots=True)
class NameParts:
    """The first and last parts of some exported names (split at "__")."""

    first: frozenset[str]
    last: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str]) -> NameParts | None:
        """None when a name was cut to MAX_NAME_CHARS (its parts may be cut too)."""
        first, last = set(), set()
        for name in names:
            stem, suffix = _split_suffix(name)
            if len(stem) >= MAX_NAME_CHARS - HASH_CHARS - 1:
                return None
            first.add(stem.partition(FOLDER_SEPARATOR)[0])
            last.add(stem.rpartition(FOLDER_SEPARATOR)[2] + suffix)
        return cls(frozenset(first), frozenset(last))

    def may_name(self, location: str, first_segment: str, last_segment: str) -> bool:
        """Whether the image at `location`, whose path's first and last segments
        (percent-decoded) are given, can have one of the names: a cheap test that
        spares computing the whole name for most images of a project."""
        if last_segment.rpartition(FOLDER_SEPARATOR)[2] not in self.last:
            if _PLAIN_SEGMENT.fullmatch(last_segment) is not None:
                return False  # the segment is kept as it is: its last part is not wanted
            stem, suffix = image_name(last_segment)
            # (a stem with nothing to keep leaves the last part to a folder: no test)
            if stem and stem.rpartition(FOLDER_SEPARATOR)[2] + suffix not in self.last:
                return False
        # a plain first folder of a URL is the name's first part as it is
        return not (
            "://" in location
            and first_segment != last_segment
            and first_segment.partition(FOLDER_SEPARATOR)[0] not in self.first
            and _PLAIN_PART.fullmatch(first_segment) is not None
        )


def image_file_name(location: str) -> str:
    """image_name as one file name ('' when the location has no path)."""
    stem, suffix = image_name(location)
    return stem + suffix if stem else ""


# ImageNames' hashes go to this many byte strings (a power of two), a few KB
# each for a million images.
_HASH_BUCKETS = 4096


class ImageNames:
    """Gives each task of one export its image's file name, unique in the export.

    Unique by stem, ignoring case and Unicode normalization: `x.png` and
    `x.jpg` would share a YOLO label file and a VOC xml (both named after the
    stem), and `X.png` / `x.png` are one file on macOS and Windows. A stem
    already given gets the task's display id (`x__T-42.jpg`).

    Remembers the hash of each folded stem given, not the stems, packed 8
    bytes per name into a few thousand byte strings searched in C (a set of
    the same ints would take ~70 bytes per name: 70 MB for a million images,
    against ~9 MB). Two different stems with the same 64-bit hash (about one
    chance in 10^7 for a million images) would give the second one the
    display id as well: still unique, only longer.
    """

    def __init__(self) -> None:
        self._given = [bytearray() for _ in range(_HASH_BUCKETS)]

    def stem_and_suffix(self, task_id: int, location: str) -> tuple[str, str]:
        stem, suffix = image_name(location)
        if not stem or not self._take(stem):
            ours = display_id(task_id)
            stem = f"{stem}{FOLDER_SEPARATOR}{ours}" if stem else ours
            while not self._take(stem):  # an earlier image had that very name
                stem = f"{stem}{FOLDER_SEPARATOR}{ours}"
        return stem, suffix

    def file_name(self, task_id: int, location: str) -> str:
        stem, suffix = self.stem_and_suffix(task_id, location)
        return stem + suffix

    def _take(self, stem: str) -> bool:
        key = hash(folded_name(stem))
        packed = key.to_bytes(8, "little", signed=True)
        bucket = self._given[key & (_HASH_BUCKETS - 1)]
        at = bucket.find(packed)
        while at >= 0:
            if at % 8 == 0:
                return False
            at = bucket.find(packed, at + 1)  # found across two hashes: look on
        bucket += packed
        return True


# the display id ImageNames puts at the end of a stem it made unique
# (or that names an image whose URL has no path: `T-42.jpg`)
_GIVEN_DISPLAY_ID = re.compile(r"(?:\A|" + FOLDER_SEPARATOR + r")T-(\d{1,18})(?:\.[^./]*)?\Z")


def display_id_in_name(name: str) -> int | None:
    """The task id of the display id an exported name ends with (`x__T-42.jpg`
    -> 42), or None: how an import finds the task of a name made unique."""
    found = _GIVEN_DISPLAY_ID.search(name)
    return int(found.group(1)) if found is not None else None


def folded_name(name: str) -> str:
    """A name as case-insensitive file systems compare it (macOS, Windows):
    case folded, and Unicode-normalized (NFC), so names that only these
    systems confuse fold to the same string."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", name).casefold()


def _positive(value: Any) -> float | None:
    kind = type(value)
    if kind is int and 1 <= value < _EXACT_INTS:  # the usual case first
        return value  # type: ignore[no-any-return]
    if kind is bool or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 1 else None


# Ints below this are exact as floats (round(float(n)) == n).
_EXACT_INTS = 1 << 53


def _size_of(values: dict[str, Any], width_key: str, height_key: str) -> tuple[int, int] | None:
    width, height = _positive(values.get(width_key)), _positive(values.get(height_key))
    if width is None or height is None:
        return None
    return round(width), round(height)


def pixel_size(
    result: Sequence[Any],
    metadata: dict[str, Any],
    recorded: tuple[Any, Any] = (None, None),
) -> tuple[int, int] | None:
    """The image's (width, height) in pixels (see the module's rule), or None."""
    return (
        metadata_pixel_size(metadata) or recorded_pixel_size(*recorded) or result_pixel_size(result)
    )


def recorded_pixel_size(width: Any, height: Any) -> tuple[int, int] | None:
    """The size a front end recorded (the rule's second source), or None."""
    if width is None or height is None:  # the usual case first: nothing recorded
        return None
    return _size_of({"w": width, "h": height}, "w", "h")


def result_pixel_size(result: Sequence[Any]) -> tuple[int, int] | None:
    """The size the result gives (the rule's first source), or None."""
    for item in result:
        if isinstance(item, dict):
            size = _size_of(item, "original_width", "original_height")
            if size is not None:
                return size
    return None


def metadata_pixel_size(metadata: dict[str, Any]) -> tuple[int, int] | None:
    """The size the task metadata gives (the rule's other sources), or None."""
    return _size_of(metadata, "width", "height") or _size_of(
        metadata, "original_width", "original_height"
    )


# Largest image side a front end may record (SubmitAnnotation's image_width/image_height).
MAX_RECORDED_SIDE = 100_000


def check_recorded_size(width: int | None, height: int | None) -> tuple[int, int] | None:
    """An image's natural size as a front end recorded it: both sides or neither, each
    1..MAX_RECORDED_SIDE pixels; None when not given; INVALID_REQUEST otherwise."""
    if width is None and height is None:
        return None
    for field, value in (("image_width", width), ("image_height", height)):
        if value is None:
            raise DomainError(
                ErrorCode.INVALID_REQUEST,
                "image_width and image_height are given together",
                {"field": field},
            )
        if not 0 < value <= MAX_RECORDED_SIDE:
            raise DomainError(
                ErrorCode.INVALID_REQUEST,
                f"{field} must be 1 to {MAX_RECORDED_SIDE} pixels",
                {"field": field},
            )
    assert width is not None and height is not None
    return width, height


def require_image_task(task_type: str) -> None:
    """Only an image task has an image size to record; INVALID_REQUEST otherwise."""
    if task_type not in IMAGE_TASK_TYPES:
        raise DomainError(
            ErrorCode.INVALID_REQUEST,
            f"a {task_type} task has no image size",
            {"field": "image_width"},
        )
