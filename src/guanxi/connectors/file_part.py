"""A window over an open file: one part of a big upload, read from disk as it is sent."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class FilePart(io.RawIOBase):
    """``length`` bytes of an open file from ``start``: one part, read from disk as sent."""

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._handle = handle
        self._start = start
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        """A part is read, never written."""
        return True

    def seekable(self) -> bool:
        """httpx seeks to measure the part and to send it again after a token refresh."""
        return True

    def tell(self) -> int:
        """The position within the part."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the part (``SEEK_END`` is the part's end, not the file's)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = min(max(base + offset, 0), self._length)
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill ``buffer`` from the file, never past the part's end."""
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._length - self._position)
        if wanted <= 0:
            return 0
        self._handle.seek(self._start + self._position)
        chunk = self._handle.read(wanted)
        view[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)
