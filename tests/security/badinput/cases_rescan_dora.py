"""`devops rescan` and `devops report dora`: their options (`--env`, `--since`, `--sarif` and
`--chart` paths inside and outside the repository) and the records they read, as anyone with
push access to the GitOps repository could write them.

Bad options are exit 2 before anything outside is asked. A record naming another registry is a
refusal (exit 1) before any pull. DORA reads history, which cannot be fixed, so an odd record at
some commit is skipped with the reason (exit 0), never a crash; a malformed record at the tip is
exit 2 for the rescan, which writes the evidence back into it.
"""

from __future__ import annotations

import json
from typing import Any

from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import config_with, record_text, remote_setup, service_entry
from tests.support.cli import Outcome
from tests.support.project import git

RECORD = "gitops/environments/dev/release.json"
PROD_RECORD = "gitops/environments/prod/release.json"
RESCAN = ("rescan", "--env", "dev")
DORA = ("report", "dora", "--env", "prod")


def _head(ctx: CaseContext) -> str:
    return git(ctx.root.parent / "origin.git", "rev-parse", "main").strip()


def remote_with(files: dict[str, str | bytes] | None = None, symlinks: dict[str, str] | None = None) -> Any:
    base = remote_setup(files=files or {})

    def setup(ctx: CaseContext) -> None:
        base(ctx)
        for link, target in (symlinks or {}).items():
            path = ctx.root / link
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target.replace("{canary}", str(ctx.canary)))
        (ctx.root.parent / "origin-head").write_text(_head(ctx))

    return setup


def nothing_pushed(ctx: CaseContext, _outcome: Outcome) -> None:
    assert _head(ctx) == (ctx.root.parent / "origin-head").read_text(), "the GitOps remote changed"


def rescan(case_id: str, argv: tuple[str, ...], expect: int, *mentions: str, files: dict[str, str | bytes] | None = None,
           symlinks: dict[str, str] | None = None, config: str | None = None) -> Case:
    return Case(f"rescan-{case_id}", argv, expect, config=config, mentions=mentions,
                setup=remote_with(files, symlinks), check=nothing_pushed)


def dora(case_id: str, argv: tuple[str, ...], expect: int, *mentions: str, files: dict[str, str | bytes] | None = None,
         symlinks: dict[str, str] | None = None, check: Any = None) -> Case:
    return Case(f"dora-{case_id}", argv, expect, mentions=mentions, setup=remote_with(files, symlinks),
                check=check or nothing_pushed)


def alpha_record(**changes: Any) -> str:
    return record_text(services={"alpha": service_entry(**changes)})


def prod_record(**top: Any) -> str:
    return record_text(environment="prod", services={"alpha": service_entry()}, **top)


def chart_written(ctx: CaseContext, outcome: Outcome) -> None:
    nothing_pushed(ctx, outcome)
    chart = ctx.root / "reports" / "dora.svg"
    assert chart.read_text().lstrip().startswith(("<?xml", "<svg")), "the control chart is an SVG"


def skipped_odd_commit(ctx: CaseContext, outcome: Outcome) -> None:
    nothing_pushed(ctx, outcome)
    result = json.loads(outcome.out)
    assert [s["reason"] for s in result["skipped"]] and "release.json" in result["skipped"][0]["reason"]


def counted(deployments: int) -> Any:
    def check(ctx: CaseContext, outcome: Outcome) -> None:
        nothing_pushed(ctx, outcome)
        assert json.loads(outcome.out)["deployment_frequency"]["deployments"] == deployments

    return check


BAD_IGNORE = config_with(("gates.scan.ignore_file", '".trivyignore.yaml"'))

CASES = [
    # -- devops rescan ---------------------------------------------------------------------------
    rescan("control-empty-record", RESCAN, 0),
    rescan("env-unknown", ("rescan", "--env", "staging"), 2, "staging"),
    rescan("env-not-a-name", ("rescan", "--env", "../dev"), 2, "--env"),
    rescan("sarif-outside", (*RESCAN, "--sarif", "{canary}/rescan.sarif"), 2, "--sarif", "outside"),
    rescan("sarif-dotdot", (*RESCAN, "--sarif", "{root}/../rescan.sarif"), 2, "--sarif", "outside"),
    rescan("sarif-in-git", (*RESCAN, "--sarif", "{root}/.git/rescan.sarif"), 2, "--sarif", ".git"),
    rescan("sarif-symlink-to-canary", (*RESCAN, "--sarif", "{root}/reports/rescan.sarif"), 2, "--sarif",
           symlinks={"reports/rescan.sarif": "{canary}/rescan.sarif"}),
    rescan("sarif-folder-symlink", (*RESCAN, "--sarif", "{root}/reports/rescan.sarif"), 2, "outside",
           symlinks={"reports": "{canary}"}),
    rescan("sarif-folder", (*RESCAN, "--sarif", "{root}/services"), 2, "--sarif"),
    rescan("record-foreign-registry", RESCAN, 1, "evil.example",
           files={RECORD: alpha_record(repository="evil.example/test/alpha")}),
    rescan("record-unknown-service", RESCAN, 1, "gamma",
           files={RECORD: record_text(services={"gamma": service_entry(repository="127.0.0.1:5000/test/gamma")})}),
    rescan("record-digest-bad", RESCAN, 2, "release.json", "digest", files={RECORD: alpha_record(digest="sha256:x")}),
    rescan("record-not-json", RESCAN, 2, "release.json", files={RECORD: "{not json\n"}),
    rescan("ignore-file-malformed", RESCAN, 2, ".trivyignore.yaml", config=BAD_IGNORE,
           files={RECORD: alpha_record(), ".trivyignore.yaml": "vulnerabilities: &v [*v]\n"}),
    # -- devops report dora ------------------------------------------------------------------------
    dora("control-chart-inside", (*DORA, "--chart", "{root}/reports/dora.svg"), 0,
         files={PROD_RECORD: prod_record()}, check=chart_written),
    dora("env-unknown", ("report", "dora", "--env", "staging"), 2, "staging"),
    dora("since-words", (*DORA, "--since", "ninety days"), 2, "--since"),
    dora("since-hours", (*DORA, "--since", "12h"), 2, "--since", "1d"),
    dora("since-too-long", (*DORA, "--since", "9999d"), 2, "--since"),
    dora("since-zero", (*DORA, "--since", "0d"), 2, "--since"),
    dora("since-negative", (*DORA, "--since=-5d"), 2, "--since"),
    dora("chart-outside", (*DORA, "--chart", "{canary}/dora.svg"), 2, "--chart", "outside"),
    dora("chart-suffix", (*DORA, "--chart", "{root}/dora.pdf"), 2, "--chart", ".svg"),
    dora("chart-no-suffix", (*DORA, "--chart", "{root}/dora"), 2, "--chart"),
    dora("chart-in-git", (*DORA, "--chart", "{root}/.git/dora.svg"), 2, "--chart", ".git"),
    dora("chart-folder-symlink", (*DORA, "--chart", "{root}/reports/dora.svg"), 2, "--chart", "outside",
         symlinks={"reports": "{canary}"}),
    dora("chart-file-symlink", (*DORA, "--chart", "{root}/dora.svg"), 2, "--chart", "symlink",
         symlinks={"dora.svg": "{root}/pipelines/devops.yaml"}),
    dora("chart-newline", (*DORA, "--chart", "{root}/a\nb.svg"), 2, "--chart"),
    dora("record-odd-in-history", ("--json", *DORA), 0, files={PROD_RECORD: "{not json\n"},
         check=skipped_odd_commit),
    dora("record-odd-values", ("--json", *DORA), 0, check=counted(1),
         files={PROD_RECORD: prod_record(rolled_back_to={"not": "a commit"}).replace(
             '"sonar"', '"verification": {"verdict": "FAILED", "environment": ["prod"], "digest": 7}, "sonar"', 1)}),
    dora("record-source-time-garbage", ("--json", *DORA), 0, check=skipped_odd_commit,
         files={PROD_RECORD: record_text(environment="prod", services={
             "alpha": service_entry(source_committed_at="yesterday")})}),
    dora("record-other-environment", ("--json", *DORA), 0, check=skipped_odd_commit,
         files={PROD_RECORD: alpha_record()}),
]

