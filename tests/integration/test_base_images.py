"""Fresh base images (issue 17, item 6), on the real Docker engine and the local registry: the
build identity counts each FROM image by the digest its tag resolves to, so a base re-pushed
under the same tag makes `devops plan` say "base image changed" and triggers exactly one rebuild
of the services built on it, and of no other."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.project import commit_all, make_project

pytestmark = pytest.mark.docker
ACCEPT = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
# alpha is built on the moving base; beta on the stand-in, which does not move.
ALPHA_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY app.txt /srv/app.txt
"""


def docker(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["docker", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def push_base(base: str, standin: str, marker: str, folder: Path) -> str:
    """Build a base from the stand-in with `marker` in /base.txt, push it as `base`; its digest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.txt").write_text(marker)
    (folder / "Dockerfile").write_text(f"FROM {standin}\nCOPY base.txt /base.txt\n")
    docker("build", "-q", "-t", base, ".", cwd=folder)
    docker("push", "-q", base)
    name, tag = base.split("/", 1)[1].rsplit(":", 1)
    answer = requests.head(f"http://{base.split('/', 1)[0]}/v2/{name}/manifests/{tag}", headers=ACCEPT, timeout=10)
    return answer.headers["Docker-Content-Digest"]


def statuses(outcome) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert outcome.code == 0, outcome.err
    return {s["service"]: s["build"]["status"] for s in outcome.json()["services"]}


def plan_reasons(project: Path) -> dict[str, str]:
    outcome = run_cli("plan", cwd=project)
    assert outcome.code == 0, outcome.err
    rows = {}
    for line in (outcome.out + outcome.err).splitlines():
        cells = [cell.strip() for cell in line.replace("│", "|").split("|") if cell.strip()]
        if len(cells) >= 4 and cells[0] in ("alpha", "beta"):
            rows[cells[0]] = f"{cells[1]}: {cells[3]}"
    return rows


@pytest.fixture
def project(tmp_path: Path, registry: str, standin_build_args: dict[str, str],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    namespace = f"b{uuid.uuid4().hex[:10]}"
    base = f"{registry}/{namespace}/base:1"
    root = make_project(tmp_path / "shop", namespace=namespace, registry=registry, commit=False)
    (root / "services" / "alpha" / "Dockerfile").write_text(ALPHA_DOCKERFILE)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    commit_all(root, "initial")
    monkeypatch.setenv("DEVOPS_BUILD_ARGS",
                       f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']} BASE_IMAGE={base}")
    monkeypatch.setenv("COLUMNS", "200")
    yield root, base
    images = docker("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    mine = [image for image in images if f"/{namespace}/" in image]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)


def test_a_base_re_pushed_under_the_same_tag_rebuilds_once_what_is_built_on_it(
        project: tuple[Path, str], standin_build_args: dict[str, str], tmp_path: Path) -> None:
    root, base = project
    standin = standin_build_args["DEBIAN_IMAGE"]
    first_digest = push_base(base, standin, "base v1\n", tmp_path / "base1")
    assert statuses(run_cli("--json", "build", cwd=root)) == {"alpha": "built", "beta": "built"}
    # Control: nothing moved, nothing is built, and plan says so.
    assert statuses(run_cli("--json", "build", cwd=root)) == {"alpha": "skipped", "beta": "skipped"}
    assert plan_reasons(root) == {"alpha": "no: image with these inputs exists",
                                  "beta": "no: image with these inputs exists"}

    second_digest = push_base(base, standin, "base v2\n", tmp_path / "base2")
    assert second_digest != first_digest, "the same tag now names another image"
    assert plan_reasons(root) == {"alpha": "yes: base image changed", "beta": "no: image with these inputs exists"}
    rebuilt = run_cli("--json", "build", cwd=root)
    assert statuses(rebuilt) == {"alpha": "built", "beta": "skipped"}
    image = next(s["image"] for s in rebuilt.json()["services"] if s["service"] == "alpha")  # type: ignore[index]
    assert docker("run", "--rm", "--entrypoint", "cat", image, "/base.txt") == "base v2\n", "built on the new base"
    # Exactly one rebuild: the next run finds the image of the new identity.
    assert statuses(run_cli("--json", "build", cwd=root)) == {"alpha": "skipped", "beta": "skipped"}
    assert plan_reasons(root) == {"alpha": "no: image with these inputs exists",
                                  "beta": "no: image with these inputs exists"}

    # A change of the service's own sources is not reported as a base change.
    (root / "services" / "alpha" / "app.txt").write_text("alpha v2\n")
    assert plan_reasons(root)["alpha"] == "yes: no image with these inputs"
