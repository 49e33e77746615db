"""A zip writer whose memory does not grow with the number of entries.

Python's `zipfile` keeps a `ZipInfo` per entry until the archive is closed
(about 0.5 KiB each: 500 MB for a million label files) and sets up a full
deflate state per entry. This writer streams each entry (local header, then
data) to the output as it comes, appends its central-directory record to a
scratch file, and at `close()` copies those records after the data, followed
by the end records: ZIP64 ones when the archive needs them (65,535 entries or
more, or offsets and sizes past 2 GiB, the limits `zipfile` uses). The layout
follows PKWARE's APPNOTE and what `zipfile` writes, so `zipfile`, `unzip` and
other readers read it back.

Entries are deflated. A small entry gets a deflate window and hash table
sized to it (a full-size state costs far more to set up than to compress a
few hundred bytes); inflating needs no setting for that.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

# zipfile's thresholds: past these, sizes, offsets and counts go in ZIP64 fields.
ZIP64_LIMIT = (1 << 31) - 1
ZIP_FILECOUNT_LIMIT = (1 << 16) - 1

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_DATA_DESCRIPTOR = struct.Struct("<4sLLL")
_DATA_DESCRIPTOR_64 = struct.Struct("<4sLQQ")
_END_64 = struct.Struct("<4sQ2H2L4Q")
_END_64_LOCATOR = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")

_LOCAL_SIGNATURE = b"PK\003\004"
_CENTRAL_SIGNATURE = b"PK\001\002"
_DESCRIPTOR_SIGNATURE = b"PK\007\010"
_END_64_SIGNATURE = b"PK\006\006"
_END_64_LOCATOR_SIGNATURE = b"PK\006\007"
_END_SIGNATURE = b"PK\005\006"

_DEFLATED = 8
_VERSION_DEFLATE = 20
_VERSION_ZIP64 = 45
_MADE_BY_UNIX = 3
_FLAG_DATA_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
_UNIX_FILE = (0o100644 << 16) & 0xFFFFFFFF  # a regular file, rw-r--r--

# Entries up to this size get a small deflate state (window and hash sized to them).
_SMALL_ENTRY = 4096
_COPY_CHUNK = 1024 * 1024


def _dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) in MS-DOS format, as zip headers store them (local time)."""
    local = moment.astimezone() if moment.tzinfo else moment
    year = min(max(local.year, 1980), 2107)
    date = ((year - 1980) << 9) | (local.month << 5) | local.day
    time = (local.hour << 11) | (local.minute << 5) | (local.second // 2)
    return time, date


def _deflate(data: bytes) -> bytes:
    if len(data) <= _SMALL_ENTRY:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -12, 4)
    else:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


class ZipStream:
    """Writes a deflated zip archive to `out`, entry by entry.

    `out` is a file positioned where the archive starts; offsets in the
    archive are file offsets, as usual for an archive that follows other
    data. Central-directory records wait in `<scratch_dir>/` until `close()`;
    call `abort()` instead to drop them after a failure.
    """

    def __init__(self, out: BinaryIO, *, scratch_dir: Path, modified: datetime) -> None:
        self._out = out
        self._time, self._date = _dos_time(modified)
        self._directory_path = scratch_dir / "zip-central-directory.bin"
        self._directory = self._directory_path.open("wb")
        self._directory_size = 0
        self._offset = out.tell()  # where the next byte goes
        self._buffer = bytearray()  # local headers and data not yet written to `out`
        self.entries = 0

    def write_entry(self, name: str, data: bytes) -> None:
        """Add a file whose content is in memory."""
        encoded, flags = self._name(name)
        crc = zlib.crc32(data)
        compressed = _deflate(data)
        size, compressed_size = len(data), len(compressed)
        header_offset = self._offset + len(self._buffer)
        zip64 = size > ZIP64_LIMIT or compressed_size > ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, compressed_size) if zip64 else b""
        stored_size = 0xFFFFFFFF if zip64 else size
        stored_compressed = 0xFFFFFFFF if zip64 else compressed_size
        buffer = self._buffer
        buffer += self._local_header(
            zip64=zip64,
            flags=flags,
            crc=crc,
            compressed_size=stored_compressed,
            size=stored_size,
            name=encoded,
            extra=extra,
        )
        buffer += encoded
        buffer += extra
        buffer += compressed
        self._record(encoded, flags, crc, compressed_size, size, header_offset)
        if len(buffer) >= _COPY_CHUNK:
            self._flush()

    def _local_header(
        self,
        *,
        zip64: bool,
        flags: int,
        crc: int,
        compressed_size: int,
        size: int,
        name: bytes,
        extra: bytes,
    ) -> bytes:
        """A local file header (the name and extra field follow it)."""
        return _LOCAL_HEADER.pack(
            _LOCAL_SIGNATURE,
            _VERSION_ZIP64 if zip64 else _VERSION_DEFLATE,
            0,
            flags,
            _DEFLATED,
            self._time,
            self._date,
            crc,
            compressed_size,
            size,
            len(name),
            len(extra),
        )

    def write_file(self, name: str, path: Path) -> None:
        """Add a file from disk, streamed: its CRC and sizes follow its data
        (a data descriptor), so it is read once and never held in memory."""
        self._flush()
        encoded, flags = self._name(name)
        flags |= _FLAG_DATA_DESCRIPTOR
        header_offset = self._offset
        # zipfile's rule: ZIP64 fields when the size (plus deflate's worst
        # case growth) may pass the limit; the size is known from the file.
        zip64 = path.stat().st_size * 1.05 > ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, 0, 0) if zip64 else b""
        self._write(
            self._local_header(
                zip64=zip64,
                flags=flags,
                crc=0,
                compressed_size=0,
                size=0,
                name=encoded,
                extra=extra,
            )
            + encoded
            + extra
        )
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        crc = size = compressed_size = 0
        with path.open("rb") as source:
            while chunk := source.read(_COPY_CHUNK):
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                piece = compressor.compress(chunk)
                compressed_size += len(piece)
                self._write(piece)
        piece = compressor.flush()
        compressed_size += len(piece)
        self._write(piece)
        if zip64:
            descriptor = _DATA_DESCRIPTOR_64.pack(_DESCRIPTOR_SIGNATURE, crc, compressed_size, size)
        else:
            descriptor = _DATA_DESCRIPTOR.pack(_DESCRIPTOR_SIGNATURE, crc, compressed_size, size)
        self._write(descriptor)
        self._record(encoded, flags, crc, compressed_size, size, header_offset)

    def close(self) -> None:
        """Write the central directory and the end records."""
        self._flush()
        self._directory.close()
        directory_offset = self._offset
        with self._directory_path.open("rb") as directory:
            shutil.copyfileobj(directory, self._out, _COPY_CHUNK)
        self._offset += self._directory_size
        self._directory_path.unlink(missing_ok=True)
        count, size = self.entries, self._directory_size
        if count >= ZIP_FILECOUNT_LIMIT or directory_offset > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end_64_offset = self._offset
            self._out.write(
                _END_64.pack(
                    _END_64_SIGNATURE,
                    _END_64.size - 12,  # the size of the rest of this record
                    (_MADE_BY_UNIX << 8) | _VERSION_ZIP64,
                    _VERSION_ZIP64,
                    0,
                    0,
                    count,
                    count,
                    size,
                    directory_offset,
                )
                + _END_64_LOCATOR.pack(_END_64_LOCATOR_SIGNATURE, 0, end_64_offset, 1)
            )
            count = min(count, 0xFFFF)
            size = min(size, 0xFFFFFFFF)
            directory_offset = min(directory_offset, 0xFFFFFFFF)
        self._out.write(_END.pack(_END_SIGNATURE, 0, 0, count, count, size, directory_offset, 0))

    def abort(self) -> None:
        """Drop the central-directory scratch file (after a failure)."""
        self._directory.close()
        self._directory_path.unlink(missing_ok=True)

    @staticmethod
    def _name(name: str) -> tuple[bytes, int]:
        if name.isascii():
            return name.encode("ascii"), 0
        return name.encode("utf-8"), _FLAG_UTF8

    def _record(
        self,
        encoded: bytes,
        flags: int,
        crc: int,
        compressed_size: int,
        size: int,
        header_offset: int,
    ) -> None:
        """Spill the entry's central-directory record (ZIP64 fields as zipfile writes them)."""
        large: list[int] = []
        if size > ZIP64_LIMIT or compressed_size > ZIP64_LIMIT:
            large += (size, compressed_size)
            size = compressed_size = 0xFFFFFFFF
        if header_offset > ZIP64_LIMIT:
            large.append(header_offset)
            header_offset = 0xFFFFFFFF
        extra = struct.pack(f"<HH{len(large)}Q", 1, 8 * len(large), *large) if large else b""
        version = _VERSION_ZIP64 if large else _VERSION_DEFLATE
        record = (
            _CENTRAL_HEADER.pack(
                _CENTRAL_SIGNATURE,
                version,
                _MADE_BY_UNIX,
                version,
                0,
                flags,
                _DEFLATED,
                self._time,
                self._date,
                crc,
                compressed_size,
                size,
                len(encoded),
                len(extra),
                0,  # comment length
                0,  # disk number
                0,  # internal attributes
                _UNIX_FILE,
                header_offset,
            )
            + encoded
            + extra
        )
        self._directory.write(record)
        self._directory_size += len(record)
        self.entries += 1

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    def _flush(self) -> None:
        if self._buffer:
            self._write(bytes(self._buffer))
            self._buffer.clear()
