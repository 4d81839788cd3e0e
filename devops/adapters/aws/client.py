"""The one boto3 client factory: every AWS call of `devops` uses a client made here.

boto3 honours `AWS_ENDPOINT_URL` itself (moto server in tests and local runs); retries use
botocore's standard mode (throttling and 5xx with backoff). `aws_error()` turns botocore
failures into errors that say which call failed and what to check.
"""

from __future__ import annotations

from typing import Any

from devops.errors import BadInput, ExternalError

MAX_ATTEMPTS = 5


def client(service: str, region: str, *, max_attempts: int = MAX_ATTEMPTS) -> Any:
    """A boto3 client for `service` in `region`, with bounded standard-mode retries."""
    import boto3
    from botocore.config import Config as BotoConfig

    config = BotoConfig(
        region_name=region,
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=30,
        user_agent_extra="devops",
    )
    return boto3.session.Session().client(service, config=config)


def aws_error(exc: Exception, call: str) -> Exception:
    """A DevopsError for a failed AWS call: bad input (2) for validation, else external (3)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return ExternalError(f"{call}: no AWS credentials", hint="configure AWS credentials or OIDC")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", "")
        if code in {"ValidationException", "InvalidParameterException"}:
            return BadInput(f"{call}: {code}: {message}")
        return ExternalError(f"{call}: {code}: {message}")
    if isinstance(exc, BotoCoreError):
        return ExternalError(f"{call}: {exc}", hint="check AWS_ENDPOINT_URL, the network and the region")
    return exc
