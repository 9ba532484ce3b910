"""Read a stored upload in chunks, as a file: constant memory whatever the file's size, on PostgreSQL
(bytea) and SQLite (blob) alike. Each opening is a fresh stream (the CSV reader opens a file twice)."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlalchemy import func, select

from finjobs.db.engine import get_engine
from finjobs.db.models import Upload

CHUNK = 1 << 20


class UploadStream(io.RawIOBase):
    def __init__(self, url: str, upload_id: int, size: int, chunk: int = CHUNK) -> None:
        self.url, self.upload_id, self.size, self.chunk, self.pos = url, upload_id, size, chunk, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.pos >= self.size:
            return 0
        want = min(len(buffer), self.chunk, self.size - self.pos)
        with get_engine(self.url).connect() as conn:
            # substr is 1-based on both backends, for bytea and blob alike
            piece = conn.execute(
                select(func.substr(Upload.data, self.pos + 1, want)).where(Upload.id == self.upload_id)
            ).scalar_one()
        got = bytes(piece)
        buffer[: len(got)] = got
        self.pos += len(got)
        return len(got)


def upload_opener(url: str, upload_id: int, size: int) -> Callable[[], io.BufferedReader]:
    """A zero-argument opener for the domain's streaming readers."""
    return lambda: io.BufferedReader(UploadStream(url, upload_id, size), buffer_size=CHUNK)
