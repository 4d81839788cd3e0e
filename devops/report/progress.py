"""Progress of parallel work: a live display on a terminal, one plain line per event in CI."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from devops.report.console import Reporter


class ProgressSink(Protocol):
    def __call__(self, item: str, message: str) -> None: ...


@contextmanager
def progress(reporter: Reporter, verb: str, items: Sequence[str]) -> Iterator[ProgressSink]:
    """Yield a callback `(item, message)` that shows what each parallel job is doing."""
    lock = threading.Lock()
    if not reporter.interactive or reporter.json_mode:
        def plain(item: str, message: str) -> None:
            with lock:
                reporter.info(f"{verb} {item}: {message}")

        yield plain
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=reporter.console, transient=True) as bar:
        tasks = {item: bar.add_task(f"{verb} {item}: waiting", total=None) for item in items}

        def live(item: str, message: str) -> None:
            with lock:
                bar.update(tasks[item], description=f"{verb} {item}: {message}")

        yield live
