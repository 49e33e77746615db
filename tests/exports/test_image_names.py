"""Image file names from URLs: the fast paths give what urlsplit and pathlib give."""

from __future__ import annotations

import random
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest

from server.exports.formats.images import IMAGE_SUFFIXES, MAX_STEM_CHARS, basename, safe_stem
from tests.exports.samples import task

_UNSAFE = re.compile(r"[^\w.-]+")


def reference_basename(location: str) -> str:
    """The definition: the last segment of the URL's path (or of the path), percent-decoded,
    made safe as a file name ('..' is no name; control characters become '_')."""
    path = urlsplit(location).path if "://" in location else location
    name = PurePosixPath(unquote(path).replace("\\", "/")).name
    return "" if name == ".." else "".join(c if c.isprintable() else "_" for c in name)


def reference_stem(task_id: int, location: str) -> tuple[str, str]:
    name = PurePosixPath(reference_basename(location))
    suffix = name.suffix.lower() if name.suffix.lower() in IMAGE_SUFFIXES else ".jpg"
    stem = _UNSAFE.sub("_", name.stem if name.suffix else name.name).strip("._")
    stem = stem[:MAX_STEM_CHARS]
    return (f"{task_id}_{stem}" if stem else str(task_id)), suffix


CASES = [
    "https://img.example.com/a/b/photo.jpg",
    "https://img.example.com/a/b/photo.JPG?size=large#frag",
    "http://img.example.com",
    "http://img.example.com/",
    "http://img.example.com?x=/y.jpg",
    "http://img.example.com#/y.jpg",
    "https://img.example.com/a/./b/.",
    "https://img.example.com/a/b/..",
    "https://img.example.com/dir/",
    "https://img.example.com//double//slash.png",
    "https://user:pw@img.example.com:8443/x/%E7%8C%AB.png",
    "https://img.example.com/a%2Fb.png",
    "https://img.example.com/back\\slash.png",
    "https://[::1]:8080/v6.png",
    "https://[bad/v6.png",
    "https://img.example.com/tab\there.png",
    " https://img.example.com/leading-space.png",
    "HTTPS://IMG.EXAMPLE.COM/UPPER.PNG",
    "s3://bucket/key/photo.webp",
    "file:///data/images/photo.tiff",
    "/data/images/photo.jpeg",
    "data/images/.hidden",
    "images\\windows\\photo.bmp",
    "",
    ".",
    "..",
    "noext",
    "archive.tar.gz",
    "https://img.example.com/" + "x" * 200 + ".png",
    "https://img.example.com/猫/狗.jpg",
    "https://img.example.com/a b/c d.png",
    "https://img.example.com/x/%2E%2E",
    "https://img.example.com/nul%00.png",
    "https://img.example.com/line%0Abreak.png",
    "images/a/..",
]


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("https://img.example.com/x/..", ""),
        ("https://img.example.com/x/%2E%2E", ""),
        ("https://img.example.com/x/%2e%2e%2f%2e%2e", ""),
        ("https://img.example.com/nul%00.png", "nul_.png"),
        ("https://img.example.com/a%0D%0Ab.png", "a__b.png"),
        ("https://img.example.com/%2E%2E%5Cetc%5Cpasswd", "passwd"),
    ],
)
def test_file_names_hold_no_path_tricks_or_control_characters(location: str, name: str) -> None:
    assert basename(location) == name


@pytest.mark.parametrize("location", CASES)
def test_known_cases_match_the_definition(location: str) -> None:
    try:
        expected = reference_basename(location)
    except ValueError:  # urlsplit refuses it; so must the fast path
        with pytest.raises(ValueError):
            basename(location)
        return
    assert basename(location) == expected
    assert safe_stem(task(7, location), location) == reference_stem(7, location)


def test_random_urls_match_the_definition() -> None:
    rng = random.Random(20260203)
    alphabet = "ab/.?#%2F:@[]\\ \t猫-_xX"
    prefixes = ["https://", "http://", "https://host", "http://h:80/", "", "/", "s3://"]
    for _ in range(5000):
        location = rng.choice(prefixes) + "".join(
            rng.choice(alphabet) for _ in range(rng.randrange(0, 24))
        )
        try:
            expected = reference_basename(location)
        except ValueError:
            continue
        assert basename(location) == expected, location
        assert safe_stem(task(7, location), location) == reference_stem(7, location), location
