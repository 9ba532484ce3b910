"""Read a stored upload in chunks, as a file: constant memory whatever the file's size.

PostgreSQL: `substr` over a bytea column whose storage is EXTERNAL (migration 0003: uncompressed
TOAST), which fetches only the TOAST chunks it needs. SQLite: incremental blob I/O (`blobopen`).
Each opening is a fresh stream (the CSV reader reads a file more than once)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from finjobs.db.engine import get_engine
from finjobs.db.models import Upload

CHUNK = 4 << 20


class _PostgresUpload(io.RawIOBase):
    """Fetches CHUNK bytes per query and serves reads from that piece: a text reader above asks for
    8 KiB at a time (BufferedReader.read1 passes small reads straight through), which would otherwise
    be one query per 8 KiB."""

    def __init__(self, url: str, upload_id: int, size: int) -> None:
        self.url, self.upload_id, self.size, self.pos = url, upload_id, size, 0
        self._piece, self._offset = b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._offset >= len(self._piece):
            want = min(CHUNK, self.size - self.pos)
            if want <= 0:
                return 0
            with get_engine(self.url).connect() as conn:
                piece = conn.execute(
                    select(func.substr(Upload.data, self.pos + 1, want)).where(Upload.id == self.upload_id)
                ).scalar_one()
            self._piece, self._offset = bytes(piece), 0
            self.pos += len(self._piece)
            if not self._piece:
                return 0
        n = min(len(buffer), len(self._piece) - self._offset)
        buffer[:n] = self._piece[self._offset : self._offset + n]
        self._offset += n
        return n


class _SqliteUpload(io.RawIOBase):
    def __init__(self, url: str, upload_id: int) -> None:
        self._conn = get_engine(url).raw_connection()
        self._blob = self._conn.driver_connection.blobopen("uploads", "data", upload_id, readonly=True)  # type: ignore[union-attr]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        got = self._blob.read(min(len(buffer), CHUNK))
        buffer[: len(got)] = got
        return len(got)

    def close(self) -> None:
        if not self.closed:
            self._blob.close()
            self._conn.close()
        super().close()


def upload_opener(url: str, upload_id: int, size: int) -> Callable[[], io.BufferedReader]:
    """A zero-argument opener for the domain's streaming readers."""
    if url.startswith("sqlite"):
        return lambda: io.BufferedReader(_SqliteUpload(url, upload_id), buffer_size=CHUNK)
    return lambda: io.BufferedReader(_PostgresUpload(url, upload_id, size), buffer_size=CHUNK)
