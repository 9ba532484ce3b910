"""The job catalogue: every path imports to a function, every queue is registered, every id is valid."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re
import string
from pathlib import Path

import pytest

from finjobs.queue.catalogue import JOBS, JobKind
from finjobs.queue.registry import QUEUES

RQ_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SAMPLE = {
    "slot": dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC),
    "day": dt.date(2026, 3, 1),
    "channel": "email",
}


@pytest.mark.parametrize("kind", JOBS, ids=lambda k: k.path)
def test_path_imports_to_a_function_on_a_registered_queue(kind: JobKind) -> None:
    module, _, attr = kind.path.rpartition(".")
    fn = getattr(importlib.import_module(module), attr)
    assert inspect.isfunction(fn)
    assert kind.queue in QUEUES


@pytest.mark.parametrize("kind", [k for k in JOBS if k.id_format], ids=lambda k: k.path)
def test_id_format_gives_an_id_rq_accepts(kind: JobKind) -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(kind.id_format or "") if name}
    job_id = kind.job_id(**{f: SAMPLE.get(f, 42) for f in fields})
    assert RQ_ID.match(job_id), job_id


def test_no_enqueue_names_a_job_path_outside_the_catalogue() -> None:
    # A literal "finjobs.jobs.x.y" in a service means an enqueue that bypasses the catalogue.
    root = Path(__file__).resolve().parents[2] / "finjobs" / "services"
    paths = {k.path for k in JOBS}
    literals = {
        (p.name, m)
        for p in root.glob("*.py")
        for m in re.findall(r"[\"'](finjobs\.jobs\.[a-z_]+\.[a-z_]+)[\"']", p.read_text())
    }
    assert {(name, m) for name, m in literals if m not in paths} == set()
