"""What `devops scan` looks at, and the policy of each, from an in-memory configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.scan_targets import config_targets, image_targets, policy_for
from devops.domain.gates.ignore import IgnoreRules, rules_from_bytes
from devops.domain.gates.policy import PolicyOverride
from devops.errors import ConfigError, UnknownName
from tests.app.config import ROOT, make_config
from tests.fakes.docker import FakeBases, FakeInputs

GATES = {"scan": {"ignore_file": ".trivyignore"},
         "services": {"beta": {"scan": {"severities": ["LOW"]}}},
         "helm_set": {"charts": {"image.tag": "x"}}}


def load(path: Path, shown: str) -> IgnoreRules:
    return rules_from_bytes(f"CVE-{path.name}\n".encode(), shown, yaml=False)


@pytest.fixture
def inputs() -> FakeInputs:
    reader = FakeInputs()
    for name in ("alpha", "beta"):
        reader.put(ROOT / "services" / name, ("app.txt", name))
    return reader


def test_every_service_by_default_then_images_with_the_policy_of_each(inputs: FakeInputs) -> None:
    config = make_config(gates=GATES)
    targets = image_targets(config, [], [], PolicyOverride(), reader=inputs, bases=FakeBases, load_ignore=load)
    assert [(t.service, t.location) for t in targets] == [("alpha", "services/alpha/Dockerfile"),
                                                          ("beta", "services/beta/Dockerfile")]
    assert targets[0].ref.startswith("registry.test/acme/alpha:in-")
    assert targets[1].policy.severities == ("LOW",) and targets[0].policy.ignore.path == ".trivyignore"
    only = image_targets(config, [], ["pushed:1"], PolicyOverride(ignore_unfixed=True), reader=inputs, bases=FakeBases,
                         load_ignore=load)
    assert [(t.ref, t.service, t.location, t.policy.ignore_unfixed) for t in only] == [("pushed:1", None, "pushed:1",
                                                                                        True)]
    with pytest.raises(UnknownName):
        image_targets(config, ["gamma"], [], PolicyOverride(), reader=inputs, bases=FakeBases, load_ignore=load)


def test_build_arguments_change_the_image_scanned(inputs: FakeInputs) -> None:
    config = make_config()
    plain = image_targets(config, ["alpha"], [], PolicyOverride(), reader=inputs, bases=FakeBases, load_ignore=load)
    other = image_targets(config, ["alpha"], [], PolicyOverride(), reader=inputs, bases=FakeBases, load_ignore=load,
                          build_args={"DEBIAN_IMAGE": "debian:12"})
    assert plain[0].ref != other[0].ref


def test_configuration_targets_judge_misconfigurations_only() -> None:
    config = make_config(gates=GATES)
    targets = config_targets(config, PolicyOverride(), load_ignore=load)
    assert [t.name for t in targets] == ["services/alpha/Dockerfile", "services/beta/Dockerfile", "charts", "gitops",
                                         "infra"]
    assert {t.policy.scanners for t in targets} == {("misconfig",)}
    assert targets[2].helm_set == {"image.tag": "x"} and targets[2].path == ROOT / "charts"
    assert [t.name for t in config_targets(config, PolicyOverride(), ["beta"], load_ignore=load)] == \
        ["services/beta/Dockerfile"]


def test_a_service_folder_linked_from_outside_the_project_is_shown_by_its_path(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "services").mkdir(parents=True)
    (root / "services" / "alpha").symlink_to(elsewhere)
    config = make_config(root, services=("alpha",))
    assert config_targets(config, PolicyOverride(), ["alpha"], load_ignore=load)[0].name == \
        str(elsewhere / "Dockerfile")


def test_gates_of_an_unknown_service_are_a_config_error() -> None:
    config = make_config(gates={"services": {"gamma": {"scan": {"severities": ["LOW"]}}}})
    with pytest.raises(ConfigError, match="gates.services.gamma: unknown service"):
        policy_for(config, load, "alpha")
