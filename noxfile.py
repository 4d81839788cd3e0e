"""Sessions: tests, lint, bench, demo. They run in the current Python environment, which
`scripts/local-stack.sh up` (or `pip install -e .[test,lint]`) prepares: the suite needs the
machine's Docker engine, registry and tools anyway, so a separate venv would only add time."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
ROOT = Path(__file__).parent


def _ensure_installed(session: nox.Session) -> None:
    try:
        import devops  # noqa: F401
    except ImportError:
        session.run("python", "-m", "pip", "install", "-q", "-e", ".[test,lint]", external=True)


def _standin_args() -> str:
    env_file = ROOT / ".devops-standins.env"
    if env_file.is_file():
        return " ".join(line.strip() for line in env_file.read_text().splitlines() if "=" in line)
    return ""


# Four workers on two cores: much of the suite waits (Prometheus windows, verification settles,
# retry backoffs, readiness polls), which the third and fourth workers fill (measured on 2 cores:
# 3 workers 580 s at 0.77 busy cores, 4 workers 551 s at 0.92). The collection order is kept
# (--no-loadscope-reorder) so the demo and the shop images start first: they are the critical path.
PARALLEL = ["-n", "4", "--dist", "loadgroup", "--no-loadscope-reorder"]


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The whole test suite (unit and integration against the real local components), on three
    workers: the groups that share state and the order the heavy ones start in are in
    tests/support/scheduling.py. Arguments after `--` replace these (`-p no:xdist` runs serially)."""
    _ensure_installed(session)
    args = session.posargs or ["-q", "-ra", "--durations=30", *PARALLEL]
    session.run("python", "-m", "pytest", *args, external=True)


# The fast tier (docs/architecture.md, "Tests"): pure domain, use cases on in-memory fakes,
# the fake side of the contract tests. No Docker, no servers; at most a minute on 2 cores.
UNIT_PATHS = ["tests/domain", "tests/app", "tests/contract", "tests/architecture"]
DOMAIN_BRANCH_COVERAGE = 95


@nox.session(venv_backend="none")
def unit(session: nox.Session) -> None:
    """Domain, use cases and contract fakes, with branch coverage of devops/domain."""
    _ensure_installed(session)
    args = session.posargs or ["-q", "-p", "no:cacheprovider"]
    session.run("python", "-m", "pytest", *UNIT_PATHS, "-m", "unit", "--cov=devops/domain", "--cov-branch",
                "--cov-report=term-missing:skip-covered", f"--cov-fail-under={DOMAIN_BRANCH_COVERAGE}",
                *args, external=True)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff on package and tests, mypy on the package, import-linter's layer contracts."""
    _ensure_installed(session)
    session.run("python", "-m", "ruff", "check", "devops", "tests", "benchmarks", external=True)
    session.run("python", "-m", "mypy", "devops", external=True)
    session.run("lint-imports", "--config", str(ROOT / ".importlinter"), external=True)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Every benchmarks/bench_*.py; each prints its figures as ratios measured in one run.

    `nox -s bench -- scale gates` runs those two; options after the names go to the scripts,
    e.g. `nox -s bench -- scale --quick` (benchmarks/README.md).
    """
    _ensure_installed(session)
    args = list(session.posargs)
    first_option = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    names, options = args[:first_option], args[first_option:]
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    chosen = [s for s in scripts if not names or s.stem.removeprefix("bench_") in names]
    for script in chosen:
        session.run("python", str(script), *options, external=True, env={"DEVOPS_BUILD_ARGS": _standin_args()})


@nox.session(venv_backend="none")
def demo(session: nox.Session) -> None:
    """The delivery end to end on the embedded defaults: `devops demo` (docs/demo.md).

    Extra arguments go to `devops demo`, e.g. `nox -s demo -- --keep`.
    """
    _ensure_installed(session)
    env = {"DEVOPS_BUILD_ARGS": os.environ.get("DEVOPS_BUILD_ARGS") or _standin_args()}
    session.run("devops", "demo", *session.posargs, external=True, env=env)
