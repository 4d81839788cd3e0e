"""`devops cluster values` (devops/app/cluster_values.py) on the in-memory GitOps remote seeded with
this repository's gitops/ files: terraform outputs fill exactly the placeholders the mapping names
(gitops/platform/terraform-outputs.yaml), byte-preserving, in one commit; a second run commits
nothing; a missing output or an autoscaler that disagrees writes nothing."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest

from devops.app.cluster_values import ValuesPorts, cluster_values
from devops.app.gitops_publish import GitOpsSession, PublishSettings
from devops.config.loader import load_config
from devops.domain.cluster import outputs as rules
from devops.domain.gitops.repository import GitOpsLayout
from devops.errors import BadInput
from devops.report.gitops import evidence_body
from tests.fakes.gitops import FakeGitOpsRepository, FakeRemote

REPO = Path(__file__).resolve().parents[3]
CONFIG = load_config(REPO / "pipelines" / "devops.yaml")
MAPPING = "gitops/platform/terraform-outputs.yaml"


def seeded() -> FakeRemote:
    remote = FakeRemote()
    remote.seed("main", {str(p.relative_to(REPO)): p.read_text() for p in (REPO / "gitops").rglob("*")
                         if p.is_file() and p.suffix in (".yaml", ".json")})
    return remote


def terraform_outputs(**override: Any) -> dict[str, Any]:
    """Every output the mapping follows, as `terraform output -json` of dev would give it."""
    mapping = rules.parse_mapping((REPO / MAPPING).read_text(), MAPPING)
    found: dict[str, Any] = {"autoscaler": "cluster-autoscaler"}
    for entry in mapping.entries:
        node = found
        for key in entry.output[:-1]:
            node = node.setdefault(str(key), {})
        node[str(entry.output[-1])] = f"tf-{'-'.join(str(k) for k in entry.output)}"
    found.update(override)
    return found


def ports(remote: FakeRemote, outputs: dict[str, Any]) -> ValuesPorts:
    def session() -> GitOpsSession:
        return GitOpsSession(FakeGitOpsRepository(remote), PublishSettings("dev", "main", GitOpsLayout(
            "gitops/environments/dev/")), describe=evidence_body)

    return ValuesPorts(lambda: dict(outputs), session)


def test_outputs_fill_only_the_placeholders_in_one_commit_and_a_second_run_commits_nothing() -> None:
    remote = seeded()
    before = remote.files("main")
    dry = cluster_values(CONFIG, "dev", ports(remote, terraform_outputs()), dry_run=True)
    assert dry.publish.outcome == "dry-run" and remote.files("main") == before
    result = cluster_values(CONFIG, "dev", ports(remote, terraform_outputs()))
    assert result.publish.outcome == "committed" and result.autoscaler == "cluster-autoscaler"
    after = remote.files("main")
    changed = sorted(p for p in after if after[p] != before[p])
    assert changed == sorted(result.publish.files) and changed
    assert all(p.startswith("gitops/environments/dev/") for p in changed)
    for path in changed:  # every changed line was a placeholder, and only its value changed
        lines = [line for line in difflib.ndiff(before[path].splitlines(), after[path].splitlines())
                 if line[:1] in "+-"]
        removed = [line[2:] for line in lines if line.startswith("- ")]
        assert all('""' in line for line in removed), (path, removed)
        assert len(removed) == len([line for line in lines if line.startswith("+ ")])
    mapping = rules.parse_mapping(after[MAPPING], MAPPING)
    assert rules.empty_values(mapping, "dev", "cluster-autoscaler", after.get) == []
    karpenter_only = [e.path("dev") for e in mapping.entries if e.autoscaler == "karpenter"]
    assert not set(karpenter_only) & set(changed)  # another autoscaler's values are left alone
    again = cluster_values(CONFIG, "dev", ports(remote, terraform_outputs()))
    assert again.publish.outcome == "noop" and remote.files("main") == after


@pytest.mark.parametrize(("outputs", "message"), [
    (terraform_outputs(vpc_id=None), "vpc_id"),
    ({k: v for k, v in terraform_outputs().items() if k != "cluster_name"}, "cluster_name"),
    (terraform_outputs(autoscaler="karpenter"), "terraform output autoscaler"),
])
def test_a_missing_output_or_another_autoscaler_writes_nothing(outputs: dict[str, Any], message: str) -> None:
    remote = seeded()
    before = remote.files("main")
    with pytest.raises(BadInput, match=message):
        cluster_values(CONFIG, "dev", ports(remote, outputs))
    assert remote.files("main") == before
