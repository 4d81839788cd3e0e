"""The CLI contract: version, help, completion, exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.project import make_project


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0 and result.out.strip() == "devops, version 0.1.0"


def test_help_lists_commands_without_heavy_imports() -> None:
    code = ("import sys; from devops.cli import main; rc = main(['--help']); "
            "heavy = [m for m in ('boto3', 'requests', 'python_on_whales', 'pydantic') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0
    assert "HEAVY []" in done.stdout
    for command in ("build", "config", "plan", "push"):
        assert f"  {command}" in done.stdout


def test_usage_error_is_exit_2() -> None:
    result = run_cli("plan", "--no-such-option")
    assert result.code == 2 and "No such option" in result.err


def test_unknown_command_is_exit_2() -> None:
    result = run_cli("deploy-everything")
    assert result.code == 2


def test_module_entry_point(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "devops", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "0.1.0" in done.stdout


def test_shell_completion_script() -> None:
    env = {**os.environ, "_DEVOPS_COMPLETE": "bash_source"}
    done = subprocess.run(["devops"], env=env, capture_output=True, text=True)
    assert done.returncode == 0
    assert "_devops_completion" in done.stdout


def test_error_is_one_line_and_traceback_only_with_verbose(tmp_path: Path) -> None:
    project = make_project(tmp_path, commit=False)
    (project / "pipelines" / "devops.yaml").write_text("project: 5\n")
    quiet = run_cli("--config", str(project / "pipelines" / "devops.yaml"), "config", "validate")
    assert quiet.code == 2
    assert len(quiet.err.strip().splitlines()) == 1 and quiet.err.startswith("devops: error: ")
    verbose = run_cli("-v", "--config", str(project / "pipelines" / "devops.yaml"), "config", "validate")
    assert verbose.code == 2 and "Traceback" in verbose.err


def test_errors_become_annotations_in_github_actions(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run_cli("--config", str(tmp_path / "missing.yaml"), "config", "validate")
    assert result.code == 2
    assert result.out.startswith("::error::") and "missing.yaml: config file not found" in result.out


def test_interrupt_is_130(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import devops.config.loader as loader

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    project = make_project(tmp_path, commit=False)
    monkeypatch.setattr(loader, "find_config", interrupted)
    result = run_cli("config", "validate", cwd=project)
    assert result.code == 130 and "interrupted" in result.err
