"""What `devops infra` asks AWS directly (through the shared client factory): the account id,
whether the backend exists, and who holds a state lock. Terraform itself does the rest.
Implements the `Probe` port of devops/app/infra/ports.py."""

from __future__ import annotations

import json
from dataclasses import dataclass

from devops.adapters.aws import client as aws
from devops.domain.infra.terraform import LockInfo


@dataclass
class BackendProbe:
    region: str

    def account_id(self) -> str:
        try:
            return str(aws.client("sts", self.region).get_caller_identity()["Account"])
        except Exception as exc:
            raise aws.aws_error(exc, "sts:GetCallerIdentity (for the state bucket name)") from None

    def bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            aws.client("s3", self.region).head_bucket(Bucket=bucket)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket", "NotFound"}:
                return False
            raise aws.aws_error(exc, f"s3:HeadBucket {bucket}") from None
        except Exception as exc:
            raise aws.aws_error(exc, f"s3:HeadBucket {bucket}") from None

    def table_exists(self, table: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            aws.client("dynamodb", self.region).describe_table(TableName=table)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise aws.aws_error(exc, f"dynamodb:DescribeTable {table}") from None
        except Exception as exc:
            raise aws.aws_error(exc, f"dynamodb:DescribeTable {table}") from None

    def object_exists(self, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            aws.client("s3", self.region).head_object(Bucket=bucket, Key=key)
            return True
        except ClientError:
            return False

    def held_lock(self, table: str, lock_id: str) -> LockInfo | None:
        """The lock Terraform holds on `lock_id` (`bucket/key`), or None when it is free."""
        try:
            item = (
                aws.client("dynamodb", self.region)
                .get_item(TableName=table, Key={"LockID": {"S": lock_id}}, ConsistentRead=True)
                .get("Item")
            )
        except Exception as exc:
            raise aws.aws_error(exc, f"dynamodb:GetItem {table} {lock_id}") from None
        if not item or "Info" not in item:
            return None
        try:
            info = json.loads(item["Info"]["S"])
        except (KeyError, ValueError):
            return LockInfo("unknown", path=lock_id)
        return LockInfo(
            str(info.get("ID", "unknown")),
            str(info.get("Who", "")),
            str(info.get("Operation", "")),
            str(info.get("Created", "")),
            str(info.get("Path", lock_id)),
        )
