"""CSV stage 1, sniff: bytes to text (encoding), records, a bounded sample and the delimiter.
Pure: stdlib only; memory stays bounded however long the file is."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Generator, Iterator
from typing import IO

from finjobs.domain.statement_types import (
    _CHUNK,
    _MAX_LINE,
    _SAMPLE_BYTES,
    _SAMPLE_RECORDS,
    DELIMITERS,
    Opener,
)
from finjobs.domain.statements_values import (
    date_shape,
)
from finjobs.errors import InputError

# ================================================================ reading bytes


def _open(opener: Opener, source: str) -> IO[bytes]:
    try:
        return opener()
    except OSError as exc:
        raise InputError(f"cannot open: {exc}", source=source) from exc


def _detect_encoding(opener: Opener, source: str) -> str:
    stream = _open(opener, source)
    try:
        head = stream.read(_SAMPLE_BYTES)
        if not head:
            raise InputError("file is empty", source=source)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and head.count(0) >= len(head) // 4:
            # Mostly-ASCII UTF-16 has a NUL in every other byte; which half tells the byte order.
            return "utf-16-le" if odd.count(0) > even.count(0) else "utf-16-be"
        # UTF-8 must hold for the whole file, not just the head: check every byte once, streaming.
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = stream.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
        return "utf-8"
    finally:
        stream.close()


def _lines(stream: IO[bytes], encoding: str, source: str) -> Generator[str, None, None]:
    """Physical lines (LF, CRLF or CR) of the decoded stream, NULs dropped, each at most 1 MiB."""
    # cp1252 leaves five bytes undefined; a stray one should not sink the file, so undecodable bytes
    # become U+FFFD everywhere (encoding itself was chosen from the whole file).
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    number = 0
    try:
        while True:
            line = text.readline(_MAX_LINE)
            if not line:
                return
            number += 1
            if len(line) >= _MAX_LINE and not line.endswith(("\n", "\r")):
                raise InputError("line is longer than 1 MiB: not a CSV statement", source=source, line=number)
            if number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield line.replace("\x00", "") if "\x00" in line else line
    finally:
        # Leave the byte stream to its owner (_records closes it); a wrapper dropped later must not.
        if not stream.closed:
            text.detach()


def _records(opener: Opener, encoding: str, delimiter: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) for every CSV record, blank ones included (as [])."""
    stream = _open(opener, source)
    lines = _lines(stream, encoding, source)
    try:
        reader = csv.reader(lines, delimiter=delimiter)
        last = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"unreadable CSV: {exc}", source=source, line=last + 1) from exc
            yield last + 1, row
            last = reader.line_num
    finally:
        lines.close()
        stream.close()


def _sample_text(opener: Opener, encoding: str, source: str) -> str:
    stream = _open(opener, source)
    try:
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        sample = text.read(_SAMPLE_BYTES)
        more = bool(text.read(1))
        text.detach()
    finally:
        stream.close()
    sample = sample.lstrip("\ufeff").replace("\x00", "")
    if more:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[: cut + 1]
    return sample


def _parse_sample(sample: str, delimiter: str) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    last = 0
    try:
        for row in reader:
            out.append((last + 1, row))
            last = reader.line_num
            if len(out) >= _SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted field; what was read so far still counts
    return out


def _pick_delimiter(sample: str, source: str) -> tuple[str, list[tuple[int, list[str]]]]:
    best: tuple[tuple[int, int, int, int], str, list[tuple[int, list[str]]]] | None = None
    for delim in DELIMITERS:
        records = _parse_sample(sample, delim)
        counts = Counter(len(r) for _, r in records if len(r) >= 2)
        if not counts:
            continue
        width, hits = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        dated = sum(1 for _, r in records if len(r) == width and any(date_shape(c) for c in r))
        # csv.Sniffer picks ',' in '1.234,56;...' files. Check each candidate against the rows instead:
        # the right split puts a whole date in a cell of many same-width records.
        key = (dated, hits, width, -DELIMITERS.index(delim))
        if best is None or key > best[0]:
            best = (key, delim, records)
    if best is None:
        raise InputError("no delimiter found: the file does not split into columns", source=source)
    return best[1], best[2]
