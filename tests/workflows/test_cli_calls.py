"""Every `devops <command> --option` a workflow runs exists in the real click command tree, and
the choices a workflow offers are the ones the CLI accepts."""

from __future__ import annotations

import click
import pytest

from tests.workflows.hardening import Workflow, check_devops_calls, check_invocation, devops_invocations


def test_every_devops_call_exists_in_the_cli(workflows: dict[str, Workflow], actions: dict[str, Workflow],
                                             devops_cli: click.Command) -> None:
    problems = [p for w in [*workflows.values(), *actions.values()] for p in check_devops_calls(w, devops_cli)]
    assert not problems, "\n".join(problems)


def test_the_workflows_call_what_the_issue_asks_for(workflows: dict[str, Workflow]) -> None:
    calls = {name: [" ".join(a) for _, _, s in w.steps() if s.get("run") for a in devops_invocations(s["run"])]
             for name, w in workflows.items()}
    ci = calls["ci.yml"]
    for expected in ('plan --base origin/$BASE_REF --json', 'build $SERVICE', 'quality --no-gate', 'gate sonar',
                     'infra plan --env $ENVIRONMENT', 'config validate'):
        assert expected in ci, ci
    assert any(c.startswith("scan $SERVICE --sarif") for c in ci), ci
    assert any(c.startswith("scan --config") for c in ci), ci
    # The release reads the Sonar gate of the analysis that runs just before it.
    # ... and signs the evidence after it; a second job checks it with devops, cosign and gh.
    assert calls["release.yml"] == ["quality --no-gate", "release --env dev", "attest --env dev",
                                    "verify-signatures --env dev --policy prod"]
    assert calls["promote.yml"] == ["release --env prod --services $SERVICES --mode $MODE"]
    assert {c.split()[1] for c in calls["cost-schedule.yml"]} == {"schedule", "down", "up", "report"}
    # Nightly: what runs is rescanned in both environments (a matrix), and prod's DORA metrics reported.
    assert calls["nightly.yml"] == ["rescan --env $ENVIRONMENT --sarif rescan-$ENVIRONMENT.sarif --dry-run",
                                    "report dora --env prod --since 90d"]
    rescan = workflows["nightly.yml"].jobs["rescan"]
    assert rescan["strategy"]["matrix"]["environment"] == ["dev", "prod"]
    assert "17 2 * * *" in [c["cron"] for c in workflows["nightly.yml"].triggers["schedule"]]


def test_dispatch_choices_match_the_cli(workflows: dict[str, Workflow], devops_cli: click.Command) -> None:
    assert isinstance(devops_cli, click.Group)
    ctx = click.Context(devops_cli)
    cost = devops_cli.get_command(ctx, "cost")
    assert isinstance(cost, click.Group)
    action = workflows["cost-schedule.yml"].triggers["workflow_dispatch"]["inputs"]["action"]
    # Every choice is a real subcommand (the CLI may have more than the workflow offers).
    assert set(action["options"]) == {"schedule", "down", "up", "report"}
    assert set(action["options"]) <= set(cost.list_commands(click.Context(cost)))
    release = devops_cli.get_command(ctx, "release")
    assert release is not None
    mode = next(p for p in release.params if p.name == "mode")
    assert isinstance(mode.type, click.Choice)
    offered = workflows["promote.yml"].triggers["workflow_dispatch"]["inputs"]["mode"]["options"]
    assert set(offered) == set(mode.type.choices)


def test_invocations_are_parsed_like_bash() -> None:
    script = ('args=(--cluster "$TARGET")\n'
              'if [ -n "$UNTIL" ]; then args+=(--until "$UNTIL"); fi\n'
              'devops cost down "${args[@]}" \\\n  --dry-run\n'
              'echo done && devops --json status --env dev  # a comment --nope\n')
    assert devops_invocations(script) == [["cost", "down", "--cluster", "$TARGET", "--until", "$UNTIL", "--dry-run"],
                                          ["--json", "status", "--env", "dev"]]


@pytest.mark.parametrize(("args", "fragment"), [
    (["release", "--environment", "dev"], "`devops release` has no option --environment"),
    (["scan", "--format", "sarif"], "`devops scan` has no option --format"),
    (["deploy", "--env", "dev"], "`devops` has no command 'deploy'"),
    (["cost", "scale-down"], "`devops cost` has no command 'scale-down'"),
    (["cost"], "`devops cost` needs a subcommand"),
    (["release", "--env", "prod", "--mode", "merge"], "does not accept 'merge'"),
    (["infra", "plan", "--env=dev", "--auto-approve"], "`devops infra plan` has no option --auto-approve"),
])
def test_unknown_commands_and_options_are_reported(devops_cli: click.Command, args: list[str],
                                                   fragment: str) -> None:
    problems = check_invocation(devops_cli, args)
    assert any(fragment in p for p in problems), problems


def test_a_workflow_calling_a_missing_option_fails_the_check(devops_cli: click.Command) -> None:
    bad = Workflow.parse("bad.yml", "on: push\njobs:\n  a:\n    steps:\n"
                                    "      - run: |\n          devops release --env dev --force\n")
    problems = check_devops_calls(bad, devops_cli)
    assert problems == ["bad.yml: job a step 1 (devops release --env dev --force): "
                        "`devops release` has no option --force"]


@pytest.mark.parametrize("args", [["release", "--env", "dev"], ["--json", "plan", "--base", "origin/main"],
                                  ["scan", "cart", "--sarif", "x.sarif", "--trivy-cache-dir", "/c"],
                                  ["cost", "up", "--cluster", "dev", "--until", "22:00", "--dry-run"],
                                  ["gate", "sonar"], ["--version"]])
def test_real_calls_are_accepted(devops_cli: click.Command, args: list[str]) -> None:
    assert check_invocation(devops_cli, args) == []
