"""The `infra:` block: Terraform state backend and the environments' Terraform roots.

Names of the state bucket, lock table and KMS alias are templates: `{project}`, `{region}`
and `{account_id}` are filled in at run time (the account id from STS), so one checked-in
file serves every account. `devops infra` generates the backend configuration from this
block; nobody types backend flags by hand.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, StrictBool, field_validator

from devops.config.base import Section
from devops.domain.infra.backend import StateTemplates
from devops.domain.types import MAX_SECONDS, Bool, Int, Program, ProjectPath, check_template, finite_tree

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"
_PLACEHOLDERS = {"project", "region", "account_id", "environment"}
# A Terraform variable value: what a tfvars.json file can hold.
TfValue = str | int | float | bool | list[Any] | dict[str, Any]


def _check_template(value: str, allowed: set[str]) -> str:
    return check_template(value, allowed)


def _finite_variables(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,99}", name):
            raise ValueError(f"{name!r} is not a Terraform variable name")
    # tfvars.json cannot hold NaN or Infinity, and Terraform would read them as strings.
    return finite_tree(value)


# S3 backend arguments an S3-compatible stand-in (moto server, MinIO, LocalStack) needs and
# AWS never does. Only these may be set through `infra.state.backend_options`: bucket, key,
# region, lock table and KMS encryption stay devops's own, whatever the endpoint.
STANDIN_BACKEND_OPTIONS = (
    "use_path_style",
    "skip_credentials_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_region_validation",
    "skip_s3_checksum",
)


class StateBackendConfig(Section):
    """Where Terraform keeps state: S3 bucket (KMS-encrypted), DynamoDB lock table."""

    # Bucket names are global across AWS: the account id keeps them unique.
    bucket: str = "{project}-tfstate-{account_id}"
    lock_table: str = "{project}-tflock"
    kms_alias: str = "alias/{project}-tfstate"
    region: str = Field(default="ap-south-1", pattern=REGION_PATTERN)
    # One state object per environment; the bootstrap root's own state goes to "bootstrap/".
    key: str = "{environment}/terraform.tfstate"
    # Extra backend arguments for an S3-compatible stand-in only (see STANDIN_BACKEND_OPTIONS).
    # Never needed on AWS, VPC and FIPS endpoints included: leave it empty there.
    backend_options: dict[str, StrictBool] = Field(default_factory=dict)

    def templates(self) -> StateTemplates:
        """The templates as the domain takes them (devops/domain/infra/backend.py)."""
        return StateTemplates(self.bucket, self.lock_table, self.kms_alias, self.region, self.key,
                              tuple(self.backend_options.items()))

    @field_validator("backend_options")
    @classmethod
    def _standin_options(cls, value: dict[str, bool]) -> dict[str, bool]:
        for name in value:
            if name not in STANDIN_BACKEND_OPTIONS:
                raise ValueError(f"{name!r} cannot be set here; allowed: {', '.join(STANDIN_BACKEND_OPTIONS)} "
                                 "(bucket, key, region, lock table and KMS encryption come from devops)")
        return value

    @field_validator("bucket", "lock_table", "kms_alias")
    @classmethod
    def _names(cls, value: str) -> str:
        return _check_template(value, _PLACEHOLDERS - {"environment"})

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        check_template(value, _PLACEHOLDERS)
        if "{environment}" not in value:
            raise ValueError("the state key must contain {environment} so environments never share state")
        return value


class InfraEnvironmentConfig(Section):
    """The Terraform root of one environment and the variables given to it."""

    # A folder inside the project (symlinks resolved): devops.config.paths.
    root: ProjectPath
    variables: dict[str, TfValue] = Field(default_factory=dict)
    # Protected environments refuse `destroy` without --allow-prod. Unset: protected exactly when
    # the environment is production (devops/domain/environments.py: its name or its cluster's
    # name says prod); true or false decides for this environment (docs/infra.md).
    protected: Bool | None = None

    _finite = field_validator("variables")(_finite_variables)


class BootstrapConfig(Section):
    root: ProjectPath = "infra/bootstrap"
    variables: dict[str, TfValue] = Field(default_factory=dict)

    _finite = field_validator("variables")(_finite_variables)


class InfraConfig(Section):
    """Terraform settings for `devops infra`."""

    terraform: Program = "terraform"
    state: StateBackendConfig = StateBackendConfig()
    bootstrap: BootstrapConfig = BootstrapConfig()
    # Keys must be names under the top-level `environments:` block.
    environments: dict[str, InfraEnvironmentConfig] = Field(default_factory=dict)
    # Saved plans, generated backend files and plan summaries, relative to the project root.
    work_dir: ProjectPath = ".devops/infra"
    # How long a command waits for a held state lock before failing ("0s": fail at once).
    lock_timeout: str = Field(default="0s", pattern=r"^\d{1,4}(s|m)$")
    timeout_seconds: Int = Field(default=3600, ge=10, le=MAX_SECONDS)
