"""Configuration: loading, validation messages (file, line, key path, value), exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.config import load_config
from devops.errors import ConfigError, UnknownName
from tests.support.cli import run_cli
from tests.support.project import make_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, commit=False)


def edit(project: Path, old: str, new: str) -> Path:
    path = project / "pipelines" / "devops.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_repository_config_is_valid(repo_root: Path) -> None:
    config = load_config(repo_root / "pipelines" / "devops.yaml")
    assert {name: s.port for name, s in config.services.items()} == {
        "frontend": 80, "product": 3001, "cart": 3002, "order": 3003}
    assert set(config.environments) >= {"dev", "prod"}
    assert config.root == repo_root


def test_found_from_a_subfolder(project: Path) -> None:
    (project / "services" / "alpha" / "deep").mkdir()
    config = load_config(start=project / "services" / "alpha" / "deep")
    assert config.source == project / "pipelines" / "devops.yaml"


def test_wrong_type_names_file_line_key_and_value(project: Path) -> None:
    path = edit(project, "port: 8001", 'port: "abc"')
    result = run_cli("--config", str(path), "config", "validate")
    assert result.code == 2
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"abc"' in text)
    assert result.err.strip() == (
        f'devops: error: {path}:{line}: services.beta.port: expected an integer, got "abc"')
    assert "Traceback" not in result.err


def test_unknown_key_suggests_the_close_one(project: Path) -> None:
    path = edit(project, "port: 8000", "prot: 8000")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "services.alpha.prot: unknown key; did you mean 'port'?" in message


def test_unknown_top_level_key_lists_known_keys(project: Path) -> None:
    path = project / "pipelines" / "devops.yaml"
    path.write_text(path.read_text() + "zzz_unrelated: 1\n")
    with pytest.raises(ConfigError, match=r"zzz_unrelated: unknown key; known keys: project, registry"):
        load_config(path)


def test_missing_required_key(project: Path) -> None:
    path = edit(project, "project: testshop\n", "")
    with pytest.raises(ConfigError, match=r"devops.yaml: project: required key is missing"):
        load_config(path)


def test_bad_enum_value(project: Path) -> None:
    path = edit(project, "language: other", "language: cobol")
    with pytest.raises(ConfigError, match=r'services.alpha.language: expected one of .*got "cobol"'):
        load_config(path)


def test_invalid_yaml_names_the_line(project: Path) -> None:
    path = project / "pipelines" / "devops.yaml"
    path.write_text("project: [unclosed\nregistry: {}\n")
    result = run_cli("--config", str(path), "config", "validate")
    assert result.code == 2
    assert f"{path}:" in result.err and "not valid YAML" in result.err


def test_empty_file(project: Path) -> None:
    path = project / "pipelines" / "devops.yaml"
    path.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="the config file is empty"):
        load_config(path)


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    result = run_cli("config", "validate", cwd=tmp_path)
    assert result.code == 2
    assert "no pipelines/devops.yaml found" in result.err and "--config" in result.err
    missing = run_cli("--config", str(tmp_path / "nope.yaml"), "config", "validate")
    assert missing.code == 2 and "nope.yaml: config file not found" in missing.err


def test_config_from_environment_variable(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEVOPS_CONFIG", str(project / "pipelines" / "devops.yaml"))
    result = run_cli("config", "validate", "--json", cwd=tmp_path.parent)
    assert result.code == 0
    assert result.json()["services"] == ["alpha", "beta"]


def test_unknown_service_and_environment(project: Path) -> None:
    config = load_config(project / "pipelines" / "devops.yaml")
    with pytest.raises(UnknownName, match=r"unknown service 'alpah'.*did you mean 'alpha'"):
        config.service("alpah")
    result = run_cli("--config", str(config.source), "config", "show", "--env", "prd")
    assert result.code == 2 and "unknown environment 'prd'" in result.err


def test_show_redacts_the_token(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "shopbot")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET123")
    result = run_cli("--config", str(project / "pipelines" / "devops.yaml"), "config", "show")
    assert result.code == 0
    assert "dckr_pat_SECRET123" not in result.out
    assert "token: '***'" in result.out and "shopbot" in result.out
    data = run_cli("--config", str(project / "pipelines" / "devops.yaml"), "--json", "config", "show", "--env", "dev")
    assert data.json()["registry"]["credentials"]["token"] == "***"  # type: ignore[index]
    assert list(data.json()["environments"]) == ["dev"]  # type: ignore[index]


def test_registry_override_from_the_environment_the_caller_passes(project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "pipelines" / "devops.yaml"
    config = load_config(path, environ={"DEVOPS_REGISTRY_HOST": "docker.io"})
    assert config.registry.is_docker_hub
    assert config.repository("alpha") == "docker.io/test/alpha"
    # The process environment is the CLI's to read (once, in RuntimeSettings), never the loader's.
    monkeypatch.setenv("DEVOPS_REGISTRY_HOST", "docker.io")
    assert not load_config(path).registry.is_docker_hub
    shown = run_cli("--config", str(path), "--json", "config", "show")
    assert shown.json()["registry"]["host"] == "docker.io"  # type: ignore[index]
    assert shown.json()["registry"]["overridden_by"] == ["DEVOPS_REGISTRY_HOST"]  # type: ignore[index]


def test_config_show_without_overrides_has_no_overridden_by(project: Path) -> None:
    shown = run_cli("--config", str(project / "pipelines" / "devops.yaml"), "--json", "config", "show")
    assert shown.code == 0, shown.err
    assert "overridden_by" not in shown.json()["registry"]  # type: ignore[index]


def test_promote_from_must_name_an_environment(project: Path) -> None:
    path = edit(project, "gitops: {path: gitops/environments/dev}",
                "gitops: {path: gitops/environments/dev}\n    promote_from: staging")
    with pytest.raises(ConfigError, match="promote_from: unknown environment 'staging'"):
        load_config(path)


def test_config_show_includes_the_signing_keys_without_secrets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "keys").mkdir()
    (project / "keys" / "dev.key").write_text("not read by config show")
    path = project / "pipelines" / "devops.yaml"
    path.write_text(path.read_text() + "signing: {method: key, key: keys/dev.key, key_password_env: DEV_KEY_PASSWORD}\n")
    monkeypatch.setenv("DEV_KEY_PASSWORD", "password-canary")
    shown = run_cli("--config", str(path), "--json", "config", "show")
    assert shown.code == 0, shown.err
    assert shown.json()["signing"]["method"] == "key"  # type: ignore[index]
    assert shown.json()["signing"]["key_password_env"] == "DEV_KEY_PASSWORD"  # type: ignore[index]
    assert "password-canary" not in shown.out
