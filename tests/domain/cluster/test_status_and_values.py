"""`devops cluster status`'s reading of objects (devops/domain/cluster/status.py, results.py) and
the GitOps engine's scalar edits of `devops cluster values` (ValueEdit in change.py, merge.py,
message.py, values.py)."""

from __future__ import annotations

import pytest

from devops.domain.cluster import status as rules
from devops.domain.cluster.results import (
    ApplicationStatus,
    BootstrapResult,
    ChartRef,
    NodegroupStatus,
    ObjectPlan,
    StatusResult,
)
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ValueEdit
from devops.domain.gitops.merge import Baseline, apply_change, record_or_empty
from devops.domain.gitops.message import subject
from devops.domain.gitops.repository import GitOpsLayout
from devops.domain.gitops.values import patch_scalars
from devops.errors import BadInput

LBC = "gitops/environments/dev/platform/lbc.yaml"
DNS = "gitops/environments/dev/platform/dns.yaml"


def test_an_application_before_its_first_reconciliation_is_unknown() -> None:
    fresh = rules.application_status({"metadata": {"name": "shop-dev"}})
    assert (fresh.sync, fresh.health, fresh.project, fresh.wave, fresh.revision) == ("Unknown", "Unknown", "default",
                                                                                    "0", "")
    synced = rules.application_status({
        "metadata": {"name": "argocd-dev", "annotations": {"argocd.argoproj.io/sync-wave": "-6"}},
        "spec": {"project": "cluster-dev"},
        "status": {"sync": {"status": "Synced", "revision": "0123456789abcdef"}, "health": {"status": "Healthy"}}})
    assert synced == ApplicationStatus("argocd-dev", "cluster-dev", "Synced", "Healthy", "-6", "0123456789ab")
    assert synced.ready and not fresh.ready


def test_protected_capacity_by_opt_out_tag_or_system_label() -> None:
    assert rules.is_protected({"devops.cost.opt-out": "true"}, {}, "devops.cost.opt-out")
    assert rules.is_protected({}, {"techitfactory.com/capacity": "system"}, "devops.cost.opt-out")
    assert not rules.is_protected({"devops.cost.opt-out": "false"}, {"techitfactory.com/capacity": "workload"},
                                  "devops.cost.opt-out")


def test_a_nodepool_shows_its_limits_what_cost_saved_and_its_nodes() -> None:
    pool = {"metadata": {"name": "default", "annotations": {"devops.cost/limits": '{"cpu": "16"}'}},
            "spec": {"limits": {"cpu": "0"}}}
    nodes = [{"metadata": {"labels": {"karpenter.sh/nodepool": "default"}}}, {"metadata": {"labels": {}}}, {}]
    found = rules.nodepool_status(pool, nodes)
    assert (found.name, found.limits, found.nodes, found.saved) == ("default", {"cpu": "0"}, 1, {"cpu": "16"})
    assert rules.nodepool_status({"metadata": {"name": "x"}, "spec": {}}, []).saved is None


def test_results_say_what_was_applied_what_is_ready_and_what_is_protected() -> None:
    plan = [ObjectPlan("v1", "Namespace", "", "argocd", "argo-cd 10.10.0", "unchanged", {}),
            ObjectPlan("v1", "ConfigMap", "argocd", "cm", "argo-cd 10.10.0", "update", {})]
    result = BootstrapResult("dev", "c", "", ChartRef("r", "argo-cd", "10.10.0", "argocd", "argocd", ()), "b",
                             tuple(plan), True)
    assert [o.ref for o in result.applied] == ["ConfigMap argocd/cm"]
    status = StatusResult("dev", "c", "ap-south-1", "", "karpenter")
    assert not status.ready  # no Application at all is not a ready platform
    status.applications = [ApplicationStatus("a", "p", "Synced", "Healthy", "0")]
    status.nodegroups = [NodegroupStatus("system", 1, 1, 2, 1, True, ("t3.medium",), "ACTIVE"),
                         NodegroupStatus("general", 0, 0, 3, 0, False, ("t3.medium",), "ACTIVE")]
    assert status.ready and status.protected == ["system"]


def values_change(*edits: ValueEdit) -> ChangeSet:
    return ChangeSet("dev", (), values=edits, action="cluster-values")


def test_a_value_set_twice_in_one_change_is_bad_input() -> None:
    edit = ValueEdit(LBC, ("clusterName",), "a")
    with pytest.raises(BadInput, match=r"lbc.yaml: clusterName: set twice"):
        values_change(edit, ValueEdit(LBC, ("clusterName",), "b"))


def apply(change: ChangeSet, texts: dict[str, str], baseline: Baseline | None = None) -> object:
    base = baseline or Baseline(record_or_empty(None, "r", "dev"))
    return apply_change(change, texts.get, GitOpsLayout("gitops/environments/dev/"), base, remote="g", branch="main")


def test_value_edits_fill_placeholders_byte_preserving_and_name_what_changed() -> None:
    texts = {LBC: "# written by devops cluster values\nclusterName: \"\"  # from terraform\nvpcId: ''\n",
             DNS: "extraArgs:\n  - \"\"\n  - --keep\n"}
    change = values_change(ValueEdit(LBC, ("clusterName",), "techitfactory-dev", "terraform output cluster_name"),
                           ValueEdit(LBC, ("vpcId",), "vpc-1"), ValueEdit(DNS, ("extraArgs", 0), "--zone-id-filter=Z1"))
    applied = apply(change, texts)
    edits = dict(applied.edits)  # type: ignore[attr-defined]
    assert edits[LBC] == ("# written by devops cluster values\nclusterName: \"techitfactory-dev\"  # from terraform"
                             "\nvpcId: 'vpc-1'\n")
    assert edits[DNS] == "extraArgs:\n  - \"--zone-id-filter=Z1\"\n  - --keep\n"
    changes = applied.changes  # type: ignore[attr-defined]
    assert [(c.service, c.old, c.new) for c in changes] == [
        (f"{LBC}: clusterName", "", "techitfactory-dev"), (f"{LBC}: vpcId", "", "vpc-1"),
        (f"{DNS}: extraArgs.0", "", "--zone-id-filter=Z1")]
    assert subject(change, tuple(changes)) == "cluster-values(dev): 3 value(s) in 2 file(s)"
    # Already filled: nothing to write.
    again = apply(change, {LBC: edits[LBC], DNS: edits[DNS]})
    assert dict(again.edits) == {} and again.changes == ()  # type: ignore[attr-defined]


def test_a_value_changed_by_someone_else_since_the_first_read_is_a_concurrent_change() -> None:
    change = values_change(ValueEdit(LBC, ("clusterName",), "techitfactory-dev"))
    baseline = Baseline(record_or_empty(None, "r", "dev"))
    apply(change, {LBC: "clusterName: \"\"\n"}, baseline)  # the first read: ""
    with pytest.raises(ConcurrentChange, match=r"clusterName: changed since this run read it: expected '', found "
                                               r"'someone-else'"):
        apply(change, {LBC: "clusterName: someone-else\n"}, baseline)


def test_a_values_file_that_does_not_exist_or_has_no_such_item_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"g: .*lbc.yaml: does not exist in main"):
        apply(values_change(ValueEdit(LBC, ("clusterName",), "x")), {})
    with pytest.raises(BadInput, match=r"extraArgs.3: no list item 3 there"):
        patch_scalars("extraArgs:\n  - a\n", DNS, {("extraArgs", 3): "x"})


def test_an_empty_list_item_has_no_placeholder_to_fill() -> None:
    with pytest.raises(BadInput, match=r"extraArgs.0 is an empty list item; write \"\" as its placeholder"):
        patch_scalars("extraArgs:\n  -\n  - b\n", DNS, {("extraArgs", 0): "x"})
