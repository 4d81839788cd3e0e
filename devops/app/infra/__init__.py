"""The Terraform workflow of `devops infra`: bootstrap, plan, apply, output, destroy, unlock.

Every run writes the backend file from `pipelines/devops.yaml` and re-initialises with it, so
the state is always the configured one. A plan is saved with a record (`*.meta.json`) naming
its environment, backend and checksum; `apply` refuses a plan made for another environment,
a plan whose file changed, and a plan made against an older state than the current one
(devops/domain/infra/guards.py).

The use cases take the configuration and `InfraPorts` (a Terraform factory, an AWS probe, the
state endpoint: ports.py), so the CLI's wiring and the tests' fakes choose them.
"""

from __future__ import annotations

from devops.app.infra.apply import ApplyInterrupted, apply, check_plan, destroy
from devops.app.infra.bootstrap import OVERRIDE_FILE, bootstrap
from devops.app.infra.plan import plan
from devops.app.infra.ports import InfraPorts, Probe, Terraform, TerraformFactory
from devops.app.infra.state import outputs, unlock
from devops.app.infra.target import Target, target

__all__ = [
    "OVERRIDE_FILE", "ApplyInterrupted", "InfraPorts", "Probe", "Target", "Terraform", "TerraformFactory", "apply",
    "bootstrap", "check_plan", "destroy", "outputs", "plan", "target", "unlock",
]
