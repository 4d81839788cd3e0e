"""The mapping of terraform outputs to values files (devops/domain/cluster/outputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.cluster import outputs as rules
from devops.errors import BadInput

REPO = Path(__file__).resolve().parents[3]
MAPPING = """\
version: 1
entries:
  - output: [cluster_name]
    file: gitops/environments/{env}/platform/lbc.yaml
    key: [clusterName]
  - output: [irsa_role_arns, external-dns]
    file: gitops/environments/{env}/platform/dns.yaml
    key: [serviceAccount, annotations, eks.amazonaws.com/role-arn]
  - output: [route53_zone_id]
    file: gitops/environments/{env}/platform/dns.yaml
    key: [extraArgs, 0]
    format: "--zone-id-filter={value}"
  - output: [karpenter, interruption_queue_name]
    file: gitops/environments/{env}/platform/karpenter.yaml
    key: [settings, interruptionQueue]
    when: {autoscaler: karpenter}
"""
OUTPUTS = {"cluster_name": "techitfactory-dev", "irsa_role_arns": {"external-dns": "arn:aws:iam::1:role/dns"},
           "route53_zone_id": "Z0123", "karpenter": None, "count": 3}


def test_the_repository_mapping_parses_and_names_every_autoscaler_choice() -> None:
    mapping = rules.parse_mapping((REPO / "gitops/platform/terraform-outputs.yaml").read_text(), "m")
    autoscalers = {e.autoscaler for e in mapping.entries}
    assert autoscalers == {None, "cluster-autoscaler", "karpenter"}
    assert len(mapping.applicable("none")) < len(mapping.applicable("karpenter")) < len(mapping.entries)


def test_edits_follow_outputs_render_formats_and_skip_other_autoscalers() -> None:
    mapping = rules.parse_mapping(MAPPING, "m")
    edits = rules.edits(mapping, "dev", "cluster-autoscaler", OUTPUTS, root="infra/environments/dev")
    assert [(e.file, e.key, e.value, e.source) for e in edits] == [
        ("gitops/environments/dev/platform/lbc.yaml", ("clusterName",), "techitfactory-dev",
         "terraform output cluster_name"),
        ("gitops/environments/dev/platform/dns.yaml", ("serviceAccount", "annotations", "eks.amazonaws.com/role-arn"),
         "arn:aws:iam::1:role/dns", "terraform output irsa_role_arns.external-dns"),
        ("gitops/environments/dev/platform/dns.yaml", ("extraArgs", 0), "--zone-id-filter=Z0123",
         "terraform output route53_zone_id"),
    ]
    assert edits[2].name == "gitops/environments/dev/platform/dns.yaml: extraArgs.0"


@pytest.mark.parametrize(("outputs", "message"), [
    ({**OUTPUTS, "karpenter": None}, "karpenter.interruption_queue_name .* is missing or empty"),
    ({**OUTPUTS, "karpenter": {"interruption_queue_name": ""}}, "missing or empty"),
    ({**OUTPUTS, "karpenter": "not-a-map"}, "missing or empty"),
    ({**OUTPUTS, "karpenter": {"interruption_queue_name": ["q"]}}, "is a list, expected a string"),
    ({**OUTPUTS, "karpenter": {"interruption_queue_name": True}}, "is a bool"),
])
def test_a_missing_null_or_structured_output_is_bad_input_naming_it(outputs: dict, message: str) -> None:
    mapping = rules.parse_mapping(MAPPING, "m")
    with pytest.raises(BadInput, match=message) as raised:
        rules.edits(mapping, "prod", "karpenter", outputs, root="infra/environments/prod")
    assert "gitops/environments/prod/platform/karpenter.yaml: settings.interruptionQueue" in str(raised.value)
    assert "devops infra apply --env prod" in (raised.value.hint or "") or "map key" in str(raised.value)


def test_numbers_are_written_as_text() -> None:
    mapping = rules.parse_mapping(MAPPING.replace("[cluster_name]", "[count]"), "m")
    assert rules.edits(mapping, "dev", "none", OUTPUTS, root="r")[0].value == "3"


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "expected a mapping"),
    ("version: 2\nentries: []", "version: expected 1"),
    ("version: 1\nentries: []\nextra: 1", "unknown key 'extra'"),
    ("version: 1\nentries: []", "non-empty list"),
    ("version: 1\nentries: [x]", r"entries\[0\]: expected a mapping"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [k], bogus: 1}]", "unknown key 'bogus'"),
    ("version: 1\nentries: [{output: a, file: x.yaml, key: [k]}]", "output: expected a list"),
    ("version: 1\nentries: [{output: ['a b'], file: x.yaml, key: [k]}]", "output: expected a list"),
    ("version: 1\nentries: [{output: [a], file: ../x.yaml, key: [k]}]", "file: expected a relative"),
    ("version: 1\nentries: [{output: [a], file: /x.yaml, key: [k]}]", "file: expected a relative"),
    ("version: 1\nentries: [{output: [a], file: .git/x.yaml, key: [k]}]", "file: expected a relative"),
    ("version: 1\nentries: [{output: [a], file: x.json, key: [k]}]", "file: expected a relative"),
    ("version: 1\nentries: [{output: [a], file: '{team}/x.yaml', key: [k]}]", "only placeholder"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: []}]", "key: expected a list"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [-1]}]", "key: expected a list"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [true]}]", "key: expected a list"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [k], format: none}]", "format: expected"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [k], format: '{value}{x}'}]", "format: expected"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [k], when: {autoscaler: both}}]", "when: expected"),
    ("version: 1\nentries: [{output: [a], file: x.yaml, key: [k], when: []}]", "when: expected"),
])
def test_a_malformed_mapping_is_bad_input_naming_the_entry_and_key(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        rules.parse_mapping(text, "gitops/platform/terraform-outputs.yaml")


def test_empty_values_are_what_bootstrap_refuses() -> None:
    mapping = rules.parse_mapping(MAPPING, "m")
    files = {
        "gitops/environments/dev/platform/lbc.yaml": 'clusterName: ""\n',
        "gitops/environments/dev/platform/dns.yaml": (
            'serviceAccount:\n  annotations:\n    eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/dns"\n'
            'extraArgs:\n  - "--zone-id-filter="\n'),
    }
    assert rules.empty_values(mapping, "dev", "none", files.get) == [
        "gitops/environments/dev/platform/lbc.yaml: clusterName",
        "gitops/environments/dev/platform/dns.yaml: extraArgs.0"]
    assert rules.empty_values(mapping, "dev", "karpenter", files.get)[-1] == (
        "gitops/environments/dev/platform/karpenter.yaml: (file missing)")
    filled = {**files, "gitops/environments/dev/platform/lbc.yaml": "clusterName: techitfactory-dev\n",
              "gitops/environments/dev/platform/dns.yaml": files["gitops/environments/dev/platform/dns.yaml"]
              .replace("filter=", "filter=Z1")}
    assert rules.empty_values(mapping, "dev", "none", filled.get) == []  # control
