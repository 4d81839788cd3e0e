"""An AWS account in memory, as `devops infra` sees it: S3 buckets holding state objects and
DynamoDB lock tables holding Terraform's lock items; and `FakeProbe`, the `Probe` port
(devops/app/infra/ports.py) on it. `tests/fakes/terraform.py` keeps its state and locks here,
so the probe and Terraform agree as they do on AWS. tests/contract/test_terraform.py runs the
same assertions against it and against `BackendProbe` on a moto server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops.domain.infra.terraform import LockInfo
from devops.errors import ExternalError

ACCOUNT = "123456789012"  # moto's account id, so names agree with the real side


@dataclass
class FakeAws:
    account: str = ACCOUNT
    # bucket -> key -> the state document (a dict, as `terraform state pull` prints it)
    buckets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # table -> LockID -> lock
    tables: dict[str, dict[str, LockInfo]] = field(default_factory=dict)
    # Probe calls that fail (an unreachable API), by method name: fault injection.
    failing: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def create_backend(self, bucket: str, table: str) -> None:
        self.buckets.setdefault(bucket, {})
        self.tables.setdefault(table, {})

    def hold_lock(self, table: str, lock_id: str, lock: LockInfo) -> None:
        """Write a lock item as Terraform does when it takes the state lock."""
        self.tables[table][lock_id] = lock


class FakeProbe:
    """The `Probe` port on a `FakeAws`."""

    def __init__(self, aws: FakeAws) -> None:
        self.aws = aws

    def _call(self, name: str) -> None:
        self.aws.calls.append(name)
        if name in self.aws.failing:
            raise ExternalError(f"{name}: could not connect to the endpoint URL (injected)")

    def account_id(self) -> str:
        self._call("account_id")
        return self.aws.account

    def bucket_exists(self, bucket: str) -> bool:
        self._call("bucket_exists")
        return bucket in self.aws.buckets

    def table_exists(self, table: str) -> bool:
        self._call("table_exists")
        return table in self.aws.tables

    def object_exists(self, bucket: str, key: str) -> bool:
        self._call("object_exists")
        return key in self.aws.buckets.get(bucket, {})

    def held_lock(self, table: str, lock_id: str) -> LockInfo | None:
        self._call("held_lock")
        if table not in self.aws.tables:
            raise ExternalError(f"dynamodb:GetItem {table} {lock_id}: ResourceNotFoundException")
        return self.aws.tables[table].get(lock_id)
