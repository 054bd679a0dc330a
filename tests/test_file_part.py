"""A part of an open file reads, seeks and measures as if it were the whole file."""

from __future__ import annotations

import io
from pathlib import Path

from guanxi.connectors.file_part import FilePart


def test_a_part_reads_only_its_own_bytes_and_rewinds(tmp_path: Path) -> None:
    """Given a 10-byte file, when bytes 3 to 7 are read as a part, then the part is exactly
    those bytes, its end is its own, and after a rewind (a resend) it reads them again."""
    path = tmp_path / "video.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb") as handle:
        part = FilePart(handle, 3, 5)
        assert part.seek(0, io.SEEK_END) == 5
        part.seek(0)
        assert part.read() == b"34567"
        assert part.read() == b""
        part.seek(-2, io.SEEK_CUR)
        assert part.read(10) == b"67"
        part.seek(0)
        assert io.BufferedReader(part).read() == b"34567"


def test_a_last_part_shorter_than_asked_stops_at_the_end_of_the_file(tmp_path: Path) -> None:
    """Given a part that runs past the file's end, reading stops where the file stops."""
    path = tmp_path / "video.bin"
    path.write_bytes(b"abc")
    with path.open("rb") as handle:
        assert FilePart(handle, 1, 10).read() == b"bc"
