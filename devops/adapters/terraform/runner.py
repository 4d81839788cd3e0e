"""Terraform, wrapped: one root directory, typed results in, specific errors out.

Every call goes through `devops.adapters.process.run`. `plan` and `apply` use Terraform's
machine-readable UI (`-json`, read by `events`); failures become the errors of `errors`;
documents (plan files, state, outputs) are read by `models`. Implements the `Terraform` port
of devops/app/infra/ports.py.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devops.adapters import process
from devops.adapters.terraform import errors, events, models
from devops.domain.infra.terraform import ApplyResult, PlanResult, StateLocked, StateStamp
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import ToolFailed, ToolMissing

INSTALL_HINT = "install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install) or set infra.terraform"
# A lock orphaned by this run's own lost answer is released and the command run again: a lost
# answer is rare, twice in a row is possible on a bad network. No wait: the lock is free again.
ORPHAN_RETRY = RetryPolicy(attempts=3, base_seconds=0, max_seconds=0)


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


class _OwnOrphanLock(Exception):
    """The run found the state locked by itself (see `_run_locking`): release and run again."""

    def __init__(self, result: process.ProcessResult, found: list[dict[str, Any]], lock_id: str) -> None:
        super().__init__(lock_id)
        self.result, self.events, self.lock_id = result, found, lock_id


class Terraform:
    """One Terraform root directory, run with the given binary and environment.

    `environ` is the environment the run starts from (the CLI passes its one snapshot,
    devops/wiring/settings.py); None: this process's.
    """

    def __init__(
        self,
        root: Path,
        *,
        binary: str = "terraform",
        env: Mapping[str, str] | None = None,
        timeout: float = 3600,
        secrets: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.binary = binary
        self.environ = os.environ if environ is None else environ
        self.env = {**cli_environment(self.environ), **(env or {})}
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
        is released and the command run again (`ORPHAN_RETRY`). A lock held by anyone else is
        never touched.
        """
        try:
            for attempt in retrying(ORPHAN_RETRY, retry_on=lambda e: isinstance(e, _OwnOrphanLock)):
                with attempt:
                    result, own_ids = self._run_traced(*args)
                    found = events.parse(result.stdout)
                    last = attempt.retry_state.attempt_number >= ORPHAN_RETRY.attempts
                    if result.returncode in (0, 2) or last:
                        return result, found
                    error = errors.from_events(self._command([name]), result, events.diagnostics(found),
                                               events.applied(found))
                    if not (isinstance(error, StateLocked) and error.lock.id in own_ids) or events.applied(found):
                        return result, found
                    self.force_unlock(error.lock.id)
                    raise _OwnOrphanLock(result, found, error.lock.id)
        except _OwnOrphanLock as spent:  # pragma: no cover - the last attempt returns above
            return spent.result, spent.events
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_traced(self, *args: str) -> tuple[process.ProcessResult, set[str]]:
        """`_run` with Terraform's INFO log in a private file, to learn the lock IDs it tried.
        Skipped when the user set TF_LOG/TF_LOG_PATH (their debugging wins)."""
        if self.environ.get("TF_LOG") or self.environ.get("TF_LOG_PATH"):
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
            return result, events.lock_attempts(text)
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
            return str(models.json_object(result.stdout, "terraform version -json")["terraform_version"])
        except (ToolFailed, KeyError):
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
            raise errors.from_text(self._command(args[:1]), result)

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
        result, found = self._run_locking("plan", *args)
        diagnostics = events.diagnostics(found)
        if result.returncode not in (0, 2):
            raise errors.from_events(self._command(["plan"]), result, diagnostics)
        return PlanResult(out, result.returncode == 2, tuple(d for d in diagnostics if d.severity == "warning"))

    def show_plan(self, plan: Path) -> dict[str, Any]:
        """`terraform show -json PLAN`: the plan as Terraform's JSON representation."""
        result = self._run("show", "-json", "-no-color", str(plan), timeout=600)
        if not result.ok:
            raise errors.from_text(self._command(["show", "-json", str(plan)]), result)
        return models.json_object(result.stdout, self._command(["show", "-json"]))

    def plan_stamp(self, plan: Path) -> StateStamp | None:
        """The state a saved plan was made against (read from the plan file)."""
        return models.plan_state_stamp(plan)

    def apply(self, plan: Path, *, lock_timeout: str = "0s") -> ApplyResult:
        """Apply a saved plan. On failure `TerraformFailed.applied` lists what was changed."""
        args = ["apply", "-input=false", "-json", "-auto-approve", f"-lock-timeout={lock_timeout}", str(plan)]
        result, found = self._run_locking("apply", *args)
        if not result.ok:
            raise errors.from_events(self._command(["apply"]), result, events.diagnostics(found),
                                     events.applied(found))
        return events.apply_result(found)

    def output(self) -> dict[str, Any]:
        """`terraform output -json`: name -> {value, type, sensitive}."""
        result = self._run("output", "-json", "-no-color", timeout=600)
        if not result.ok:
            raise errors.from_text(self._command(["output"]), result)
        return models.json_object(result.stdout or "{}", self._command(["output", "-json"]))

    def state_stamp(self) -> StateStamp | None:
        """Lineage and serial of the current remote state; None when there is no state yet."""
        result = self._run("state", "pull", timeout=600)
        if not result.ok:
            raise errors.from_text(self._command(["state", "pull"]), result)
        return models.state_stamp(result.stdout, self._command(["state", "pull"]))

    def force_unlock(self, lock_id: str) -> None:
        """Release a lock left by a run that died (`terraform force-unlock -force ID`)."""
        result = self._run("force-unlock", "-force", "-no-color", lock_id, timeout=300)
        if not result.ok:
            raise errors.from_text(self._command(["force-unlock", lock_id]), result)

    def fmt_check(self) -> list[str]:
        """Files `terraform fmt -check -recursive` would rewrite (empty when all formatted)."""
        result = self._run("fmt", "-check", "-recursive", "-list=true", "-no-color", timeout=300)
        if result.returncode not in (0, 3):
            raise errors.from_text(self._command(["fmt", "-check"]), result)
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def _short(path: Path) -> str:
    """A path as a person would type it: relative to the current folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def require(binary: str) -> str:
    """The Terraform binary's path, or `ToolMissing` saying how to install it."""
    try:
        return process.which(binary, hint=INSTALL_HINT)
    except ToolMissing:
        raise ToolMissing(f"{binary}: Terraform is not installed (not found on PATH)", hint=INSTALL_HINT) from None
