"""Builds what `devops demo` needs: its options from the settings (stand-in base images, Trivy's
cache, the caller's environment) and its ports from the demo's adapters (devops/adapters/demo/).

The steps are the installed CLI run as subprocesses (`python -m devops --config <generated>
--source-root <repository> ...`), their output shown as it comes, each with its own scrubbed
environment: the cost steps need moto's endpoint in theirs, which only a process of its own
can have while boto3 reads the process environment. `config validate` runs in this process
(the use case of devops/app/config_check.py); the others follow as their areas expose use
cases that take their settings as values.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from devops.app.demo_ports import DemoOptions, DemoPorts, StepCall, StepOutcome
from devops.domain.demo import parse_build_args
from devops.errors import DevopsError
from devops.wiring.settings import RuntimeSettings

STANDINS_FILE = ".devops-standins.env"
STEP_TIMEOUT = 1800


def standin_build_args(settings: RuntimeSettings, repo_root: Path) -> dict[str, str]:
    """$DEVOPS_BUILD_ARGS, else the stand-in base images local-stack.sh wrote down."""
    text = settings.get("DEVOPS_BUILD_ARGS")
    if not text:
        env_file = repo_root / STANDINS_FILE
        text = env_file.read_text() if env_file.is_file() else ""
    return parse_build_args(text)


def trivy_db_cache(settings: RuntimeSettings) -> Path | None:
    """Trivy's cache folder when it already holds a vulnerability DB (nothing is downloaded)."""
    cache = Path(settings.get("TRIVY_CACHE_DIR") or Path.home() / ".cache" / "trivy")
    return cache if (cache / "db" / "trivy.db").is_file() and (cache / "db" / "metadata.json").is_file() else None


def demo_options(settings: RuntimeSettings, *, repo_root: Path, workdir: Path, keep: bool, registry: str,
                 settle_seconds: int) -> DemoOptions:
    return DemoOptions(repo_root=repo_root, workdir=workdir, keep=keep, registry=registry,
                       settle_seconds=settle_seconds, build_args=standin_build_args(settings, repo_root),
                       trivy_cache=trivy_db_cache(settings), environ=settings.environ)


def demo_ports(settings: RuntimeSettings, echo: Callable[[str], None]) -> DemoPorts:
    from devops.adapters.demo import argocd, gitops, local, traffic
    from devops.adapters.demo.signals import terminate_as_interrupt
    from devops.adapters.sigstore.keys import ensure_key_pair

    return DemoPorts(check_registry=local.check_registry,
                     containers=local.DemoContainers(settings.get(local.MONGO_IMAGE_ENV)),
                     gitops=gitops.BareRemote(), servers=local.LocalServers(),
                     start_argocd=partial(argocd.start_argocd, log=echo), start_traffic=traffic.start_traffic,
                     run_step=run_step, interrupts=terminate_as_interrupt, clock=time, signing_key=ensure_key_pair)


def run_step(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
    if call.args == ("config", "validate"):
        return _validate_in_process(call, on_line)
    from devops.adapters.daemon import stream

    command = [sys.executable, "-m", "devops", "--config", str(call.config), "--source-root", str(call.source_root),
               *call.args]
    done = stream(command, on_line=on_line, cwd=call.cwd, env=call.env, replace_env=True, timeout=STEP_TIMEOUT)
    return StepOutcome(done.returncode, done.seconds, done.stdout, done.stderr)


def _validate_in_process(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
    """`devops config validate` as the use case, with the step's environment as its settings."""
    from devops.app.config_check import validate

    started = time.monotonic()
    try:
        line = validate(call.config, call.env, [call.source_root]).line()
    except DevopsError as exc:
        message = f"devops: error: {exc}"
        on_line("stderr", message)
        return StepOutcome(int(exc.exit_code), time.monotonic() - started, "", message + "\n")
    on_line("stdout", line)
    return StepOutcome(0, time.monotonic() - started, line + "\n", "")
