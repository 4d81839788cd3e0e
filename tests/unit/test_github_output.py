"""GitHub Actions workflow commands, job summary and step outputs, as the runner reads them."""

from __future__ import annotations

import io
from pathlib import Path

from devops.report.github import GitHubActions, markdown_table


def actions(tmp_path: Path) -> tuple[GitHubActions, io.StringIO]:
    stream = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "GITHUB_OUTPUT": str(tmp_path / "output")}
    return GitHubActions.from_environ(env, stream=stream), stream


def test_annotation_escapes_data_and_properties(tmp_path: Path) -> None:
    gha, stream = actions(tmp_path)
    gha.annotate("error", "100% broken\nsecond line", file="a,b:c.yaml", line=3, title="x")
    assert stream.getvalue() == "::error file=a%2Cb%3Ac.yaml,line=3,title=x::100%25 broken%0Asecond line\n"


def test_mask_every_line(tmp_path: Path) -> None:
    gha, stream = actions(tmp_path)
    gha.mask("tok1\ntok2")
    assert stream.getvalue() == "::add-mask::tok1\n::add-mask::tok2\n"


def test_summary_and_outputs(tmp_path: Path) -> None:
    gha, _ = actions(tmp_path)
    gha.summary(markdown_table(["a", "b"], [["x|y", 1]]))
    gha.output("single", "v")
    gha.output("multi", "l1\nl2")
    assert (tmp_path / "summary.md").read_text() == "| a | b |\n| --- | --- |\n| x\\|y | 1 |\n\n"
    lines = (tmp_path / "output").read_text().splitlines()
    assert lines[0] == "single=v"
    assert lines[1].startswith("multi<<ghadelimiter_") and lines[2:4] == ["l1", "l2"]
    assert lines[4] == lines[1].split("<<")[1]


def test_nothing_outside_actions(tmp_path: Path) -> None:
    stream = io.StringIO()
    gha = GitHubActions.from_environ({"GITHUB_STEP_SUMMARY": str(tmp_path / "s")}, stream=stream)
    gha.annotate("error", "x")
    gha.mask("secret")
    gha.summary("x")
    gha.output("a", "b")
    assert stream.getvalue() == "" and not (tmp_path / "s").exists()
