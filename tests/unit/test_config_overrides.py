"""The environment's overrides of pipelines/devops.yaml, applied to the file's data before it is
validated. Pure: the variables are a dict the caller passes (the CLI passes its RuntimeSettings)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from devops.config.base import variable
from devops.config.loader import find_config
from devops.config.overrides import apply_overrides, overridden
from devops.errors import ConfigError
from devops.wiring.settings import RuntimeSettings

DATA: dict[str, Any] = {
    "project": "shop",
    "registry": {"host": "127.0.0.1:5000", "namespace": "shop"},
    "environments": {
        "dev": {"gitops": {"path": "gitops/dev", "repo": "."}, "url": "http://dev"},
        "prod": {"gitops": {"path": "gitops/prod"}, "url": "http://prod"},
    },
}


def test_without_variables_the_data_is_the_files() -> None:
    assert apply_overrides(DATA, None) == DATA
    assert apply_overrides(DATA, {}) == DATA


def test_registry_host_and_namespace() -> None:
    before = copy.deepcopy(DATA)
    out = apply_overrides(DATA, {"DEVOPS_REGISTRY_HOST": "docker.io", "DEVOPS_REGISTRY_NAMESPACE": "acme"})
    assert out["registry"] == {"host": "docker.io", "namespace": "acme"}
    assert before == DATA   # the caller's data is not changed


def test_an_empty_variable_overrides_nothing() -> None:
    assert apply_overrides(DATA, {"DEVOPS_REGISTRY_HOST": "", "DEVOPS_GITOPS_REPO": ""}) == DATA


def test_a_missing_registry_block_is_created_only_when_something_overrides_it() -> None:
    bare = {"project": "shop"}
    assert apply_overrides(bare, {}) == bare
    assert apply_overrides(bare, {"DEVOPS_REGISTRY_NAMESPACE": "acme"}) == {"project": "shop",
                                                                            "registry": {"namespace": "acme"}}


@pytest.mark.parametrize("registry", [None, "docker.io", ["a"]])
def test_a_registry_that_is_not_a_mapping_is_left_for_validation_to_name(registry: object) -> None:
    data = {"registry": registry}
    assert apply_overrides(data, {"DEVOPS_REGISTRY_HOST": "docker.io"}) == data


def test_the_gitops_repo_points_every_environment_at_one_repository() -> None:
    out = apply_overrides(DATA, {"DEVOPS_GITOPS_REPO": "https://example.com/gitops.git"})
    assert {name: env["gitops"]["repo"] for name, env in out["environments"].items()} == {
        "dev": "https://example.com/gitops.git", "prod": "https://example.com/gitops.git"}
    assert out["environments"]["dev"]["url"] == "http://dev"
    assert DATA["environments"]["dev"]["gitops"]["repo"] == "."


def test_environments_that_are_not_mappings_are_left_for_validation_to_name() -> None:
    data = {"environments": {"dev": None, "prod": {"gitops": "x"}}}
    assert apply_overrides(data, {"DEVOPS_GITOPS_REPO": "r"}) == data
    assert apply_overrides({"environments": ["dev"]}, {"DEVOPS_GITOPS_REPO": "r"}) == {"environments": ["dev"]}


def test_overridden_names_what_is_set() -> None:
    assert overridden({"DEVOPS_REGISTRY_HOST": "docker.io", "DEVOPS_GITOPS_REPO": ""}) == ["DEVOPS_REGISTRY_HOST"]
    assert overridden(None) == []


def test_the_clis_settings_and_a_plain_mapping_are_read_alike() -> None:
    settings = RuntimeSettings.from_environ({"DEVOPS_REGISTRY_HOST": "docker.io", "EMPTY": ""})
    for environ in (settings, {"DEVOPS_REGISTRY_HOST": "docker.io", "EMPTY": ""}):
        assert variable(environ, "DEVOPS_REGISTRY_HOST") == "docker.io"
        assert variable(environ, "EMPTY") is None and variable(environ, "UNSET") is None
        assert variable(environ, None) is None
        assert apply_overrides(DATA, environ)["registry"]["host"] == "docker.io"
    assert variable(None, "DEVOPS_REGISTRY_HOST") is None


def test_devops_config_comes_from_the_variables_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text("project: x\n")
    assert find_config(environ={"DEVOPS_CONFIG": str(config)}, start=tmp_path) == config
    with pytest.raises(ConfigError, match=r"nope.yaml: config file not found; check \$DEVOPS_CONFIG"):
        find_config(environ={"DEVOPS_CONFIG": str(tmp_path / "nope.yaml")}, start=tmp_path)
    monkeypatch.setenv("DEVOPS_CONFIG", str(config))   # the process's own: not the loader's to read
    with pytest.raises(ConfigError, match="no pipelines/devops.yaml found"):
        find_config(start=tmp_path)
