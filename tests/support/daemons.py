"""Server processes tests start (Prometheus, Pushgateway, blackbox exporter), on free ports.

Each runs with its output in a log file, is polled until its readiness URL answers 200 (or it
exits, which raises with the log's tail), and is stopped with TERM, then KILL.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.stack import free_port

__all__ = ["Proc", "free_port"]


@dataclass
class Proc:
    """A process a test started, its output in a log file (shown when it misbehaves)."""

    name: str
    args: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def wait_ready(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {url} within {timeout} s ({last}):\n{self.tail()}")

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
