"""The reporter takes the environment the CLI read (COLUMNS, CI, GitHub Actions), never the process's."""

from __future__ import annotations

import io

import pytest

from devops.report.console import Reporter


def test_ci_logs_get_wide_tables_unless_columns_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert Reporter(out=io.StringIO(), err=io.StringIO(), environ={}).console.width == 160
    # COLUMNS set: rich's own width rules apply (80 when it cannot ask a terminal).
    assert Reporter(out=io.StringIO(), err=io.StringIO(), environ={"COLUMNS": "100"}).console.width != 160


def test_github_actions_comes_from_the_environment_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    inside = Reporter(out=out, err=io.StringIO(), environ={"GITHUB_ACTIONS": "true", "CI": "true"})
    assert inside.github.enabled and not inside.interactive
    inside.github.annotate("error", "x")
    assert out.getvalue() == "::error::x\n"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")   # the process's own: not the reporter's to read
    assert not Reporter(out=io.StringIO(), err=io.StringIO()).github.enabled


def test_json_mode_prints_a_models_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    from devops.app.config_check import ConfigSummary

    out = io.StringIO()
    Reporter(json_mode=True, out=out, err=io.StringIO()).result(
        ConfigSummary(source="p.yaml", services=["a"], environments=["dev"]))
    assert out.getvalue() == ('{\n  "valid": true,\n  "source": "p.yaml",\n  "services": [\n    "a"\n  ],\n'
                              '  "environments": [\n    "dev"\n  ]\n}\n')
    quiet = io.StringIO()
    Reporter(out=quiet, err=io.StringIO()).result({"x": 1})
    assert quiet.getvalue() == ""
