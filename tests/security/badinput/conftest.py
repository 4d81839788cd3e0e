"""The base project every bad-input case starts from, and the count printed at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

RAN: list[str] = []
SLOWEST: list[tuple[float, str]] = []


@pytest.fixture(scope="session")
def badinput_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project (two services, dev and prod, a git repository) and a canary folder."""
    base = tmp_path_factory.mktemp("badinput-base")
    from tests.security.badinput.project import write_base_project

    write_base_project(base / "project")
    canary = base / "canary"
    canary.mkdir()
    (canary / "secret.txt").write_text("must stay untouched\n")
    (canary / "gitops" / "environments" / "dev").mkdir(parents=True)
    (canary / "gitops" / "environments" / "dev" / "release.json").write_text("{}\n")
    return base


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RAN:
        slowest = max(SLOWEST) if SLOWEST else (0.0, "")
        terminalreporter.write_line(
            f"bad inputs: {len(RAN)} cases ran (slowest {slowest[0]:.2f} s: {slowest[1]})")
