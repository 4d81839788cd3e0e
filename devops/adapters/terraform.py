"""Terraform, wrapped: typed results in, specific errors out.

Every call goes through `devops.adapters.process.run`. `plan` and `apply` use Terraform's
machine-readable UI (`-json`), so diagnostics (with the failing resource address) and what
was applied are read from structured events, not scraped from coloured text. `init` has no
stable JSON UI, so its errors are read from `-no-color` text.

Errors: a held state lock -> `StateLocked` (names the lock ID, who holds it and how to
release it); a missing state bucket or lock table -> `BackendMissing` (says to run
`devops infra bootstrap`); anything else -> `TerraformFailed` naming the resource and
Terraform's message. All are exit 3.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.adapters import process
from devops.errors import ExternalError, ToolFailed, ToolMissing

INSTALL_HINT = "install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install) or set infra.terraform"


class TerraformFailed(ToolFailed):
    """Terraform exited non-zero; `diagnostics` holds what it said, `applied` what it did first."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        diagnostics: Sequence[Diagnostic] = (),
        applied: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = tuple(diagnostics)
        self.applied = tuple(applied)


class StateLocked(ExternalError):
    """The state lock is held by another run (or by one that died)."""

    def __init__(self, message: str, *, lock: LockInfo, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.lock = lock


class BackendMissing(ExternalError):
    """The S3 bucket or DynamoDB table of the backend does not exist: bootstrap was not run."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str | None = None

    def one_line(self) -> str:
        first = next((line.strip() for line in self.detail.splitlines() if line.strip()), "")
        where = f"{self.address}: " if self.address else ""
        return f"{where}{self.summary}" + (f": {first}" if first else "")


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str = ""
    operation: str = ""
    created: str = ""
    path: str = ""


@dataclass(frozen=True)
class PlanResult:
    path: Path
    has_changes: bool
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    applied: tuple[str, ...]
    summary: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StateStamp:
    """Identity of a state version: Terraform bumps `serial` on every write."""

    lineage: str
    serial: int

    def describe(self) -> str:
        return f"serial {self.serial}" + (f" (lineage {self.lineage[:8]})" if self.lineage else "")


def cli_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables every Terraform run gets: no prompts, no update checks, a CLI config that exists.

    A `TF_CLI_CONFIG_FILE` that names a missing file makes every command warn (this machine's
    image does that); it is pointed at an empty file then. A real file is left alone: it may
    hold a plugin cache or registry credentials the user relies on.
    """
    env = os.environ if environ is None else environ
    extra = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    configured = env.get("TF_CLI_CONFIG_FILE")
    if configured is not None and not Path(configured).is_file():
        extra["TF_CLI_CONFIG_FILE"] = os.devnull
    return extra


class Terraform:
    """One Terraform root directory, run with the given binary and environment."""

    def __init__(
        self,
        root: Path,
        *,
        binary: str = "terraform",
        env: Mapping[str, str] | None = None,
        timeout: float = 3600,
        secrets: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.binary = binary
        self.env = {**cli_environment(), **(env or {})}
        self.timeout = timeout
        self.secrets = tuple(secrets)

    # -- plumbing -------------------------------------------------------------------------
    def _run(self, *args: str, timeout: float | None = None) -> process.ProcessResult:
        require(self.binary)
        return process.run(
            [self.binary, f"-chdir={self.root}", *args],
            env=self.env,
            timeout=timeout or self.timeout,
            check=False,
            install_hint=INSTALL_HINT,
            secrets=self.secrets,
        )

    def _run_locking(self, name: str, *args: str) -> tuple[process.ProcessResult, list[dict[str, Any]]]:
        """Run a command that takes the state lock; recover from a lock orphaned by itself.

        A retried lock write can find the item its own first, answered-too-late attempt
        wrote (the AWS SDK retries a PutItem whose response was lost), and Terraform then
        reports the state as locked, by itself. The lock IDs Terraform tried to take are read
        from its INFO log; when the held lock is one of them it is this run's own orphan: it
        is released and the command run again (at most twice). A lock held by anyone else is
        never touched.
        """
        attempts = 3  # a lost answer is rare; twice in a row is possible on a bad network
        for attempt in range(1, attempts + 1):
            result, own_ids = self._run_traced(*args)
            events = _events(result.stdout)
            if result.returncode in (0, 2) or attempt == attempts:
                return result, events
            error = _error_from_events(self._command([name]), result, _diagnostics(events), _applied(events))
            if not (isinstance(error, StateLocked) and error.lock.id in own_ids) or _applied(events):
                return result, events
            self.force_unlock(error.lock.id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_traced(self, *args: str) -> tuple[process.ProcessResult, set[str]]:
        """`_run` with Terraform's INFO log in a private file, to learn the lock IDs it tried.
        Skipped when the user set TF_LOG/TF_LOG_PATH (their debugging wins)."""
        if os.environ.get("TF_LOG") or os.environ.get("TF_LOG_PATH"):
            return self._run(*args), set()
        handle, log_path = tempfile.mkstemp(prefix="devops-terraform-", suffix=".log")
        os.close(handle)
        saved = dict(self.env)
        self.env.update({"TF_LOG": "INFO", "TF_LOG_PATH": log_path})
        try:
            result = self._run(*args)
            try:
                text = Path(log_path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            return result, set(_LOCK_ATTEMPT.findall(text))
        finally:
            self.env = saved
            Path(log_path).unlink(missing_ok=True)

    def _command(self, args: Sequence[str]) -> str:
        return f"terraform {' '.join(args)} ({_short(self.root)})"

    # -- commands -------------------------------------------------------------------------
    def version(self) -> str:
        """`terraform version`, e.g. "1.11.4"."""
        result = self._run("version", "-json", timeout=60)
        if not result.ok:
            raise ToolFailed(f"terraform version: exited {result.returncode}: {result.tail(3)}")
        try:
            return str(json.loads(result.stdout)["terraform_version"])
        except (ValueError, KeyError):
            raise ToolFailed("terraform version -json: unexpected output") from None

    def init(self, backend_config: Path | None, *, migrate_state: bool = False) -> None:
        """`terraform init` with a generated backend file; `-reconfigure` so the backend is
        always exactly the generated one, never what an earlier run left in `.terraform/`."""
        args = ["init", "-input=false", "-no-color"]
        if backend_config is None:
            pass
        elif migrate_state:
            args += ["-migrate-state", "-force-copy", f"-backend-config={backend_config}"]
        else:
            args += ["-reconfigure", f"-backend-config={backend_config}"]
        result = self._run(*args)
        if not result.ok:
            raise _error_from_text(self._command(args[:1]), result)

    def plan(
        self,
        out: Path,
        *,
        var_file: Path | None = None,
        destroy: bool = False,
        lock_timeout: str = "0s",
    ) -> PlanResult:
        """Plan into `out`; `has_changes` from `-detailed-exitcode` (0 none, 2 changes)."""
        args = [
            "plan",
            "-input=false",
            "-json",
            "-detailed-exitcode",
            f"-lock-timeout={lock_timeout}",
            f"-out={out}",
        ]
        if var_file is not None:
            args.append(f"-var-file={var_file}")
        if destroy:
            args.append("-destroy")
        result, events = self._run_locking("plan", *args)
        diagnostics = _diagnostics(events)
        if result.returncode not in (0, 2):
            raise _error_from_events(self._command(["plan"]), result, diagnostics)
        return PlanResult(out, result.returncode == 2, tuple(d for d in diagnostics if d.severity == "warning"))

    def show_plan(self, plan: Path) -> dict[str, Any]:
        """`terraform show -json PLAN`: the plan as Terraform's JSON representation."""
        result = self._run("show", "-json", "-no-color", str(plan), timeout=600)
        if not result.ok:
            raise _error_from_text(self._command(["show", "-json", str(plan)]), result)
        try:
            data = json.loads(result.stdout)
        except ValueError:
            raise ToolFailed(f"{self._command(['show', '-json'])}: output is not JSON") from None
        if not isinstance(data, dict):
            raise ToolFailed(f"{self._command(['show', '-json'])}: expected a JSON object")
        return data

    def apply(self, plan: Path, *, lock_timeout: str = "0s") -> ApplyResult:
        """Apply a saved plan. On failure `TerraformFailed.applied` lists what was changed."""
        args = ["apply", "-input=false", "-json", "-auto-approve", f"-lock-timeout={lock_timeout}", str(plan)]
        result, events = self._run_locking("apply", *args)
        applied = _applied(events)
        if not result.ok:
            raise _error_from_events(self._command(["apply"]), result, _diagnostics(events), applied)
        summary: dict[str, int] = {}
        outputs: dict[str, Any] = {}
        for event in events:
            if event.get("type") == "change_summary":
                changes = event.get("changes", {})
                summary = {k: int(v) for k, v in changes.items() if isinstance(v, int)}
            elif event.get("type") == "outputs":
                outputs = dict(event.get("outputs", {}))
        return ApplyResult(tuple(applied), summary, outputs)

    def output(self) -> dict[str, Any]:
        """`terraform output -json`: name -> {value, type, sensitive}."""
        result = self._run("output", "-json", "-no-color", timeout=600)
        if not result.ok:
            raise _error_from_text(self._command(["output"]), result)
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            raise ToolFailed(f"{self._command(['output', '-json'])}: output is not JSON") from None
        return dict(data)

    def state_stamp(self) -> StateStamp | None:
        """Lineage and serial of the current remote state; None when there is no state yet."""
        result = self._run("state", "pull", timeout=600)
        if not result.ok:
            raise _error_from_text(self._command(["state", "pull"]), result)
        if not result.stdout.strip():
            return None
        try:
            state = json.loads(result.stdout)
        except ValueError:
            raise ToolFailed(f"{self._command(['state', 'pull'])}: output is not JSON") from None
        return StateStamp(str(state.get("lineage", "")), int(state.get("serial", 0)))

    def force_unlock(self, lock_id: str) -> None:
        """Release a lock left by a run that died (`terraform force-unlock -force ID`)."""
        result = self._run("force-unlock", "-force", "-no-color", lock_id, timeout=300)
        if not result.ok:
            raise _error_from_text(self._command(["force-unlock", lock_id]), result)

    def fmt_check(self) -> list[str]:
        """Files `terraform fmt -check -recursive` would rewrite (empty when all formatted)."""
        result = self._run("fmt", "-check", "-recursive", "-list=true", "-no-color", timeout=300)
        if result.returncode not in (0, 3):
            raise _error_from_text(self._command(["fmt", "-check"]), result)
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def _short(path: Path) -> str:
    """A path as a person would type it: relative to the current folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plan_state_stamp(plan: Path) -> StateStamp | None:
    """The state a saved plan was made against, read from the plan file itself.

    A saved plan is a zip archive; its `tfstate` member is the prior state with the serial and
    lineage Terraform compares on apply (`tfstate-prev` carries no serial). None for a plan
    made against no state.
    """
    try:
        with zipfile.ZipFile(plan) as archive:
            names = set(archive.namelist())
            member = "tfstate" if "tfstate" in names else "tfstate-prev"
            state = json.loads(archive.read(member))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ToolFailed(f"{plan}: not a readable Terraform plan file ({exc})") from None
    lineage = str(state.get("lineage") or "")
    serial = int(state.get("serial") or 0)
    if not lineage and serial == 0 and not state.get("resources"):
        return None
    return StateStamp(lineage, serial)


# -- parsing ------------------------------------------------------------------------------
def _events(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _diagnostics(events: Sequence[Mapping[str, Any]]) -> list[Diagnostic]:
    found = []
    for event in events:
        if event.get("type") != "diagnostic":
            continue
        diag = event.get("diagnostic", {})
        found.append(
            Diagnostic(
                severity=str(diag.get("severity", "error")),
                summary=str(diag.get("summary", "")).strip(),
                detail=str(diag.get("detail", "")),
                address=diag.get("address") or None,
            )
        )
    return found


def _applied(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Addresses Terraform finished changing, with the action: "create terraform_data.a"."""
    done = []
    for event in events:
        if event.get("type") == "apply_complete":
            hook = event.get("hook", {})
            addr = hook.get("resource", {}).get("addr", "?")
            done.append(f"{hook.get('action', 'change')} {addr}")
    return done


# Terraform's INFO log line when it tries to take the state lock (S3 backend).
_LOCK_ATTEMPT = re.compile(r"Attempting to lock remote state[^\n]*?tf_backend\.lock\.id=([0-9a-fA-F-]{36})")
_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)


def parse_lock_info(text: str) -> LockInfo | None:
    """The "Lock Info:" block Terraform prints when a lock is held."""
    if "Lock Info:" not in text:
        return None
    fields = dict(_LOCK_FIELD.findall(text.split("Lock Info:", 1)[1]))
    if not fields.get("ID"):
        return None
    return LockInfo(
        fields["ID"],
        fields.get("Who", ""),
        fields.get("Operation", ""),
        fields.get("Created", ""),
        fields.get("Path", ""),
    )


def _special(command: str, text: str) -> ExternalError | None:
    """Errors that have a specific remedy: a held lock, a backend that was never bootstrapped."""
    if "Error acquiring the state lock" in text:
        lock = parse_lock_info(text) or LockInfo("unknown")
        held = f"by {lock.who} " if lock.who else ""
        since = f"since {lock.created} " if lock.created else ""
        return StateLocked(
            f"{command}: the state lock is held {held}{since}(lock ID {lock.id}, {lock.operation or 'operation'})",
            lock=lock,
            hint=f"wait for that run to finish; if it died, release it with "
            f"`devops infra unlock --env <env> --lock-id {lock.id}` (terraform force-unlock {lock.id})",
        )
    bucket = re.search(r'S3 bucket "([^"]+)" does not exist', text) or re.search(r"NoSuchBucket", text)
    if bucket:
        name = bucket.group(1) if bucket.groups() else "(configured)"
        return BackendMissing(
            f"{command}: the state bucket {name} does not exist",
            hint="run `devops infra bootstrap` once for this account",
        )
    if "ResourceNotFoundException" in text and ("DynamoDB" in text or "dynamodb" in text):
        return BackendMissing(
            f"{command}: the state lock table does not exist",
            hint="run `devops infra bootstrap` once for this account",
        )
    return None


def _error_from_events(
    command: str,
    result: process.ProcessResult,
    diagnostics: Sequence[Diagnostic],
    applied: Sequence[str] = (),
) -> ExternalError:
    errors = [d for d in diagnostics if d.severity == "error"]
    everything = "\n".join(f"{d.summary}\n{d.detail}" for d in errors) + "\n" + result.stderr
    special = _special(command, everything)
    if special is not None:
        return special
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        return TerraformFailed(f"{command} failed: {first.one_line()}{more}", diagnostics=errors, applied=applied)
    return TerraformFailed(f"{command} exited {result.returncode}: {result.tail(5)}", applied=applied)


_TEXT_ERROR = re.compile(r"^Error: (.+)$", re.MULTILINE)
_TEXT_WITH = re.compile(r"^\s*with (\S+),", re.MULTILINE)


def _error_from_text(command: str, result: process.ProcessResult) -> ExternalError:
    text = result.stderr + "\n" + result.stdout
    special = _special(command, text)
    if special is not None:
        return special
    errors = _TEXT_ERROR.findall(text)
    if errors:
        where = _TEXT_WITH.search(text)
        address = f"{where.group(1)}: " if where else ""
        return TerraformFailed(f"{command} failed: {address}{errors[0].strip()}")
    return TerraformFailed(f"{command} exited {result.returncode}: {result.tail(5)}")


def require(binary: str) -> str:
    """The Terraform binary's path, or `ToolMissing` saying how to install it."""
    try:
        return process.which(binary, hint=INSTALL_HINT)
    except ToolMissing:
        raise ToolMissing(f"{binary}: Terraform is not installed (not found on PATH)", hint=INSTALL_HINT) from None
