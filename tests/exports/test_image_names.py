"""Exported image names from URLs: the fast paths give what urlsplit and pathlib
give, and every name in an export is unique and readable."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest

from server.images import (
    IMAGE_SUFFIXES,
    MAX_NAME_CHARS,
    ImageNames,
    basename,
    display_id_in_name,
    image_file_name,
    image_name,
)

_UNSAFE = re.compile(r"[^\w.-]+")


def reference_basename(location: str) -> str:
    """The definition: the last segment of the URL's path (or of the path), percent-decoded."""
    path = urlsplit(location).path if "://" in location else location
    return PurePosixPath(unquote(path).replace("\\", "/")).name


def reference_name(location: str) -> tuple[str, str]:
    """The definition: the path's folders and file stem, made safe, joined by "__"."""
    path = urlsplit(location).path if "://" in location else location
    parts = PurePosixPath(unquote(path).replace("\\", "/")).parts
    segments = [s for s in parts if s not in ("/", "..")]
    if not segments:
        return "", ".jpg"
    name = PurePosixPath(segments[-1])
    suffix = name.suffix.lower() if name.suffix.lower() in IMAGE_SUFFIXES else ".jpg"
    stem = name.stem if name.suffix else name.name
    safe = [_UNSAFE.sub("_", p).strip("._") for p in [*segments[:-1], stem]]
    joined = "__".join(p for p in safe if p)
    if len(joined) > MAX_NAME_CHARS:
        digest = hashlib.blake2b("/".join(segments).encode(), digest_size=4).hexdigest()
        joined = digest + "_" + joined[-(MAX_NAME_CHARS - 9) :].lstrip("_")
    return joined, suffix


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
]


@pytest.mark.parametrize("location", CASES)
def test_known_cases_match_the_definition(location: str) -> None:
    try:
        expected = reference_basename(location)
    except ValueError:  # urlsplit refuses it; so must the fast path
        with pytest.raises(ValueError):
            basename(location)
        return
    assert basename(location) == expected
    assert image_name(location) == reference_name(location)


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
        assert image_name(location) == reference_name(location), location


def test_urls_near_the_plain_shortcut_match_the_definition() -> None:
    """URLs of plain folders and file names (the shortcut) and small changes of them."""
    rng = random.Random(20261127)
    parts = ["cam_a", "img_0000001", "a.b", "_x", "x_", ".x", "x.", "-x", "猫", "a-b", "A", "9"]
    suffixes = [".jpg", ".png", ".JPG", ".tar.gz", "", ".jpeg", ".webp", "."]
    tails = ["", "", "", "?x=1", "#f", "/"]
    for _ in range(5000):
        folders = "/".join(rng.choice(parts) for _ in range(rng.randrange(0, 4)))
        name = rng.choice(parts) + rng.choice(suffixes)
        location = f"https://h.example.com/{folders}{'/' if folders else ''}{name}"
        location += rng.choice(tails)
        assert image_name(location) == reference_name(location), location
    long_name = "https://h.example.com/" + "/".join(["folder"] * 12) + "/x.png"
    assert image_name(long_name) == reference_name(long_name)


def test_same_file_name_in_different_folders_gives_different_names() -> None:
    a = image_file_name("https://cdn.example.com/data/cam_a/0001.jpg?sig=1")
    b = image_file_name("https://cdn.example.com/data/cam_b/0001.jpg")
    assert (a, b) == ("data__cam_a__0001.jpg", "data__cam_b__0001.jpg")


def test_names_depend_on_the_url_only() -> None:
    url = "https://other-host.example.com/data/cam_a/0001.JPG"
    first, second = ImageNames(), ImageNames()
    assert first.file_name(1, url) == second.file_name(99, url) == "data__cam_a__0001.jpg"


def test_a_name_given_twice_in_one_export_gets_the_display_id() -> None:
    names = ImageNames()
    given = [
        names.file_name(1, "https://a.example.com/x/1.png"),
        names.file_name(2, "https://b.example.com/x/1.png"),
        names.file_name(3, "https://a.example.com/x/1.png"),
        names.file_name(4, "https://a.example.com/"),
    ]
    assert given == ["x__1.png", "x__1__T-2.png", "x__1__T-3.png", "T-4.jpg"]


def test_long_paths_are_cut_and_stay_unique() -> None:
    deep = "/".join(["folder"] * 40)
    a = image_name(f"https://h/{deep}/a/photo.png")[0]
    b = image_name(f"https://h/{deep}/b/photo.png")[0]
    assert len(a) <= MAX_NAME_CHARS and len(b) <= MAX_NAME_CHARS
    assert a != b and a.endswith("__a__photo") and b.endswith("__b__photo")


def test_the_cheap_name_test_never_rejects_an_image_that_has_the_name() -> None:
    from server.images import NameParts
    from server.predictions.matching import _ImageNameLookup, normalize_path

    rng = random.Random(7)
    alphabet = "ab_.-猫 %2F/"
    for _ in range(3000):
        segments = [
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 6)))
            for _ in range(rng.randrange(1, 4))
        ]
        location = "https://h.example/" + "/".join(segments) + rng.choice([".jpg", ".PNG", ""])
        name = image_file_name(location)
        if not name or NameParts.of([name]) is None:
            continue
        lookup = _ImageNameLookup([name])
        assert lookup.name_of(location, normalize_path(location)) == name, location


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("https://img.example.com/x/..", ("x", ".jpg")),
        ("https://img.example.com/x/%2E%2E", ("x", ".jpg")),
        ("https://img.example.com/x/%2e%2e%2f%2e%2e", ("x", ".jpg")),
        ("https://img.example.com/nul%00.png", ("nul", ".png")),
        ("https://img.example.com/a%0D%0Ab.png", ("a_b", ".png")),
        ("https://img.example.com/%2E%2E%5Cetc%5Cpasswd", ("etc__passwd", ".jpg")),
    ],
)
def test_file_names_hold_no_path_tricks_or_control_characters(
    location: str, name: tuple[str, str]
) -> None:
    assert image_name(location) == name


@pytest.mark.parametrize(
    ("name", "task_id"),
    [
        ("dup__x__T-42.jpg", 42),
        ("dup__x__T-42", 42),
        ("T-7.jpg", 7),
        ("dup__x.jpg", None),
        ("dup__xT-42.jpg", None),
        ("dup__x__T-42.jpg.txt", None),
        ("dup__x__T-.jpg", None),
    ],
)
def test_the_display_id_a_name_was_given_is_read_back(name: str, task_id: int | None) -> None:
    assert display_id_in_name(name) == task_id
    names = ImageNames()
    names.file_name(1, "https://h.example/dup/x.png")
    assert display_id_in_name(names.file_name(42, "https://h.example/dup/x.jpg")) == 42
