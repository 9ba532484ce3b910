"""A producer in a forked child process: an import's parser runs there, beside the inserts."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
# the child's first-generation collection threshold (Python's default is 700): a chunk of rows is
# thousands of live objects, so the default ran a collection every few hundred rows, each looking
# at the chunk so far; measured ~20% of a parse-only loop over 100k sample rows (noisy, load ~5).
# Cycles are still collected, every this many net allocations, so memory stays bounded.
CHILD_GC_THRESHOLD = 100_000


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ProducedInChild(Generic[T]):
    """The items of `items`, produced in a forked child process: parsing has its own interpreter lock
    there, so it runs truly alongside the inserts (a thread measured 1.4x slower on SQLite, where both
    sides are Python). The pipe holds little, so the child is at most about an item ahead and memory
    stays bounded. After the last item the child sends `summary()` (what the iteration counted), kept
    in `.summary`. An exception in the child (an InputError part-way through the file, a database
    error) is raised here. The child dies with its parent: its next send fails; leaving early ends it.
    The child touches only what it opens itself (engines are per process) and exits without cleanup,
    so the parent's open transaction is never disturbed."""

    def __init__(self, items: Iterator[T], *, summary: Callable[[], Any]) -> None:
        self.items, self.make_summary = items, summary
        self.summary: Any = None

    def _produce(self, receive: Any, send: Any) -> None:
        receive.close()  # only the parent reads: with the parent gone, a send then fails at once
        gc.set_threshold(CHILD_GC_THRESHOLD, *gc.get_threshold()[1:])  # this process only
        try:
            for item in self.items:
                send.send(("item", item))
            send.send(("end", self.make_summary()))
        except BaseException as exc:
            try:
                send.send(("error", exc))
            except Exception:  # unpicklable, or the parent is gone
                with contextlib.suppress(Exception):
                    send.send(("error", RuntimeError(f"import parser: {type(exc).__name__}: {exc}")))

    def __iter__(self) -> Iterator[T]:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=self._produce, args=(receive, send), name="import-parser", daemon=True)
        gc.freeze()  # the child's collector then leaves the inherited heap alone: fewer pages copied
        try:
            child.start()
        finally:
            gc.unfreeze()
        send.close()
        try:
            while True:
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    raise RuntimeError(f"import parser died (exit code {child.exitcode})") from None
                if kind == "item":
                    yield payload
                elif kind == "end":
                    self.summary = payload
                    return
                else:
                    raise payload
        finally:
            receive.close()
            if child.is_alive():
                child.terminate()
            child.join()
