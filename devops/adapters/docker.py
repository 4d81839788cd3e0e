"""The Docker engine: image inspection, builds, login and pushes.

Inspection and login use python-on-whales (typed objects; the token goes on stdin). Builds
and pushes run the docker CLI through `devops.adapters.process.run`, because they need what
python-on-whales does not give: a timeout that kills a hung push, and the captured output
whose tail shows the failing build step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cached_property

from devops.adapters.process import ProcessResult, run
from devops.domain.images.results import BuildSpec, PushFailed
from devops.errors import ExternalError, ToolFailed

__all__ = ["BuildFailed", "BuildSpec", "DaemonUnavailable", "DockerEngine", "PushFailed"]

INSTALL_HINT = "install Docker (Debian: apt-get install docker.io)"
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")


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

    @cached_property
    def _whales(self):  # type: ignore[no-untyped-def]
        from python_on_whales import DockerClient

        return DockerClient(client_call=[self.executable])

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

    def image_id(self, reference: str) -> str | None:
        """The local image ID of `reference`, or None when there is no such image."""
        from python_on_whales.exceptions import NoSuchImage

        try:
            return str(self._whales.image.inspect(reference).id)
        except NoSuchImage:
            return None

    def image_exists(self, reference: str) -> bool:
        return self._whales.image.exists(reference)

    def repo_digests(self, reference: str) -> list[str]:
        return list(self._whales.image.inspect(reference).repo_digests or [])

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
