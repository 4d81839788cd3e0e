"""The discovery-tag rule on the code that computes the tags: infra/modules/capacity run by the
real Terraform (it needs no provider, so no download) with each environment's node_groups,
autoscaler and cost schedule as infra/environments/<env> passes them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.platform.conftest import REPO_ROOT, edit
from tests.platform.rules import Repo

CA_TAGS = ("k8s.io/cluster-autoscaler/enabled", "k8s.io/cluster-autoscaler/{cluster}")


@pytest.fixture(scope="module")
def terraform_bin() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.skip("terraform is not installed (the machine image ships it at /usr/local/bin/terraform)")
    return found


def evaluate(terraform: str, module: Path, work: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    """Apply a root that only calls `module` with `inputs` (no resources) and return its outputs."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "main.tf").write_text(
        'variable "inputs" {\n  type = any\n}\n'
        f'module "capacity" {{\n  source = "{module}"\n'
        "  cluster_name  = var.inputs.cluster_name\n  autoscaler    = var.inputs.autoscaler\n"
        "  node_groups   = var.inputs.node_groups\n  cost_schedule = var.inputs.cost_schedule\n}\n"
        'output "capacity" {\n  value = module.capacity\n}\n'
    )
    (work / "inputs.auto.tfvars.json").write_text(json.dumps({"inputs": inputs}))
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
           "TF_CLI_CONFIG_FILE": "/dev/null"}
    for args in (["init", "-backend=false"], ["apply", "-auto-approve"]):
        result = subprocess.run([terraform, f"-chdir={work}", *args, "-no-color"], capture_output=True, text=True,
                                env=env, timeout=180, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    out = subprocess.run([terraform, f"-chdir={work}", "output", "-json"], capture_output=True, text=True,
                         env=env, timeout=60, check=True)
    value: dict[str, Any] = json.loads(out.stdout)["capacity"]["value"]
    return value


def inputs_of(repo: Repo, env: str) -> dict[str, Any]:
    groups = repo.tf_default(env, "node_groups")
    return {
        "cluster_name": repo.tf_default(env, "cluster_name"),
        "autoscaler": repo.tf_default(env, "autoscaler"),
        "node_groups": {name: {"protected": bool(g.get("protected", False))} for name, g in groups.items()},
        "cost_schedule": repo.tf_default(env, "cost_schedule"),
    }


def discovery_problems(env: str, inputs: dict[str, Any], capacity: dict[str, Any]) -> list[str]:
    """The rule: in cluster-autoscaler mode every non-protected group (node group and ASG) carries
    both discovery tags and no protected group is scheduled; in other modes no group has them."""
    problems: list[str] = []
    wanted = {tag.format(cluster=inputs["cluster_name"]) for tag in CA_TAGS}
    for name, group in inputs["node_groups"].items():
        tags, asg = capacity["node_group_tags"][name], capacity["asg_tags"][name]
        if inputs["autoscaler"] == "cluster-autoscaler" and not group["protected"]:
            for where, found in (("node group", tags), ("Auto Scaling group", asg)):
                missing = wanted - set(found)
                if missing:
                    problems.append(f"{env}: {where} {name} lacks the discovery tags {sorted(missing)}")
        elif wanted & (set(tags) | set(asg)):
            problems.append(f"{env}: {name} carries Cluster Autoscaler discovery tags in {inputs['autoscaler']} mode"
                            + (" (protected)" if group["protected"] else ""))
        if group["protected"] and "devops.cost.schedule" in tags:
            problems.append(f"{env}: protected node group {name} carries the cost schedule tag")
    return problems


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_workload_node_group_carries_the_discovery_tags(
    terraform_bin: str, tmp_path: Path, repo: Repo, env: str
) -> None:
    inputs = inputs_of(repo, env)
    capacity = evaluate(terraform_bin, REPO_ROOT / "infra/modules/capacity", tmp_path / env, inputs)
    assert discovery_problems(env, inputs, capacity) == []
    if env == "dev":
        assert capacity["node_group_tags"]["general"] == {
            "devops.cost.schedule": "office-hours",
            "k8s.io/cluster-autoscaler/enabled": "true",
            "k8s.io/cluster-autoscaler/techitfactory-dev": "owned",
        }
        assert capacity["node_group_tags"]["system"] == {"devops.cost.opt-out": "true"}
        assert capacity["taints"]["system"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
        assert capacity["labels"]["general"] == {"techitfactory.com/capacity": "workload"}
    assert capacity["protected"] == ["system"]


def test_control_a_module_that_forgets_a_workload_group_is_caught(
    terraform_bin: str, tmp_path: Path, repo: Repo
) -> None:
    broken = tmp_path / "capacity"
    shutil.copytree(REPO_ROOT / "infra/modules/capacity", broken)
    edit(broken / "main.tf", '!group.protected && var.autoscaler == "cluster-autoscaler"',
         'group.protected && var.autoscaler == "cluster-autoscaler"')
    inputs = inputs_of(repo, "dev")
    capacity = evaluate(terraform_bin, broken, tmp_path / "work", inputs)
    problems = discovery_problems("dev", inputs, capacity)
    assert "dev: node group general lacks the discovery tags ['k8s.io/cluster-autoscaler/enabled', " \
           "'k8s.io/cluster-autoscaler/techitfactory-dev']" in problems
    assert "dev: system carries Cluster Autoscaler discovery tags in cluster-autoscaler mode (protected)" in problems


def test_control_no_protected_group_is_refused_by_terraform(terraform_bin: str, tmp_path: Path, repo: Repo) -> None:
    inputs = {**inputs_of(repo, "dev"), "node_groups": {"general": {"protected": False}}}
    with pytest.raises(AssertionError, match="At least one node group must be protected"):
        evaluate(terraform_bin, REPO_ROOT / "infra/modules/capacity", tmp_path / "w", inputs)


def test_the_eks_module_uses_these_tags_for_node_groups_and_asgs(repo: Repo) -> None:
    eks = repo.terraform("modules/eks")
    group = eks["resource"]["aws_eks_node_group"]["this"]
    assert "module.capacity.node_group_tags[each.key]" in group["tags"]
    assert group["labels"] == "${module.capacity.labels[each.key]}"
    assert eks["resource"]["aws_autoscaling_group_tag"]["discovery"]["for_each"] == "${local.asg_tags}"
    assert "module.capacity.asg_tags" in eks["locals"]["asg_tags"]
