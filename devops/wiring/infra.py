"""The outside world of `devops infra`: the Terraform runner and the AWS probe, built from the
`infra:` block and the environment snapshot (RuntimeSettings), for devops/app/infra/."""

from __future__ import annotations

from pathlib import Path

from devops.app.infra.ports import InfraPorts, Terraform
from devops.config.infra import InfraConfig
from devops.wiring.settings import RuntimeSettings

# Where S3 and DynamoDB answer: the S3-specific variable wins (the AWS SDKs' order).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def state_endpoint(settings: RuntimeSettings) -> str | None:
    """The endpoint of the state backend; None: AWS's own endpoints."""
    for name in ENDPOINT_VARIABLES:
        value = settings.get(name)
        if value:
            return value.rstrip("/")
    return None


def infra_ports(infra: InfraConfig, settings: RuntimeSettings) -> InfraPorts:
    """Terraform runs with `infra.terraform` and `infra.timeout_seconds`; the probe asks AWS in
    the state's region."""
    from devops.adapters.aws.account import BackendProbe
    from devops.adapters.terraform import Terraform as TerraformRunner

    def terraform(root: Path) -> Terraform:
        return TerraformRunner(root, binary=infra.terraform, timeout=infra.timeout_seconds,
                               environ=settings.environ)

    return InfraPorts(terraform, BackendProbe(infra.state.region), state_endpoint(settings))
