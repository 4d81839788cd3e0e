"""Hardening rules of the GitHub Actions workflows, as functions the tests apply to the real
files and to deliberately bad texts (so every rule is shown to be able to fail).

Each check takes a `Workflow` (or an action) and returns a list of problems, one line each,
naming the file and the job/step; an empty list means the rule holds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?([^'\"\s#]+)['\"]?\s*(#.*)?$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")
SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")
# Long-lived AWS keys in any spelling: env names, action inputs.
AWS_KEYS = re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key", re.I)
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@"
UPLOAD_SARIF = "github/codeql-action/upload-sarif@"
# Commands that change something outside the run: their workflows must never cancel a run.
MUTATING = re.compile(r"\bdevops\s+(release|rollback|push|cost\s+(schedule|down|up)|infra\s+(apply|destroy))\b")
MAX_TIMEOUT_MINUTES = 120


@dataclass(frozen=True)
class Workflow:
    """One workflow (or composite action) file: its path, raw text and parsed YAML."""

    path: str
    text: str
    data: dict[Any, Any]

    @classmethod
    def parse(cls, path: str, text: str) -> Workflow:
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a YAML mapping")
        return cls(path, text, data)

    @classmethod
    def load(cls, path: Path) -> Workflow:
        return cls.parse(str(path), path.read_text(encoding="utf-8"))

    @property
    def triggers(self) -> dict[str, Any]:
        # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
        on = self.data.get("on", self.data.get(True))
        if isinstance(on, str):
            return {on: None}
        if isinstance(on, list):
            return {name: None for name in on}
        return dict(on or {})

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("jobs") or {})

    def steps(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """(job id, step index, step) of every step; composite actions count as job `runs`."""
        for job_id, job in self.jobs.items():
            for index, step in enumerate(job.get("steps") or []):
                yield job_id, index, step
        runs = self.data.get("runs")
        if isinstance(runs, dict):
            for index, step in enumerate(runs.get("steps") or []):
                yield "runs", index, step


def _where(wf: Workflow, job: str, index: int | None = None, step: dict[str, Any] | None = None) -> str:
    if index is None:
        return f"{wf.path}: job {job}"
    name = (step or {}).get("name") or (step or {}).get("uses") or (step or {}).get("run", "").split("\n")[0]
    return f"{wf.path}: job {job} step {index + 1} ({name})"


# ---- permissions -----------------------------------------------------------------------------

def _grants(permissions: Any) -> dict[str, str]:
    if permissions in (None, {}):
        return {}
    if isinstance(permissions, str):
        return {"*": permissions}
    return {str(k): str(v) for k, v in dict(permissions).items()}


def check_permissions(wf: Workflow) -> list[str]:
    """Top-level `permissions` present and read-only (or `{}`); every job declares its own."""
    problems = []
    if "permissions" not in wf.data:
        problems.append(f"{wf.path}: no top-level `permissions:` (the token would get the repository default)")
    else:
        for scope, level in _grants(wf.data["permissions"]).items():
            if level not in ("read", "none", "read-all"):
                problems.append(f"{wf.path}: top-level permissions grant {scope}: {level}; grant writes per job")
    for job_id, job in wf.jobs.items():
        if "permissions" not in job:
            problems.append(f"{_where(wf, job_id)}: no `permissions:` (least privilege per job)")
        elif _grants(job["permissions"]).get("*") in ("write-all", "write"):
            problems.append(f"{_where(wf, job_id)}: permissions {job['permissions']!r}; name each scope")
    return problems


def _has_step_using(job: dict[str, Any], prefix: str) -> bool:
    return any(str(step.get("uses", "")).startswith(prefix) for step in job.get("steps") or [])


def check_oidc(wf: Workflow) -> list[str]:
    """AWS only through OIDC: no long-lived keys anywhere; `id-token: write` exactly on the jobs
    that assume a role, whose role comes from a repository variable."""
    problems = []
    for number, line in enumerate(wf.text.splitlines(), 1):
        if AWS_KEYS.search(line):
            problems.append(f"{wf.path}:{number}: long-lived AWS key ({line.strip()}); use OIDC role-to-assume")
    if _grants(wf.data.get("permissions")).get("id-token") == "write":
        problems.append(f"{wf.path}: id-token: write at the top level; grant it only to the job that assumes a role")
    for job_id, job in wf.jobs.items():
        assumes = _has_step_using(job, CONFIGURE_AWS)
        id_token = _grants(job.get("permissions")).get("id-token") == "write"
        if id_token and not assumes:
            problems.append(f"{_where(wf, job_id)}: id-token: write but no {CONFIGURE_AWS.rstrip('@')} step")
        if assumes and not id_token:
            problems.append(f"{_where(wf, job_id)}: assumes an AWS role without id-token: write (OIDC)")
    for job_id, index, step in wf.steps():
        if str(step.get("uses", "")).startswith(CONFIGURE_AWS):
            role = str((step.get("with") or {}).get("role-to-assume", ""))
            if not re.fullmatch(r"\$\{\{\s*vars(\.[A-Za-z0-9_]+|\[[^\]]+\])\s*\}\}", role):
                problems.append(f"{_where(wf, job_id, index, step)}: role-to-assume {role!r} is not a repository variable")
    return problems


def check_security_events(wf: Workflow) -> list[str]:
    """`security-events: write` only on jobs that upload SARIF."""
    problems = []
    if _grants(wf.data.get("permissions")).get("security-events") == "write":
        problems.append(f"{wf.path}: security-events: write at the top level")
    for job_id, job in wf.jobs.items():
        if _grants(job.get("permissions")).get("security-events") == "write" and not _has_step_using(job, UPLOAD_SARIF):
            problems.append(f"{_where(wf, job_id)}: security-events: write without an upload-sarif step")
    return problems


# ---- actions -----------------------------------------------------------------------------------

def check_pinned(wf: Workflow) -> list[str]:
    """Every third-party `uses:` pinned to a full 40-hex commit SHA with a `# vX.Y.Z` comment;
    local actions (./...) are exempt, `docker://` images must be pinned by digest."""
    problems = []
    for number, line in enumerate(wf.text.splitlines(), 1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref, comment = match.group(1), match.group(2) or ""
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                problems.append(f"{wf.path}:{number}: {ref} is not pinned by digest")
            continue
        if not SHA_PIN.match(ref):
            problems.append(f"{wf.path}:{number}: {ref} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.search(comment):
            problems.append(f"{wf.path}:{number}: {ref} has no `# vX.Y.Z` comment naming the release")
    return problems


def check_checkout_credentials(wf: Workflow) -> list[str]:
    """actions/checkout never leaves the token in .git/config (devops authenticates its own pushes)."""
    problems = []
    for job_id, index, step in wf.steps():
        uses, options = str(step.get("uses", "")), step.get("with") or {}
        if uses.startswith("actions/checkout@") and options.get("persist-credentials") is not False:
            problems.append(f"{_where(wf, job_id, index, step)}: checkout without persist-credentials: false")
    return problems


# ---- triggers, timeouts, concurrency ---------------------------------------------------------

def check_triggers(wf: Workflow) -> list[str]:
    """No `pull_request_target` (or `workflow_run`): they run with secrets on untrusted code."""
    return [f"{wf.path}: trigger {name} runs with the base repository's secrets; use pull_request"
            for name in wf.triggers if name in ("pull_request_target", "workflow_run")]


def check_timeouts(wf: Workflow) -> list[str]:
    """Every job has `timeout-minutes` (the default is 360), at most MAX_TIMEOUT_MINUTES."""
    problems = []
    for job_id, job in wf.jobs.items():
        if "uses" in job:  # a reusable workflow call: its own jobs carry the timeouts
            continue
        value = job.get("timeout-minutes")
        if not isinstance(value, int):
            problems.append(f"{_where(wf, job_id)}: no timeout-minutes (the default is 6 hours)")
        elif not 0 < value <= MAX_TIMEOUT_MINUTES:
            problems.append(f"{_where(wf, job_id)}: timeout-minutes {value} outside 1..{MAX_TIMEOUT_MINUTES}")
    return problems


def check_concurrency(wf: Workflow) -> list[str]:
    """Every workflow has a concurrency group; one that runs a mutating devops command (release,
    rollback, push, cost, infra apply) never cancels a run in progress."""
    problems = []
    top = wf.data.get("concurrency")
    if not top:
        problems.append(f"{wf.path}: no top-level `concurrency:` group")
    mutating = bool(MUTATING.search(wf.text))
    groups = [("top level", top)] + [(f"job {j}", job.get("concurrency")) for j, job in wf.jobs.items()]
    for where, conc in groups:
        if not conc:
            continue
        if isinstance(conc, str):
            conc = {"group": conc}
        cancel = conc.get("cancel-in-progress", False)
        if mutating and cancel is not False:
            problems.append(f"{wf.path}: {where}: cancel-in-progress {cancel!r} in a workflow that releases "
                            "or resizes; it must be false")
    return problems


# ---- scripts: secrets and expressions ------------------------------------------------------------

def _secret_env_names(wf: Workflow) -> set[str]:
    names: set[str] = set()
    scopes = [wf.data.get("env") or {}]
    scopes += [job.get("env") or {} for job in wf.jobs.values()]
    scopes += [step.get("env") or {} for _, _, step in wf.steps()]
    for scope in scopes:
        for name, value in dict(scope).items():
            if SECRET_EXPR.search(str(value)) or str(name).endswith(("_TOKEN", "_PASSWORD", "_SECRET", "_KEY")):
                names.add(str(name))
    return names


def check_scripts(wf: Workflow) -> list[str]:
    """`${{ secrets.X }}` only in env:/with:, never in a run: script; no `${{ }}` expression at all
    in scripts (values reach them through env, so nothing is interpolated into shell); no script
    prints a secret variable (echo/printf/set -x)."""
    problems = []
    secret_names = _secret_env_names(wf)
    for job_id, index, step in wf.steps():
        script = step.get("run")
        if script is None:
            continue
        script = str(script)
        where = _where(wf, job_id, index, step)
        if "${{" in script and "secrets." in script:
            problems.append(f"{where}: ${{{{ secrets.… }}}} inside run:; pass it through env:")
        elif "${{" in script:
            problems.append(f"{where}: ${{{{ … }}}} expression inside run:; pass the value through env:")
        for line in script.splitlines():
            stripped = line.strip()
            if re.match(r"^set\s+-[a-z]*x", stripped) and secret_names:
                problems.append(f"{where}: `{stripped}` traces commands while secrets are in the environment")
            if re.search(r"\b(echo|printf)\b", stripped):
                for name in secret_names:
                    if re.search(rf"\$\{{?{re.escape(name)}\b", stripped):
                        problems.append(f"{where}: prints the secret ${name}: `{stripped}`")
    return problems


# ---- devops invocations --------------------------------------------------------------------------

_ARRAY = re.compile(r"(\w+)\+?=\(([^)]*)\)")
_EXPAND = re.compile(r"^\$\{(\w+)\[@\]\}$")


def devops_invocations(script: str) -> list[list[str]]:
    """The argument lists of every `devops ...` call in a shell script (after `devops`), with
    bash arrays built in the same script (`args+=(--opt "$X")`) expanded in place."""
    script = script.replace("\\\n", " ")
    arrays: dict[str, list[str]] = {}
    calls: list[list[str]] = []
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line):
            for name, inner in _ARRAY.findall(part):
                arrays.setdefault(name, []).extend(shlex.split(inner))
            try:
                tokens = shlex.split(part, comments=True)
            except ValueError:
                continue
            while tokens and tokens[0] in ("then", "else", "do", "exec", "time", "!", "if"):
                tokens = tokens[1:]
            if not tokens or tokens[0] != "devops":
                continue
            args: list[str] = []
            for token in tokens[1:]:
                expand = _EXPAND.match(token)
                args.extend(arrays.get(expand.group(1), []) if expand else [token])
            calls.append(args)
    return calls


def check_invocation(root: click.Command, args: list[str]) -> list[str]:
    """Problems of one `devops` argument list against the real click command tree: unknown
    commands, unknown options, a group left without a subcommand, literal values outside a
    click.Choice."""
    problems = []
    command, path = root, ["devops"]
    ctx = click.Context(command, info_name="devops")
    eager = False  # --version / --help end the run before a subcommand is needed
    index = 0
    while index < len(args):
        token = args[index]
        if token.startswith("-") and token != "-":
            name, _, inline = token.partition("=")
            params = {opt: p for p in command.get_params(ctx) for opt in (*p.opts, *p.secondary_opts)}
            param = params.get(name)
            if param is None:
                problems.append(f"`{' '.join(path)}` has no option {name}")
            elif param.is_eager and isinstance(param, click.Option) and param.is_flag:
                eager = True
            elif isinstance(param, click.Option) and not (param.is_flag or param.count):
                value = inline if inline else (args[index + 1] if index + 1 < len(args) else "")
                if not inline:
                    index += 1
                if isinstance(param.type, click.Choice) and value and not value.startswith("$") \
                        and value not in param.type.choices:
                    problems.append(f"`{' '.join(path)} {name}` does not accept {value!r} "
                                    f"(choices: {', '.join(map(str, param.type.choices))})")
        elif isinstance(command, click.Group):
            sub = command.get_command(ctx, token)
            if sub is None:
                problems.append(f"`{' '.join(path)}` has no command {token!r}")
                return problems
            command, path = sub, [*path, token]
            ctx = click.Context(command, info_name=token, parent=ctx)
        index += 1
    if isinstance(command, click.Group) and not eager:
        problems.append(f"`{' '.join(path)}` needs a subcommand")
    return problems


def check_devops_calls(wf: Workflow, root: click.Command) -> list[str]:
    """Every `devops <cmd> --opt` of every run: script exists in the real CLI."""
    problems = []
    for job_id, index, step in wf.steps():
        if step.get("run") is None:
            continue
        for args in devops_invocations(str(step["run"])):
            problems += [f"{_where(wf, job_id, index, step)}: {p}" for p in check_invocation(root, args)]
    return problems


ALL_CHECKS = (
    check_permissions,
    check_oidc,
    check_security_events,
    check_pinned,
    check_checkout_credentials,
    check_triggers,
    check_timeouts,
    check_concurrency,
    check_scripts,
)
