"""Fixtures of the cross-layer tests: the repository, and throw-away copies to break."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.platform.rules import Repo
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
