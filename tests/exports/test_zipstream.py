"""The streaming zip writer, read back by Python's zipfile and by Info-ZIP's unzip."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.exports.zipstream import ZIP_FILECOUNT_LIMIT, ZipStream

WHEN = datetime(2026, 2, 3, 10, 30, 4, tzinfo=UTC)


def unzip_test(path: Path) -> None:
    """`unzip -t` must find every entry intact (skipped where unzip is not installed)."""
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed")
    done = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def write_archive(
    path: Path, scratch: Path, entries: dict[str, bytes], files: dict[str, Path]
) -> None:
    with path.open("wb") as out:
        archive = ZipStream(out, scratch_dir=scratch, modified=WHEN)
        for name, data in entries.items():
            archive.write_entry(name, data)
        for name, source in files.items():
            archive.write_file(name, source)
        archive.close()


def test_entries_and_streamed_files_read_back(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"".join(b"./images/train/%d_photo.jpg\n" % i for i in range(200_000)))
    entries = {
        "labels/train/1_a.txt": b"0 0.500000 0.500000 0.200000 0.300000\n",
        "labels/train/2_empty.txt": b"",
        "labels/train/3_猫.txt": b"1 0.1 0.2 0.3 0.4\n",
        "data.yaml": b"names:\n" + b"".join(b"  %d: c%d\n" % (i, i) for i in range(2000)),
    }
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    path = tmp_path / "out.zip"
    write_archive(path, tmp_path, entries, {"train.txt": big, "empty.txt": empty})

    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [*entries, "train.txt", "empty.txt"]
        for name, data in entries.items():
            assert archive.read(name) == data
        assert archive.read("train.txt") == big.read_bytes()
        assert archive.read("empty.txt") == b""
        info = archive.getinfo("labels/train/3_猫.txt")
        assert info.flag_bits & 0x800  # the name is flagged as UTF-8
        assert info.date_time[:3] == (2026, 2, 3)
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    assert not (tmp_path / "zip-central-directory.bin").exists()
    unzip_test(path)


@pytest.mark.slow
def test_more_entries_than_a_plain_zip_holds_use_zip64_end_records(tmp_path: Path) -> None:
    count = ZIP_FILECOUNT_LIMIT + 5_000
    path = tmp_path / "many.zip"
    write_archive(
        path, tmp_path, {f"labels/{i}.txt": b"%d 0.5 0.5 0.1 0.1\n" % i for i in range(count)}, {}
    )

    tail = path.read_bytes()[-200:]
    assert b"PK\x06\x06" in tail and b"PK\x06\x07" in tail  # ZIP64 end record and locator
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert names[-1] == f"labels/{count - 1}.txt"
        assert archive.read(f"labels/{count - 1}.txt") == b"%d 0.5 0.5 0.1 0.1\n" % (count - 1)
        assert archive.read("labels/0.txt") == b"0 0.5 0.5 0.1 0.1\n"
    unzip_test(path)


def test_abort_removes_the_scratch_file(tmp_path: Path) -> None:
    with (tmp_path / "out.zip").open("wb") as out:
        archive = ZipStream(out, scratch_dir=tmp_path, modified=WHEN)
        archive.write_entry("a.txt", b"a")
        archive.abort()
    assert not (tmp_path / "zip-central-directory.bin").exists()


def test_offsets_past_4_gib_use_zip64_fields(tmp_path: Path) -> None:
    """An archive whose entries lie beyond 4 GiB (after a sparse 4.5 GiB
    prefix, so the test writes only a few KB)."""
    start = (9 << 30) // 2
    path = tmp_path / "far.zip"
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"line\n" * 10_000)
    with path.open("wb") as out:
        out.seek(start)
        archive = ZipStream(out, scratch_dir=tmp_path, modified=WHEN)
        archive.write_entry("first.txt", b"first\n")
        archive.write_file("lines.txt", lines)
        archive.write_entry("last.txt", b"last\n")
        archive.close()

    with zipfile.ZipFile(path) as archive:
        assert [i.header_offset >= start for i in archive.infolist()] == [True] * 3
        assert archive.testzip() is None
        assert archive.read("first.txt") == b"first\n"
        assert archive.read("lines.txt") == lines.read_bytes()
        assert archive.read("last.txt") == b"last\n"
    unzip_test(path)
