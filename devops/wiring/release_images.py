"""The images of a release, each on its own way through the steps: scanned as soon as it is built
(or pulled), pushed under its identity tag as soon as the release says its gates passed
(`may_push`, devops/app/release.py), while the other images are still building or scanning.

The first scan runs alone (it fills Trivy's layer cache with the base layers the others share,
and updates Trivy's DB if it must), then `scans_at_once` run together. Pushes run
`pushes_at_once` at a time (one by default: a push after the first finds the shared base layers
in the registry and mounts them instead of compressing and uploading them again).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from devops.app.release import Delivered, MayPush, ScanOutcome
from devops.domain.images.plan import ServicePlan
from devops.domain.images.results import BuildResult, PushResult
from devops.errors import DevopsError


@dataclass
class _Image:
    plan: ServicePlan
    build: BuildResult
    scan: Future[None]
    outcome: ScanOutcome | None = None
    scan_error: DevopsError | None = None
    push: Future[None] | None = None
    pushed: PushResult | None = None
    push_error: str = ""


class ImagePipeline:
    """Scan then (gates permitting) push each image as it becomes ready; `wait()` collects."""

    def __init__(self, *, scan: Callable[[ServicePlan, str], ScanOutcome],
                 push: Callable[[ServicePlan, BuildResult], PushResult], may_push: MayPush,
                 scans_at_once: int, pushes_at_once: int = 1) -> None:
        self._scan, self._push, self._may_push = scan, push, may_push
        self._scanner = ThreadPoolExecutor(max_workers=max(1, scans_at_once), thread_name_prefix="scan")
        self._pusher = ThreadPoolExecutor(max_workers=max(1, pushes_at_once), thread_name_prefix="push")
        self._images: dict[str, _Image] = {}
        self._lock = threading.Lock()  # builds end on their own threads
        self._first_scan = threading.Event()  # set when the run's first scan has ended

    def start(self, plan: ServicePlan, build: BuildResult) -> None:
        """The image of `plan` is in the engine (built, found or pulled): scan it, then push it."""
        with self._lock:
            if plan.service in self._images or build.error:
                return
            first = not self._images
            image = self._images[plan.service] = _Image(plan, build, Future())  # its scan's future, next
            image.scan = self._scanner.submit(self._scan_then_push, image, first)

    def _scan_then_push(self, image: _Image, first: bool) -> None:
        if not first:
            self._first_scan.wait()
        try:
            image.outcome = self._scan(image.plan, image.build.image)
        except DevopsError as exc:
            image.scan_error = exc
        finally:
            if first:
                self._first_scan.set()
        if image.outcome is not None:
            image.push = self._pusher.submit(self._gate_then_push, image, image.outcome)

    def _gate_then_push(self, image: _Image, outcome: ScanOutcome) -> None:
        if not self._may_push(image.plan.service, outcome):  # may wait for Sonar's verdict
            return
        result = self._push(image.plan, image.build)
        image.pushed = result
        image.push_error = result.error

    def wait(self, plans: Sequence[ServicePlan], how: dict[str, str], errors: dict[str, str]) -> list[Delivered]:
        """Every scan and push ended: one `Delivered` per plan (`how` and build `errors` by service)."""
        try:
            for image in list(self._images.values()):
                image.scan.result()
            for image in list(self._images.values()):
                if image.push is not None:
                    image.push.result()
        finally:
            self._scanner.shutdown(wait=True, cancel_futures=True)
            self._pusher.shutdown(wait=True, cancel_futures=True)
        delivered = []
        for plan in plans:
            found = self._images.get(plan.service)
            if found is None:
                delivered.append(Delivered(plan.service, plan.image, how.get(plan.service, ""),
                                           error=errors.get(plan.service) or "not built"))
                continue
            image, pushed = found, found.pushed
            delivered.append(Delivered(
                plan.service, image.build.image, how.get(plan.service, ""), scan=image.outcome,
                scan_error=image.scan_error, digest=pushed.digest if pushed and not pushed.error else "",
                pushed=bool(pushed and pushed.digest and not pushed.error and not pushed.skipped_reason),
                push_error=image.push_error))
        return delivered
