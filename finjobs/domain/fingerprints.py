"""Row fingerprints for de-duplication: the same bank row imported twice (the same file, or a later
export that overlaps it) gets the same fingerprint. Pure.

fingerprint = base_key(account, date, amount, currency, normalised description) + ":" + occurrence,
where occurrence numbers identical rows within one file (0, 1, 2, ...) in file order, as YNAB does: two
identical coffees on one day in one export are two transactions, and re-importing that export adds none.
A row that carries the bank's own id (OFX FITID, CAMT AcctSvcrRef/NtryRef: StatementRow.ref) is keyed by
(account, ref) alone: the bank vouches it names one entry, whatever its text or date shows next time.
Occurrences counts identical rows in file order in bounded memory (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from finjobs.domain.statements import normalise_description

BASE_KEY_CHARS = 48  # 192 bits of SHA-256; leaves room for ":<occurrence>" in 64 characters


def base_key(
    account: str, date: dt.date, amount_minor: int, currency: str, description: str, ref: str | None = None
) -> str:
    return base_keyer(account)(date.isoformat(), amount_minor, currency, description, ref)


def base_keyer(account: str) -> Callable[[str, int, str, str, str | None], str]:
    """base_key with the account bound and the date given as its ISO text (a file's rows share few
    dates, so the importer formats each once): the importer calls it once per row of a file."""
    prefix = account.strip().casefold() + "\x1f"
    sha256, norm = hashlib.sha256, normalise_description

    def key(iso: str, amount_minor: int, currency: str, description: str, ref: str | None = None) -> str:
        if ref:  # \x1e cannot start an ISO date: a ref key never equals a content key
            return sha256(f"{prefix}\x1eref\x1f{ref}".encode()).hexdigest()[:BASE_KEY_CHARS]
        material = f"{prefix}{iso}\x1f{amount_minor}\x1f{currency.upper()}\x1f{norm(description)}"
        return sha256(material.encode()).hexdigest()[:BASE_KEY_CHARS]

    return key


def fingerprint(base: str, occurrence: int) -> str:
    return f"{base}:{occurrence}"


class Occurrences:
    """The occurrence index of each row of one file among the identical rows before it, in bounded
    memory, for a file read in chunks.

    Identical rows share a date, so counts are kept per date. After each chunk only the `keep_dates`
    most recently seen dates keep their counts (a statement is nearly always in date order, so older
    dates do not come back); `end_chunk()` hands the dropped dates' counts to the caller, who keeps
    them out of memory. A date that comes back after being dropped is `missing()` from the next
    chunk's view and its counts are `load()`ed back first, so the numbering stays exact whatever the
    file's order.
    """

    def __init__(self, keep_dates: int = 8) -> None:
        self.keep_dates = keep_dates
        self._counts: dict[dt.date, Counter[str]] = {}
        self._last_seen: dict[dt.date, int] = {}  # when each date last began a run of rows
        self._dropped: set[dt.date] = set()
        self._current: dt.date | None = None
        self._runs = 0
        # the date number() last saw and its counts, so a run of one date costs two dict operations
        # a row; cleared whenever the counts of a date may be replaced (load, end_chunk)
        self._hot: tuple[dt.date | None, Counter[str]] = (None, Counter())

    def missing(self, dates: Iterable[dt.date]) -> set[dt.date]:
        """Dates of the coming chunk whose earlier counts were dropped: load() them before number()."""
        return {d for d in dates if d in self._dropped}

    def load(self, date: dt.date, counts: Mapping[str, int]) -> None:
        self._counts[date] = Counter(counts)
        self._dropped.discard(date)
        self._hot = (None, Counter())

    def number(self, date: dt.date, base: str) -> int:
        hot_date, counts = self._hot
        if date is not hot_date:
            counts = self._switch(date)
        n = counts.get(base, 0)  # not counts[base]: a Counter's __missing__ is a Python call
        counts[base] = n + 1
        return n

    def _switch(self, date: dt.date) -> Counter[str]:
        counts = self._counts.get(date)
        if counts is None:
            if date in self._dropped:
                raise RuntimeError(f"counts for {date} were dropped and not loaded again")
            counts = self._counts[date] = Counter()
        if date != self._current:
            self._current, self._runs = date, self._runs + 1
            self._last_seen[date] = self._runs
        self._hot = (date, counts)
        return counts

    def end_chunk(self) -> dict[dt.date, Counter[str]]:
        """Keeps only the recent dates' counts; returns the dropped ones (complete: a date's counts are
        loaded back before any of its rows is numbered again), for the caller to load() if asked."""
        if len(self._counts) <= self.keep_dates:
            return {}
        self._hot = (None, Counter())
        # most recently seen first: in a date-ordered file, the date a chunk ended on is kept
        recent = sorted(self._counts, key=self._last_seen.__getitem__, reverse=True)
        dropped = {}
        for date in recent[self.keep_dates :]:
            dropped[date] = self._counts.pop(date)
            del self._last_seen[date]
            self._dropped.add(date)
        return dropped

    @property
    def kept(self) -> int:
        """How many (date, base) counts are held now (for tests of the memory bound)."""
        return sum(len(c) for c in self._counts.values())
