"""Fixtures of the cross-layer tests: the repository, and throw-away copies to break."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.platform.rules import Repo
from tests.support.eks_proxy import EksProxy
from tests.support.eks_token import EksAuth
from tests.support.kubeapi import KubeAPI, kubeapi_fixture

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"


@pytest.fixture(scope="session")
def repo() -> Repo:
    return Repo(REPO_ROOT)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Callable[[], Repo]:
    """A copy of gitops/, infra/ and charts/ in tmp_path, for the control cases to mutate."""

    def make() -> Repo:
        root = tmp_path / "repo"
        for folder in ("gitops", "infra", "charts"):
            shutil.copytree(REPO_ROOT / folder, root / folder,
                            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        return Repo(root)

    return make


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence (a control case that edits nothing would prove nothing)."""
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    if not (SCHEMAS / "argoproj.io_Application_v1alpha1.json").is_file():
        pytest.skip(f"{SCHEMAS} is absent (the CRD schemas ship beside the project, not in it)")
    return SCHEMAS


@pytest.fixture
def kubeapi() -> Iterator[KubeAPI]:
    """A started stand-in Kubernetes API server (tests/support/kubeapi.py) that wants a token."""
    yield from kubeapi_fixture()


@dataclass
class EksStandin:
    """An EKS cluster in moto whose API is the stand-in, reached through EKS's DescribeCluster
    (tests/support/eks_proxy.py) and authenticated with EKS tokens (tests/support/eks_token.py)."""

    api: KubeAPI
    auth: EksAuth
    proxy: EksProxy
    cluster: str
    region: str = "ap-south-1"

    def eks(self) -> Any:
        import boto3

        return boto3.client("eks", region_name=self.region)


ROLE = "arn:aws:iam::123456789012:role/eks"


@pytest.fixture
def eks_standin(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[EksStandin]:
    """`techitfactory-dev` in moto (AWS_ENDPOINT_URL through the EKS proxy), its API the stand-in."""
    import boto3

    proxy = EksProxy(aws_env).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    cluster = "techitfactory-dev"
    auth = EksAuth(cluster, proxy.url)
    api = KubeAPI(eks=auth).start()
    proxy.serve(cluster, api.url, api.ca_pem)
    boto3.client("eks", region_name="ap-south-1").create_cluster(
        name=cluster, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]}, tags={"team": "platform"})
    try:
        yield EksStandin(api, auth, proxy, cluster)
    finally:
        api.stop()
        proxy.stop()
