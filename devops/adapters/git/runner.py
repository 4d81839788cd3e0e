"""git with its own environment: auth headers through GIT_CONFIG_*, secrets masked, never a
password prompt (a prompt would hang CI). Every GitOps git command goes through here."""

from __future__ import annotations

from pathlib import Path

from devops.adapters.process import ProcessResult, run


def git_run(
    args: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    check: bool = True,
    timeout: float = 120,
    stdin: str | None = None,
    binary: bool = False,
) -> ProcessResult:
    """`git ARGS` in `cwd`, with `env` added to the process environment."""
    full_env = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", **(env or {})}
    return run(["git", *args], cwd=cwd, env=full_env, secrets=secrets, check=check, timeout=timeout,
               stdin=stdin, install_hint="apt-get install git", binary=binary)


class GitRunner:
    """Runs git in one clone with the same environment and secrets, and counts the commands
    (`PublishResult.git_operations`; the benchmark reports them)."""

    def __init__(self, cwd: Path, env: dict[str, str], secrets: tuple[str, ...], timeout: float) -> None:
        self.cwd, self.env, self.secrets, self.timeout = cwd, env, secrets, timeout
        self.count = 0

    def __call__(self, *args: str, check: bool = True, timeout: float | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None, stdin: str | None = None, binary: bool = False) -> ProcessResult:
        self.count += 1
        return git_run(list(args), cwd or self.cwd, env={**self.env, **(env or {})}, secrets=self.secrets,
                       check=check, timeout=timeout or self.timeout, stdin=stdin, binary=binary)


def last_line(result: ProcessResult) -> str:
    """The line of git's stderr that says what went wrong (an error line when there is one)."""
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "!", "remote: error"))]
    return (errors or lines or ["(no output)"])[-1][:300]
