"""The digest each `FROM` image resolves to, for the build identity (issue 17: fresh base images).

One registry request per distinct base and run (the resolver remembers what it answered), with
the registry client's retries and, on the configured registry only, its credentials
(devops/wiring/images.py builds the clients; docs/security.md). In order:
- `FROM name@sha256:...` is its own digest (pinned, nothing asked);
- otherwise the base's registry is asked for the tag's manifest digest;
- a base its registry does not have (404) counts by the image ID of the local engine's copy
  (a base built on this machine, e.g. by an earlier step of the same job), never pulled;
- anything else (no such image anywhere, a registry that cannot be asked, a reference that is
  not one) fails: exit 3 (2 for a malformed reference), never a base silently left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from devops.domain.images.reference import BaseSource, ImageReference, ResolvedBase, parse_reference
from devops.errors import BadInput, DevopsError, ExternalError

SCRATCH = "scratch"


class BaseRegistry(Protocol):
    """The registries bases come from (devops/adapters/registry.py, one client per host)."""

    def manifest_digest(self, image: ImageReference) -> str | None: ...  # None: the registry has no such tag


class LocalImages(Protocol):
    """The local engine's image IDs (devops/adapters/docker.py); missing references left out."""

    def image_ids(self, references: Sequence[str]) -> dict[str, str]: ...


class BaseResolver:
    """Resolves base image references once per run; see the module docstring."""

    def __init__(self, registry: BaseRegistry, local: LocalImages | None = None, *, parallelism: int = 4) -> None:
        self.registry = registry
        self.local = local
        self.parallelism = parallelism
        self._known: dict[str, ResolvedBase] = {}
        self.requests = 0  # registry requests made (tests and the benchmark count them)

    def resolve(self, references: Sequence[str], where: Mapping[str, str] | None = None) -> dict[str, ResolvedBase]:
        """`reference -> ResolvedBase` for every reference; `where` names the Dockerfile of each
        reference for error messages."""
        where = where or {}
        missing = [r for r in dict.fromkeys(references) if r not in self._known]
        parsed: dict[str, ImageReference] = {}
        for reference in missing:
            if reference.lower() == SCRATCH:
                self._known[reference] = ResolvedBase(reference, "", BaseSource.PINNED)
                continue
            try:
                image = parse_reference(reference)
            except ValueError as exc:
                raise BadInput(f"{where.get(reference, 'Dockerfile')}: FROM {reference[:200]!r}: {exc}") from None
            if image.digest:
                self._known[reference] = ResolvedBase(reference, image.digest, BaseSource.PINNED)
            else:
                parsed[reference] = image
        if parsed:
            self._ask(parsed, where)
        return {reference: self._known[reference] for reference in references}

    def _ask(self, parsed: dict[str, ImageReference], where: Mapping[str, str]) -> None:
        def one(item: tuple[str, ImageReference]) -> tuple[str, str | None]:
            reference, image = item
            try:
                return reference, self.registry.manifest_digest(image)
            except DevopsError as exc:
                raise ExternalError(f"{where.get(reference, 'Dockerfile')}: base image {reference}: cannot ask "
                                    f"{image.host}: {exc.message}",
                                    hint="the build identity needs its digest; check the registry, the network "
                                         "and the credentials, or pin the base (FROM name@sha256:...)") from None

        self.requests += len(parsed)
        workers = max(1, min(self.parallelism, len(parsed)))
        if workers == 1:
            answers = [one(item) for item in parsed.items()]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bases") as pool:
                answers = list(pool.map(one, parsed.items()))
        absent = []
        for reference, digest in answers:
            if digest:
                self._known[reference] = ResolvedBase(reference, digest, BaseSource.REGISTRY)
            else:
                absent.append(reference)
        if not absent:
            return
        local = self.local.image_ids(absent) if self.local is not None else {}
        for reference in absent:
            if reference not in local:
                raise ExternalError(f"{where.get(reference, 'Dockerfile')}: base image {reference} is neither in "
                                    f"its registry ({parsed[reference].host}) nor in the local Docker engine",
                                    hint="push or build it first, or fix the FROM line or its build argument")
            self._known[reference] = ResolvedBase(reference, local[reference], BaseSource.LOCAL)
