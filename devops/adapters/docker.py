"""The Docker engine: image inspection, builds, login and pushes.

Everything runs the docker CLI through `devops.adapters.process.run` (a timeout that kills a
hung push, the captured output whose tail shows the failing build step, the token on stdin).
Inspection asks once for many images (`docker image inspect A B C ...`), so what a plan or a
build with nothing to do costs does not grow with the number of services.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from functools import cached_property

from devops.adapters.process import ProcessResult, run
from devops.domain.images.results import SOURCE_LABEL, BuildSpec, PushFailed
from devops.errors import ExternalError, ToolFailed

__all__ = ["BuildFailed", "BuildSpec", "DaemonUnavailable", "DockerEngine", "PushFailed"]

INSTALL_HINT = "install Docker (Debian: apt-get install docker.io)"
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_NO_SUCH_IMAGE = re.compile(r"No such image: (\S+)\s*$", re.IGNORECASE)


class DaemonUnavailable(ExternalError):
    """No Docker daemon answers."""


class BuildFailed(ToolFailed):
    """`docker build` exited non-zero; the message carries the failing step's output tail."""


# What docker push prints for failures worth retrying, and for refusals that are not.
_RETRYABLE = re.compile(
    r"toomanyrequests|too many requests|\b429\b|\b50[0234]\b|service unavailable|bad gateway|"
    r"gateway time-?out|internal server error|connection reset|broken pipe|unexpected eof|\beof\b|"
    r"i/o timeout|tls handshake timeout|connection refused|server closed idle connection",
    re.IGNORECASE,
)
_REFUSED = re.compile(
    r"unauthorized|authentication required|denied|forbidden|\b401\b|\b403\b|\b404\b|name unknown|not found",
    re.IGNORECASE,
)


class DockerEngine:
    """One Docker engine, reached through the docker CLI and DOCKER_HOST."""

    def __init__(self, executable: str = "docker") -> None:
        self.executable = executable
        self.inspections = 0  # `docker image inspect` processes (tests and the benchmark count them)

    def check(self) -> str:
        """The engine's version; `DaemonUnavailable` when no daemon answers."""
        result = run([self.executable, "version", "--format", "{{.Server.Version}}"],
                     check=False, timeout=30, install_hint=INSTALL_HINT)
        if not result.ok:
            where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
            raise DaemonUnavailable(
                f"no Docker daemon answers at {where}: {result.tail(1)}",
                hint="start it (systemctl start docker, or dockerd &) or fix DOCKER_HOST",
            )
        return result.stdout.strip()

    @cached_property
    def has_buildx(self) -> bool:
        return run([self.executable, "buildx", "version"], check=False, timeout=30).ok

    def inspect(self, references: Iterable[str]) -> dict[str, tuple[str, list[str]]]:
        """`reference -> (image ID, repo digests)` of the references the engine has, one process
        for all (those it does not have are left out)."""
        wanted = list(dict.fromkeys(references))
        if not wanted:
            return {}
        self.inspections += 1
        result = run([self.executable, "image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}",
                      *wanted], check=False, timeout=120, install_hint=INSTALL_HINT)
        missing = set()
        for line in result.stderr.splitlines():
            match = _NO_SUCH_IMAGE.search(line)
            if match:
                missing.add(match.group(1).strip())
            elif line.strip() and not result.ok:
                self._raise_for_daemon(result)
                raise ExternalError(f"docker image inspect: {line.strip()[:300]}")
        found = [ref for ref in wanted if ref not in missing]
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if len(lines) != len(found):  # unexpected output: ask one by one rather than guess
            if len(wanted) == 1:
                raise ExternalError(f"docker image inspect {wanted[0]}: unexpected output {result.stdout[:200]!r}")
            answers: dict[str, tuple[str, list[str]]] = {}
            for ref in wanted:
                answers.update(self.inspect([ref]))
            return answers
        answers = {}
        for ref, line in zip(found, lines, strict=True):
            image, _, digests = line.partition(" ")
            try:
                listed = json.loads(digests) or []
            except ValueError:
                raise ExternalError(f"docker image inspect {ref}: unexpected output {line[:200]!r}") from None
            answers[ref] = (image.strip(), [str(d) for d in listed])
        return answers

    def existing(self, references: Iterable[str]) -> set[str]:
        """The references the engine has, one process for all."""
        return set(self.inspect(references))

    def image_ids(self, references: Iterable[str]) -> dict[str, str]:
        return {ref: found[0] for ref, found in self.inspect(references).items()}

    def image_id(self, reference: str) -> str | None:
        """The local image ID of `reference`, or None when there is no such image."""
        found = self.inspect([reference]).get(reference)
        return found[0] if found else None

    def image_exists(self, reference: str) -> bool:
        return reference in self.existing([reference])

    def repo_digests(self, reference: str) -> list[str]:
        found = self.inspect([reference]).get(reference)
        return found[1] if found else []

    def source_digests(self, repositories: Iterable[str]) -> dict[str, set[str]]:
        """The source hashes (the label devops puts on every build) of the local images of
        `repositories`: two processes whatever their number."""
        wanted = set(repositories)
        if not wanted:
            return {}
        listed = run([self.executable, "image", "ls", "--no-trunc", "--filter", f"label={SOURCE_LABEL}",
                      "--format", "{{.ID}} {{.Repository}}"], check=False, timeout=60, install_hint=INSTALL_HINT)
        if not listed.ok:
            self._raise_for_daemon(listed)
            return {}
        ids: dict[str, str] = {}
        for line in listed.stdout.splitlines():
            image, _, repository = line.strip().partition(" ")
            if repository in wanted:
                ids[image] = repository
        if not ids:
            return {}
        labels = run([self.executable, "image", "inspect", "--format",
                      f'{{{{.Id}}}} {{{{index .Config.Labels "{SOURCE_LABEL}"}}}}', *ids], check=False, timeout=120,
                     install_hint=INSTALL_HINT)
        found: dict[str, set[str]] = {}
        for line in labels.stdout.splitlines():
            image, _, source = line.strip().partition(" ")
            if image in ids and source:
                found.setdefault(ids[image], set()).add(source)
        return found

    def build(self, spec: BuildSpec, *, use_buildx: bool, timeout: float) -> str:
        """Build `spec`; return the image ID. `BuildFailed` shows the failing step's output."""
        args: list[str] = [self.executable]
        if use_buildx:
            args += ["buildx", "build", "--load", "--progress=plain"]
            if spec.platforms:
                args += ["--platform", ",".join(spec.platforms)]
            for source in spec.cache_from:
                args += ["--cache-from", source]
            if spec.cache_to:
                args += ["--cache-to", spec.cache_to]
        else:
            args += ["build"]
        if spec.no_cache:
            args.append("--no-cache")
        args += ["--file", str(spec.dockerfile)]
        for key, value in sorted(spec.build_args.items()):
            args += ["--build-arg", f"{key}={value}"]
        for key, value in sorted(spec.labels.items()):
            args += ["--label", f"{key}={value}"]
        for tag in spec.tags:
            args += ["--tag", tag]
        args.append(str(spec.context))
        env = {"DOCKER_BUILDKIT": "1" if use_buildx else "0"}
        result = run(args, check=False, timeout=timeout, env=env, install_hint=INSTALL_HINT)
        if not result.ok:
            self._raise_for_daemon(result)
            raise BuildFailed(f"docker build of {spec.context} failed: {_last_error(result)}\n{_build_tail(result)}")
        image = self.image_id(spec.tags[0])
        if image is None:
            raise ToolFailed(f"docker build of {spec.context} succeeded but {spec.tags[0]} is not in the engine")
        return image

    def tag(self, source: str, target: str) -> None:
        run([self.executable, "tag", source, target], timeout=60)

    def pull(self, reference: str, *, timeout: float = 900) -> str:
        """Pull `reference` (e.g. `repo@sha256:...`); return the local image ID."""
        result = run([self.executable, "pull", "--quiet", reference], check=False, timeout=timeout,
                     install_hint=INSTALL_HINT)
        if not result.ok:
            self._raise_for_daemon(result)
            raise ExternalError(f"docker pull {reference}: {result.tail(1)}",
                                hint="check that the image still exists in the registry and the credentials")
        image = self.image_id(reference)
        if image is None:
            raise ToolFailed(f"docker pull {reference} succeeded but the image is not in the engine")
        return image

    def login(self, server: str, username: str, token: str) -> None:
        """`docker login --password-stdin`: the token never appears on a command line."""
        result = run([self.executable, "login", "--username", username, "--password-stdin", server],
                     stdin=token, check=False, timeout=60, secrets=[token])
        if not result.ok:
            raise ExternalError(
                f"docker login {server} as {username} failed: {result.tail(1).replace(token, '***')}",
                hint="check DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (an access token with write scope)",
            )

    def push(self, reference: str, *, timeout: float) -> str:
        """Push one tag; return the digest the registry reported. Raises `PushFailed`."""
        from devops.errors import ToolTimeout

        try:
            result = run([self.executable, "push", reference], check=False, timeout=timeout)
        except ToolTimeout as exc:
            raise PushFailed(f"docker push {reference}: {exc.message}", retryable=True) from None
        if not result.ok:
            self._raise_for_daemon(result)
            output = result.tail(8)
            last = result.tail(1)
            retryable = bool(_RETRYABLE.search(output)) and not _REFUSED.search(last)
            hint = None if retryable else "check the registry credentials, the repository name and its permissions"
            raise PushFailed(f"docker push {reference}: {last}", retryable=retryable, output=output, hint=hint)
        match = DIGEST_LINE.search(result.stdout)
        if not match:
            raise ToolFailed(f"docker push {reference}: finished without reporting a digest")
        return match.group(1)

    def _raise_for_daemon(self, result: ProcessResult) -> None:
        if "Cannot connect to the Docker daemon" in result.stderr or "error during connect" in result.stderr:
            where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
            raise DaemonUnavailable(f"no Docker daemon answers at {where}",
                                    hint="start it (systemctl start docker, or dockerd &) or fix DOCKER_HOST")


# The classic builder's deprecation banner says nothing about why a build failed.
_NOISE = re.compile(r"DEPRECATED: The legacy builder|BuildKit is currently disabled|environment-variable\.|"
                    r"Install the buildx component|docs\.docker\.com/go/buildx")


def _build_tail(result: ProcessResult, lines: int = 25) -> str:
    """The output of the failing step: everything after the last 'Step N/M' (classic builder)
    or the last '#N' block (BuildKit), capped to the last `lines` lines."""
    text = [line for line in (result.stdout + "\n" + result.stderr).strip().splitlines()
            if not _NOISE.search(line)]
    start = 0
    for index, line in enumerate(text):
        if line.startswith("Step ") or re.match(r"#\d+ \[", line):
            start = index
    tail = text[start:][-lines:]
    return "\n".join("  " + line for line in tail)


def _last_error(result: ProcessResult) -> str:
    lines = [line.strip() for line in (result.stdout + "\n" + result.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {result.returncode}"


def short_platforms(platforms: Sequence[str]) -> str:
    return ",".join(platforms)
