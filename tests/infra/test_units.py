"""Backend generation (from the config, with the endpoint the wiring reads from the environment),
config validation, plan summary masking and Terraform message parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devops.adapters.terraform import parse_lock_info
from devops.config.infra import InfraConfig
from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.backend import settings as backend_settings
from devops.domain.infra.plan_summary import SENSITIVE, UNKNOWN, mask, summarise
from devops.wiring.infra import state_endpoint
from devops.wiring.settings import RuntimeSettings


def settings(infra: InfraConfig, *, environ: dict[str, str], **kwargs: Any) -> BackendSettings:
    """The backend as `devops infra` builds it: templates from the config, the endpoint from
    the environment snapshot of the wiring."""
    endpoint = state_endpoint(RuntimeSettings.from_environ(environ))
    return backend_settings(infra.state.templates(), endpoint=endpoint, **kwargs)


def test_backend_for_real_aws_has_kms_and_no_stand_in_flags() -> None:
    infra = InfraConfig()
    backend = settings(infra, project="techitfactory-shop", environment="prod", account_id=lambda: "111122223333",
                       environ={})
    assert backend == BackendSettings("techitfactory-shop-tfstate-111122223333", "techitfactory-shop-tflock",
                                      "alias/techitfactory-shop-tfstate", "ap-south-1", "prod/terraform.tfstate")
    hcl = backend.hcl()
    assert 'kms_key_id = "alias/techitfactory-shop-tfstate"' in hcl
    assert "encrypt = true" in hcl and 'dynamodb_table = "techitfactory-shop-tflock"' in hcl
    assert "skip_" not in hcl and "endpoints" not in hcl and "use_path_style" not in hcl
    assert backend.lock_id == "techitfactory-shop-tfstate-111122223333/prod/terraform.tfstate"


@pytest.mark.parametrize("endpoint", [
    "https://bucket.vpce-1a2b3c4d-5e6f.s3.ap-south-1.vpce.amazonaws.com",  # a VPC interface endpoint
    "https://s3-fips.ap-south-1.amazonaws.com",                             # a FIPS endpoint
    "http://127.0.0.1:5001/",                                               # the moto server of tests
])
def test_an_endpoint_changes_where_not_how_the_state_is_kept(endpoint: str) -> None:
    """Any AWS_ENDPOINT_URL used to drop kms_key_id and turn the credential/region checks off."""
    asked: list[str] = []

    def account() -> str:
        asked.append("sts")
        return "123456789012"

    infra = InfraConfig.model_validate({"state": {"bucket": "fixed-bucket"}})
    backend = settings(infra, project="p", environment="dev", account_id=account,
                       environ={"AWS_ENDPOINT_URL": endpoint})
    assert asked == []  # no {account_id} in the template: no STS call
    hcl = backend.hcl()
    shown = endpoint.rstrip("/")
    assert f'endpoints = {{ s3 = "{shown}", dynamodb = "{shown}" }}' in hcl
    assert 'kms_key_id = "alias/p-tfstate"' in hcl and "encrypt = true" in hcl
    assert "skip_" not in hcl and "use_path_style" not in hcl


def test_stand_in_options_come_from_configuration_only() -> None:
    infra = InfraConfig.model_validate({"state": {"backend_options": {"use_path_style": True,
                                                                      "skip_s3_checksum": True}}})
    hcl = settings(infra, project="p", environment="dev", account_id=lambda: "1",
                   environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:5001"}).hcl()
    assert "use_path_style = true" in hcl and "skip_s3_checksum = true" in hcl
    assert 'kms_key_id = "alias/p-tfstate"' in hcl  # still encrypted with the configured key
    # Control: the same options without an endpoint are written too (configuration decides).
    hcl = settings(infra, project="p", environment="dev", account_id=lambda: "1", environ={}).hcl()
    assert "use_path_style = true" in hcl and "endpoints" not in hcl


def test_bootstrap_state_has_its_own_key() -> None:
    backend = settings(InfraConfig(), project="p", environment=None, account_id=lambda: "1", environ={})
    assert backend.key == "bootstrap/terraform.tfstate"


def _write(tmp_path: Path, infra: dict[str, Any]) -> Path:
    config = {
        "project": "shop",
        "services": {"cart": {"path": "services/cart", "port": 3002, "language": "javascript"}},
        "environments": {"dev": {"url": "https://dev.example.test", "cluster": {"name": "shop-dev"},
                                 "gitops": {"path": "gitops/environments/dev"}}},
        "infra": infra,
    }
    path = tmp_path / "pipelines" / "devops.yaml"
    path.parent.mkdir(parents=True)
    # Block-style YAML so errors carry line numbers.
    from ruamel.yaml import YAML

    with path.open("w") as handle:
        YAML().dump(config, handle)
    return path


@pytest.mark.parametrize(("infra", "expected"), [
    ({"state": {"bucket": "{projekt}-state"}}, "infra.state.bucket: unknown placeholder {projekt}"),
    ({"state": {"key": "terraform.tfstate"}}, "infra.state.key: the state key must contain {environment}"),
    ({"state": {"region": "mumbai"}}, 'infra.state.region: "mumbai" does not match'),
    ({"lock_timeout": "forever"}, "infra.lock_timeout:"),
    ({"environments": {"dev": {"variables": {}}}}, "infra.environments.dev.root: required key is missing"),
    ({"enviroments": {}}, "infra.enviroments: unknown key; did you mean 'environments'?"),
    # Stand-in options cannot turn encryption off or rename the state, and are booleans.
    ({"state": {"backend_options": {"kms_key_id": False}}}, "infra.state.backend_options: 'kms_key_id' cannot be set"),
    ({"state": {"backend_options": {"encrypt": False}}}, "'encrypt' cannot be set here; allowed: use_path_style"),
    ({"state": {"backend_options": {"skip_everything": True}}}, "'skip_everything' cannot be set here"),
    ({"state": {"backend_options": {"use_path_style": "yes"}}}, "infra.state.backend_options.use_path_style"),
    ({"state": {"backend_options": {"use_path_style": 1}}}, "infra.state.backend_options.use_path_style"),
])
def test_bad_infra_config_is_exit_2_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], infra: dict[str, Any], expected: str
) -> None:
    from devops.cli.main import main

    path = _write(tmp_path, infra)
    code = main(["--config", str(path), "infra", "plan", "--env", "dev"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"devops: error: {path}:")
    assert expected in err


def test_infra_environment_that_is_not_an_environment_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devops.cli.main import main

    (tmp_path / "infra" / "dev").mkdir(parents=True)
    path = _write(tmp_path, {"environments": {"dev": {"root": "infra/dev"}, "staging": {"root": "infra/dev"}}})
    code = main(["--config", str(path), "infra", "plan", "--env", "dev"])
    assert code == 2
    assert "infra.environments.staging: not an environment under environments:" in capsys.readouterr().err


def test_missing_root_folder_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from devops.cli.main import main

    path = _write(tmp_path, {"environments": {"dev": {"root": "infra/nowhere"}}})
    code = main(["--config", str(path), "infra", "plan", "--env", "dev"])
    assert code == 2
    err = capsys.readouterr().err
    assert "infra.environments.dev.root:" in err and "infra/nowhere is not a folder" in err


def test_mask_hides_sensitive_parts_and_marks_unknown_ones() -> None:
    value = {"name": "db", "password": "hunter2", "nested": {"token": "t", "plain": 1}, "list": ["a", "b"]}
    sensitive = {"password": True, "nested": {"token": True}, "list": [False, True]}
    unknown = {"id": True}
    masked = mask(value, sensitive, unknown)
    assert masked == {"name": "db", "password": SENSITIVE, "nested": {"plain": 1, "token": SENSITIVE},
                      "list": ["a", SENSITIVE], "id": UNKNOWN}
    assert mask("x", True) == SENSITIVE


def test_summary_masks_updates_outputs_and_skips_reads() -> None:
    plan = {
        "format_version": "1.2", "terraform_version": "1.11.4",
        "variables": {"environment": {"value": "dev"}},
        "resource_changes": [
            {"address": "data.aws_region.current", "mode": "data", "type": "aws_region", "name": "current",
             "change": {"actions": ["read"]}},
            {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
             "action_reason": "replace_because_cannot_update",
             "change": {"actions": ["delete", "create"],
                        "before": {"password": "old-secret", "engine": "postgres", "size": 1},
                        "after": {"password": "new-secret", "engine": "postgres", "size": 2},
                        "before_sensitive": {"password": True}, "after_sensitive": {"password": True},
                        "after_unknown": {}}},
            {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
             "change": {"actions": ["no-op"], "before": {}, "after": {}}},
        ],
        "output_changes": {
            "db_password": {"actions": ["update"], "after": "new-secret", "after_sensitive": True},
            "endpoint": {"actions": ["create"], "after_unknown": True},
            "same": {"actions": ["no-op"], "after": 1},
        },
    }
    summary = summarise(plan)
    text = json.dumps(summary.to_dict())
    assert "secret" not in text.replace("db_password", "")
    assert summary.counts == {"create": 0, "update": 0, "delete": 0, "replace": 1}
    change = summary.changes[0]
    assert change.reason == "replace_because_cannot_update"
    assert [(a.name, a.before, a.after) for a in change.attributes] == [("size", 1, 2)]
    assert {o.name: o.value for o in summary.outputs} == {"db_password": SENSITIVE, "endpoint": UNKNOWN}
    assert summary.headline() == "0 to create, 0 to update, 0 to delete, 1 to REPLACE (destroyed, then created)"
    assert summary.variables == {"environment": "dev"}


def test_summary_rejects_json_that_is_not_a_plan() -> None:
    from devops.errors import ToolFailed

    with pytest.raises(ToolFailed, match="not a plan representation"):
        summarise({"values": {}})


def test_lock_info_is_read_from_terraforms_message() -> None:
    # Recorded from terraform 1.11 against the S3 backend with DynamoDB locking.
    text = """Error: Error acquiring the state lock

Error message: operation error DynamoDB: PutItem, https response error
StatusCode: 400, ConditionalCheckFailedException: The conditional request failed
Lock Info:
  ID:        11111111-2222-3333-4444-555555555555
  Path:      stt-state/dev/terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@laptop
  Version:   1.11.4
  Created:   2026-11-25 16:00:00 +0000 UTC
  Info:
"""
    lock = parse_lock_info(text)
    assert lock is not None
    assert (lock.id, lock.who, lock.operation, lock.path) == (
        "11111111-2222-3333-4444-555555555555", "alice@laptop", "OperationTypeApply", "stt-state/dev/terraform.tfstate")
    assert lock.created == "2026-11-25 16:00:00 +0000 UTC"
    assert parse_lock_info("Error: something else") is None


def test_cli_environment_replaces_a_missing_cli_config_only(tmp_path: Path) -> None:
    import os

    from devops.adapters.terraform import cli_environment

    assert cli_environment({"TF_CLI_CONFIG_FILE": "/nonexistent/.terraformrc"})["TF_CLI_CONFIG_FILE"] == os.devnull
    real = tmp_path / "terraformrc"
    real.write_text('plugin_cache_dir = "/tmp"\n')
    assert "TF_CLI_CONFIG_FILE" not in cli_environment({"TF_CLI_CONFIG_FILE": str(real)})
    assert "TF_CLI_CONFIG_FILE" not in cli_environment({})
    assert cli_environment({})["TF_IN_AUTOMATION"] == "1"
