"""Build identity and `devops plan`: the input hash, and changes against a git base."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.adapters.build_inputs import FileInputs
from devops.app.base_images import BaseResolver
from devops.app.plan import parse_build_args, service_inputs
from devops.config import Config, load_config
from devops.wiring.images import base_resolver
from devops.wiring.settings import RuntimeSettings
from tests.support.cli import run_cli
from tests.support.project import commit_all, make_project

ARGS = {"DEBIAN_IMAGE": "localhost:5000/standin/debian:bookworm"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def digest(project: Path, service: str = "alpha", args: dict[str, str] | None = None) -> str:
    config = load_config(project / "pipelines" / "devops.yaml")
    return service_inputs(config, service, ARGS if args is None else args, FileInputs(config.root),
                          bases(config)).digest


def bases(config: Config) -> BaseResolver:
    """The real resolver: the base images' digests from the local registry (or the engine)."""
    return base_resolver(config, RuntimeSettings.from_environ({}))


def digest_tag(project: Path, service: str) -> str:
    config = load_config(project / "pipelines" / "devops.yaml")
    return service_inputs(config, service, {}, FileInputs(config.root), bases(config)).tag


def test_hash_is_stable_and_depends_on_content(project: Path) -> None:
    first = digest(project)
    assert digest(project) == first
    (project / "services" / "alpha" / "app.txt").write_text("alpha v2\n")
    assert digest(project) != first


def test_dockerignored_files_do_not_count(project: Path) -> None:
    first = digest(project)
    (project / "services" / "alpha" / "debug.log").write_text("noise")
    (project / "services" / "alpha" / "node_modules").mkdir()
    (project / "services" / "alpha" / "node_modules" / "x.js").write_text("x")
    assert digest(project) == first


def test_build_args_and_base_image_count(project: Path) -> None:
    first = digest(project)
    assert digest(project, args={"DEBIAN_IMAGE": "localhost:5000/standin/python:3.11-bookworm"}) != first
    config = load_config(project / "pipelines" / "devops.yaml")
    inputs = service_inputs(config, "alpha", ARGS, FileInputs(config.root), bases(config))
    assert inputs.base_images == ("localhost:5000/standin/debian:bookworm",)
    assert inputs.tag.startswith("in-") and len(inputs.tag) == 19


def test_executable_bit_counts(project: Path) -> None:
    first = digest(project)
    (project / "services" / "alpha" / "app.txt").chmod(0o755)
    assert digest(project) != first


def test_build_args_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_build_args(["A=1", "B=x=y"], environ={"DEVOPS_BUILD_ARGS": "A=0 C=3"}) == \
        {"A": "1", "B": "x=y", "C": "3"}
    from devops.errors import BadInput

    with pytest.raises(BadInput, match="expected KEY=VALUE"):
        parse_build_args(["novalue"], environ={})


def test_plan_against_a_base_ref_lists_only_changed_services(project: Path) -> None:
    (project / "services" / "beta" / "app.txt").write_text("beta v2\n")
    commit_all(project, "change beta")
    result = run_cli("plan", "--base", "HEAD~1", "--json", cwd=project)
    assert result.code == 0, result.err
    assert result.json() == {"include": [{"service": "beta", "path": "services/beta",
                                          "tag": digest_tag(project, "beta")}]}


def test_plan_with_base_sees_new_services_and_unknown_refs(project: Path) -> None:
    result = run_cli("plan", "--base", "no-such-ref", cwd=project)
    assert result.code == 2 and "--base no-such-ref: not a commit" in result.err
    config = (project / "pipelines" / "devops.yaml")
    config.write_text(config.read_text().replace(
        "environments:", "  gamma:\n    path: services/gamma\n    port: 9000\n    language: other\nenvironments:"))
    (project / "services" / "gamma").mkdir()
    (project / "services" / "gamma" / "Dockerfile").write_text("FROM scratch\n")
    commit_all(project, "add gamma")
    result = run_cli("plan", "--base", "HEAD~1", "--json", cwd=project)
    assert [entry["service"] for entry in result.json()["include"]] == ["gamma"]  # type: ignore[index]


def test_missing_folder_and_dockerfile_are_bad_input(project: Path) -> None:
    (project / "services" / "beta" / "Dockerfile").unlink()
    result = run_cli("plan", "beta", cwd=project)
    assert result.code == 2 and "services/beta/Dockerfile: Dockerfile does not exist" in result.err
    import shutil

    shutil.rmtree(project / "services" / "alpha")
    result = run_cli("plan", "alpha", cwd=project)
    assert result.code == 2 and "services/alpha: service folder does not exist" in result.err


def test_unknown_service_is_exit_2(project: Path) -> None:
    result = run_cli("plan", "gamma", cwd=project)
    assert result.code == 2 and "unknown service 'gamma'" in result.err
