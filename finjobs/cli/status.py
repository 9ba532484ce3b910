"""`finjobs status [--watch]`: per queue waiting, active, delayed, failed, finished and workers, as bars."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from finjobs.cli import context

if TYPE_CHECKING:
    from rich.console import Group
    from rich.text import Text

    from finjobs.services.queues import QueueStats

BAR_WIDTH = 14


def _bar(s: QueueStats) -> Text:
    """One stacked bar per queue, like the design's diagram: active, waiting, delayed, failed."""
    from rich.text import Text

    parts = [(s.active, "green"), (s.waiting, "cyan"), (s.scheduled, "yellow"), (s.failed, "red")]
    total = sum(n for n, _ in parts)
    text = Text()
    if total == 0:
        return text.append("·" * BAR_WIDTH, style="dim")
    scale = BAR_WIDTH / max(total, BAR_WIDTH)
    for n, style in parts:
        if n:
            text.append("█" * max(1, round(n * scale)), style=style)
    return text


def render(stats: list[QueueStats]) -> Group:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="finjobs queues",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=0,
    )
    table.add_column("queue", no_wrap=True)
    for col in ("workers", "active", "waiting", "delayed", "failed", "done"):
        table.add_column(col, justify="right", min_width=len(col))
    table.add_column("load", no_wrap=True)
    for s in stats:
        workers = Text(f"{s.workers}/{s.concurrency}", style="green" if s.workers else "dim")
        table.add_row(
            Text.assemble(s.name, (" paused", "bold yellow") if s.paused else ""),
            workers,
            str(s.active),
            str(s.waiting),
            str(s.scheduled),
            Text(str(s.failed), style="red" if s.failed else ""),
            str(s.finished),
            _bar(s),
        )
    legend = Text.assemble(
        "load: ",
        ("█ active ", "green"),
        ("█ waiting ", "cyan"),
        ("█ delayed ", "yellow"),
        ("█ failed", "red"),
    )
    return Group(table, legend)


def status(
    watch: bool = typer.Option(False, "--watch", "-w", help="Redraw every second until Ctrl-C."),
    interval: float = typer.Option(1.0, help="Seconds between redraws with --watch."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show every queue: jobs waiting, running, delayed (retry backoff), failed, finished; workers."""
    from finjobs.services.queues import queue_stats  # rq and redis: not for --help

    redis = context.redis()
    if json_out:
        context.emit_json({"queues": [s.to_dict() for s in queue_stats(redis)]})
        return
    if not watch:
        context.console.print(render(queue_stats(redis)))
        return
    from rich.live import Live

    with Live(render(queue_stats(redis)), console=context.console, refresh_per_second=4) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(render(queue_stats(redis)))
        except KeyboardInterrupt:
            pass
