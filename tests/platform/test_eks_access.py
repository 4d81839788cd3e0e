"""How `devops` reaches an EKS cluster's API (devops/adapters/aws/eks_auth.py, kubernetes.py): the
endpoint and CA from DescribeCluster (moto, through tests/support/eks_proxy.py), a token made as
`aws eks get-token` makes it, checked by the stand-in as EKS's authenticator checks it (against
moto's STS), and no kubeconfig anywhere."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from devops.adapters.aws.eks_auth import TOKEN_PREFIX, endpoint, token
from devops.adapters.kubernetes import Kube
from devops.errors import ExternalError, UnknownName
from tests.platform.conftest import EksStandin


def presigned(tok: str) -> str:
    encoded = tok.removeprefix(TOKEN_PREFIX)
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def test_the_token_is_a_presigned_get_caller_identity_naming_the_cluster(eks_standin: EksStandin) -> None:
    tok = token(eks_standin.cluster, eks_standin.region)
    assert tok.startswith("k8s-aws-v1.") and "=" not in tok
    url = urlsplit(presigned(tok))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == eks_standin.proxy.url  # STS at AWS_ENDPOINT_URL
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]


def test_the_api_is_reached_through_eks_with_a_token_and_no_kubeconfig(eks_standin: EksStandin, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    found = endpoint(eks_standin.cluster, eks_standin.region)
    assert found.server == eks_standin.api.url and found.ca_pem == eks_standin.api.ca_pem
    kube = Kube(found)
    ca_file = kube._ca_file
    assert kube.version() == "v1.31.0-eks-standin"
    assert kube.list("v1", "Namespace") == []
    kube.close()
    assert not os.path.exists(ca_file)  # the CA file goes with the client
    assert list(tmp_path.iterdir()) == []  # nothing in HOME: no ~/.kube/config, no token cache
    assert eks_standin.auth.seen and eks_standin.auth.seen[0].startswith("arn:aws:")
    headers = {r.headers["Authorization"][:18] for r in eks_standin.api.requests}
    assert headers == {"Bearer k8s-aws-v1."}
    assert eks_standin.proxy.described == [eks_standin.cluster]


def test_what_the_authenticator_refuses(eks_standin: EksStandin) -> None:
    auth = eks_standin.auth
    good = token(eks_standin.cluster, eks_standin.region)
    assert auth.identity(good)  # control: the real token passes
    url = presigned(good)
    forged = [
        "static-token",
        TOKEN_PREFIX + "!!!",
        # Another host: the authenticator only ever calls STS.
        TOKEN_PREFIX + base64.urlsafe_b64encode(url.replace(eks_standin.proxy.url, "http://127.0.0.1:9").encode())
        .decode().rstrip("="),
        # The cluster header not signed.
        TOKEN_PREFIX + base64.urlsafe_b64encode(url.replace("host%3Bx-k8s-aws-id", "host").encode())
        .decode().rstrip("="),
        # Signed long ago.
        TOKEN_PREFIX + base64.urlsafe_b64encode(
            url.replace(parse_qs(urlsplit(url).query)["X-Amz-Date"][0], "20200101T000000Z").encode()
        ).decode().rstrip("="),
    ]
    for tok in forged:
        assert auth.identity(tok) is None, tok
    assert len(auth.rejected) == len(forged)


def test_an_identity_without_an_access_entry_is_refused_saying_what_to_add(eks_standin: EksStandin) -> None:
    eks_standin.auth.access_entries = {"arn:aws:iam::123456789012:role/platform-admin"}
    with Kube(endpoint(eks_standin.cluster, eks_standin.region)) as kube, \
            pytest.raises(ExternalError, match="401.*access entry"):
        kube.list("v1", "Namespace")


def test_a_cluster_that_does_not_exist_is_bad_input(eks_standin: EksStandin) -> None:
    with pytest.raises(UnknownName, match="techitfactory-nope not found"):
        endpoint("techitfactory-nope", eks_standin.region)
