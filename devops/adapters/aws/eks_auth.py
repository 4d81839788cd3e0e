"""How `devops` reaches an EKS cluster's Kubernetes API: the endpoint and CA from DescribeCluster,
and a bearer token made exactly as `aws eks get-token` makes it.

The token is a presigned STS GetCallerIdentity URL (GET, 60 s, with the `x-k8s-aws-id` header
naming the cluster among the signed headers), base64url-encoded without padding, prefixed
`k8s-aws-v1.`. The API server's authenticator calls STS with it and learns who we are; nothing
secret is stored, and no kubeconfig is written. Every AWS call goes through the one client
factory (devops/adapters/aws/client.py): AWS_ENDPOINT_URL and the credentials as boto3 reads them.
"""

from __future__ import annotations

import base64
from typing import Any

from devops.adapters.aws import client as aws
from devops.adapters.kubernetes import Endpoint
from devops.errors import ExternalError, UnknownName

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
# What `aws eks get-token` asks for; EKS accepts a token for 15 minutes regardless.
PRESIGN_SECONDS = 60


def token(cluster: str, region: str, *, sts: Any = None) -> str:
    """A fresh EKS bearer token for `cluster` (presigned STS GetCallerIdentity)."""
    from botocore.exceptions import BotoCoreError, ClientError

    sts = sts or aws.client("sts", region)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster

    # Only this client's GetCallerIdentity is signed with the header (as the AWS CLI does it).
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    try:
        url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS,
                                         HttpMethod="GET")
    except (BotoCoreError, ClientError) as exc:
        raise aws.aws_error(exc, f"STS presign GetCallerIdentity for EKS cluster {cluster} in {region}") from None
    finally:
        sts.meta.events.unregister("before-sign.sts.GetCallerIdentity", add_cluster_header)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def endpoint(cluster: str, region: str, *, timeout: float = 30.0, eks: Any = None, sts: Any = None) -> Endpoint:
    """The cluster's API endpoint, CA and token maker (UnknownName for a cluster that does not
    exist, ExternalError when it has no endpoint yet or AWS fails)."""
    from botocore.exceptions import BotoCoreError, ClientError

    eks = eks or aws.client("eks", region)
    try:
        data = eks.describe_cluster(name=cluster)["cluster"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise UnknownName(f"EKS cluster {cluster} not found in {region}",
                              hint="create it with `devops infra apply`, or check environments.<env>.cluster") from None
        raise aws.aws_error(exc, f"EKS DescribeCluster {cluster} in {region}") from None
    except BotoCoreError as exc:
        raise aws.aws_error(exc, f"EKS DescribeCluster {cluster} in {region}") from None
    server = str(data.get("endpoint") or "")
    ca = str((data.get("certificateAuthority") or {}).get("data") or "")
    if not server.startswith("https://") or not ca:
        raise ExternalError(f"EKS cluster {cluster} in {region} has no API endpoint or CA yet "
                            f"(status {data.get('status', 'unknown')})", hint="wait until it is ACTIVE")
    try:
        ca_pem = base64.b64decode(ca, validate=False)
    except ValueError:
        raise ExternalError(f"EKS cluster {cluster}: certificateAuthority.data is not base64") from None
    if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise ExternalError(f"EKS cluster {cluster}: certificateAuthority.data holds no PEM certificate")
    sts = sts or aws.client("sts", region)
    return Endpoint(cluster, server, ca_pem, lambda: token(cluster, region, sts=sts), timeout)
