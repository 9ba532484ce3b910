"""ocr_engine.Deferred: a reading made at most once, ahead in a thread or when first asked for."""

from __future__ import annotations

import threading

import pytest

from finjobs.adapters.ocr_engine import Deferred


def test_a_reading_never_started_is_made_once_on_first_get() -> None:
    calls: list[int] = []
    later = Deferred(lambda: calls.append(1) or len(calls))
    assert not later.started and calls == []
    assert later.get() == 1 and later.get() == 1
    assert calls == [1]
    later.wait()  # nothing running: returns at once


def test_a_started_reading_runs_in_another_thread_and_get_waits_for_it() -> None:
    release = threading.Event()
    ran_in: list[str] = []

    def make() -> str:
        ran_in.append(threading.current_thread().name)
        release.wait(5)
        return "read"

    ahead = Deferred(make)
    ahead.start()
    ahead.start()  # a second start does not run it twice
    assert ahead.started
    release.set()
    assert ahead.get() == "read"
    assert ran_in == ["finjobs-ocr-ahead"]


def test_the_reading_s_error_reaches_the_caller_of_get() -> None:
    def broken() -> str:
        raise RuntimeError("tesseract failed")

    ahead = Deferred(broken)
    ahead.start()
    ahead.wait()
    with pytest.raises(RuntimeError, match="tesseract failed"):
        ahead.get()
