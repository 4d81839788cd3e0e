"""SIGTERM as Ctrl-C for a run that must clean up: a cancelled CI job or `kill` stops the demo the
way Ctrl-C does (exit 130, everything it started stopped)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def terminate_as_interrupt() -> Iterator[Callable[[], None]]:
    """Inside, SIGTERM raises KeyboardInterrupt. The yielded `shield()` ignores SIGTERM from then
    on (the cleanup must not be cut short by a second one); the previous handler is back after.

    Only the main thread may set handlers: elsewhere (a test's thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def shield() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    try:
        yield shield
    finally:
        signal.signal(signal.SIGTERM, previous)
