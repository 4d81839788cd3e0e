"""What the infra workflow needs from the outside world, as ports: Terraform (one root
directory at a time) and a probe of the AWS account that holds the state.

`devops/adapters/terraform/` and `devops/adapters/aws/account.py` implement them for real;
`tests/fakes/terraform.py` and `tests/fakes/aws_probe.py` in memory (tests/contract keeps the
two honest). The values they exchange are domain types (devops/domain/infra/terraform.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from devops.domain.infra.terraform import ApplyResult, LockInfo, PlanResult, StateStamp


class Terraform(Protocol):
    """One Terraform root. Failures raise `TerraformFailed`, `StateLocked` or `BackendMissing`."""

    def init(self, backend_config: Path | None, *, migrate_state: bool = False) -> None: ...

    def plan(self, out: Path, *, var_file: Path | None = None, destroy: bool = False,
             lock_timeout: str = "0s") -> PlanResult: ...

    def show_plan(self, plan: Path) -> dict[str, Any]:
        """The saved plan as Terraform's JSON representation (`terraform show -json`)."""
        ...

    def plan_stamp(self, plan: Path) -> StateStamp | None:
        """The state a saved plan was made against; None for a plan made against no state."""
        ...

    def apply(self, plan: Path, *, lock_timeout: str = "0s") -> ApplyResult: ...

    def output(self) -> Mapping[str, Any]:
        """name -> {value, type, sensitive}."""
        ...

    def state_stamp(self) -> StateStamp | None:
        """The current state's lineage and serial; None when there is no state yet."""
        ...

    def force_unlock(self, lock_id: str) -> None: ...


TerraformFactory = Callable[[Path], Terraform]


class Probe(Protocol):
    """What the workflow asks AWS directly: the account, the backend, who holds a lock."""

    def account_id(self) -> str: ...
    def bucket_exists(self, bucket: str) -> bool: ...
    def table_exists(self, table: str) -> bool: ...
    def object_exists(self, bucket: str, key: str) -> bool: ...
    def held_lock(self, table: str, lock_id: str) -> LockInfo | None: ...


@dataclass(frozen=True)
class InfraPorts:
    """Everything the use cases are given besides the configuration (built by
    devops/wiring/infra.py)."""

    terraform: TerraformFactory
    probe: Probe
    # Where S3 and DynamoDB answer (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); None: AWS itself.
    endpoint: str | None = None
