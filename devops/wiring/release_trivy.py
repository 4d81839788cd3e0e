"""Trivy as a release uses it: one `trivy server` for the scans of several images, and a scan's
verdict as the release records it (devops/wiring/release.py)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from devops.app.release import ScanOutcome
from devops.errors import DevopsError

if TYPE_CHECKING:
    from devops.adapters.trivy import Trivy, TrivyServer
    from devops.app.scan import ScanRun


def serves(scanners: Sequence[Sequence[str]]) -> bool:
    """Whether a release whose images scan with these scanners gets a `trivy server`: only with
    several images (one alone needs no shared layer cache) that all scan for vulnerabilities (a
    server needs the vulnerability DB to start: a release that scans for secrets only, the demo
    on a machine without a DB, scans each image on its own)."""
    return len(scanners) > 1 and all("vuln" in chosen for chosen in scanners)


class ReleaseTrivy:
    """One `trivy server` for the scans of a release of several images, started on the first scan
    and stopped when the release's images are done: every layer is analysed once, whatever scans
    run at once (with a layer cache per process, each scan analysed the shared base layers again;
    the cache dir's bolt file admits one process, so the server keeps them in memory). Fail
    closed: a server that does not start is the scan's error (exit 3), never a pass."""

    def __init__(self, trivy: Trivy, *, serve: bool = True) -> None:
        # One image: no server to start and wait for, the image's layers in that Trivy's memory.
        self._trivy = trivy if serve else trivy.with_cache_backend("memory")
        self._serve = serve
        self._lock = threading.Lock()
        self._server: TrivyServer | None = None
        self._failed: DevopsError | None = None
        self._folder: str | None = None

    def client(self) -> Trivy:
        from pathlib import Path

        from devops.adapters.scratch import adopt, scratch_folder

        if not self._serve:
            return self._trivy
        with self._lock:
            if self._failed is not None:
                raise self._failed  # the server did not start: every scan of the run says so, none retries
            if self._server is None:
                self._folder = self._folder or str(scratch_folder("devops-trivy-server-"))
                try:
                    self._server = self._trivy.serve(Path(self._folder) / "trivy-server.log")
                except DevopsError as exc:
                    self._failed = exc
                    raise
                # A SIGKILL of this run does not reach the server (a session of its own): the
                # next run's sweep of this folder ends it.
                adopt(Path(self._folder), self._server.pid)
            return self._server.client()

    def stop(self) -> None:
        import shutil

        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None


def scan_outcome(scan: Any, run: ScanRun) -> ScanOutcome:
    verdict = scan.verdict
    return ScanOutcome(passed=verdict.passed, counts=verdict.counts(), failing=len(verdict.failing),
                       trivy_version=run.trivy_version, db=run.db_updated_at or None)
