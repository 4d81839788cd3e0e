"""The demo's generated configuration and its `--stop` safety, without running a demo."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from devops.adapters import daemon
from devops.app import demo_config as configgen
from devops.config import load_config
from tests.demo.conftest import REPO
from tests.support.cli import run_cli


def inputs(tmp_path: Path, cache: Path | None) -> configgen.DemoConfigInputs:
    return configgen.DemoConfigInputs(
        repo_root=REPO, workdir=tmp_path / "work", registry="127.0.0.1:5000", gitops_remote=tmp_path / "g.git",
        frontend_url="http://127.0.0.1:4321", prometheus_url="http://127.0.0.1:9999", trivy_cache_dir=cache)


def test_the_generated_config_is_valid_and_changes_only_what_the_demo_needs(tmp_path: Path) -> None:
    path = configgen.write(inputs(tmp_path, None))
    config = load_config(path, allowed_roots=[REPO])  # as the demo runs its steps (--source-root)
    assert config.root == tmp_path / "work"
    assert config.services["cart"].path == str(REPO / "services" / "cart")
    dev, prod = config.environments["dev"], config.environments["prod"]
    assert dev.gitops.repo == prod.gitops.repo == str(tmp_path / "g.git")
    assert (dev.gitops.mode, prod.gitops.mode, prod.promote_from) == ("commit", "commit", "dev")
    assert dev.url == "http://127.0.0.1:4321"
    assert dev.verify is not None and dev.verify.prometheus.url == "http://127.0.0.1:9999"
    assert dev.verify.prometheus.token_env is None and dev.verify.window == "1m"
    assert list(config.gates.scan.scanners) == ["secret"]          # no DB in any cache: secret only
    assert config.gates.trivy.offline is True
    assert config.gates.scan.ignore_unfixed is False
    assert config.gates.sonar.token_env == "SONAR_TOKEN"     # left as configured: SKIPPED without it
    targets = config.cost.targets
    assert (targets["dev"].cluster, targets["dev"].region) == ("techitfactory-dev", "ap-south-1")

    # Everything else is the project's config, untouched.
    source = YAML(typ="safe").load((REPO / "pipelines" / "devops.yaml").read_text())
    generated = YAML(typ="safe").load(path.read_text())
    for key in ("project", "build"):
        assert generated[key] == source[key], key
    assert generated["cost"]["schedules"] == source["cost"]["schedules"]
    for service, slo in generated["observability"]["slos"].items():
        assert slo["availability"] == source["observability"]["slos"][service]["availability"]
        assert (slo["latency"]["threshold_seconds"], slo["latency"]["objective"]) == (2.5, 95.0)
    # Without a key pair the production keyless policy is dropped, never kept unsatisfiable.
    assert prod.signatures is None and config.signing.method == "keyless"


def test_the_demo_signs_with_its_own_key_and_prod_names_exactly_that_key(tmp_path: Path) -> None:
    from dataclasses import replace

    key, public = tmp_path / "signing" / "signing.key", tmp_path / "signing" / "signing.pub"
    path = configgen.write(replace(inputs(tmp_path, None), signing_key=key, signing_public=public))
    config = load_config(path, allowed_roots=[REPO])
    assert (config.signing.method, config.signing.key, config.signing.classic_tags) == ("key", str(key), False)
    policy = config.environments["prod"].signatures
    assert policy is not None and policy.keyless is None and policy.key == str(public)
    assert policy.required == ("signature", "sbom", "vulnerabilities", "sonar", "verification")
    source = YAML(typ="safe").load((REPO / "pipelines" / "devops.yaml").read_text())
    assert source["environments"]["prod"]["signatures"]["keyless"]["identity"].endswith(
        "/.github/workflows/release.yml@refs/heads/main")   # what the demo replaces


def test_vuln_scanning_only_with_a_db_in_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "trivy"
    path = configgen.write(inputs(tmp_path, cache))
    config = load_config(path, allowed_roots=[REPO])
    assert list(config.gates.scan.scanners) == ["vuln", "secret"]
    assert config.gates.trivy.cache_dir == str(cache)
    assert config.gates.scan.ignore_unfixed is True   # fixable findings still fail the gate


def test_without_the_source_root_the_generated_config_is_refused(tmp_path: Path) -> None:
    """The repository's services lie outside the work folder: only the caller can allow that."""
    from devops.errors import ConfigError

    path = configgen.write(inputs(tmp_path, None))
    with pytest.raises(ConfigError, match="outside the project root"):
        load_config(path)
    with pytest.raises(ConfigError, match="outside the project root"):
        load_config(path, allowed_roots=[tmp_path / "elsewhere"])


def test_the_cli_allows_the_source_root_only_when_the_caller_passes_it(tmp_path: Path) -> None:
    """The demo's steps pass `--source-root` (hidden): the same config, refused without it."""
    path = configgen.write(inputs(tmp_path, None))
    refused = run_cli("--config", str(path), "config", "validate")
    assert refused.code == 2 and "outside the project root" in refused.err
    allowed = run_cli("--config", str(path), "--source-root", str(REPO), "--json", "config", "validate")
    assert allowed.code == 0, allowed.err
    assert allowed.json() == {"valid": True, "source": str(path), "services": ["cart", "frontend", "order", "product"],
                              "environments": ["dev", "prod"]}


def test_stop_never_kills_a_pid_that_is_not_the_recorded_server(tmp_path: Path) -> None:
    # A PID recorded by an old --keep run now belongs to something else: left alone.
    other = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert daemon.stop_pid(other.pid, expect="prometheus") is False
        time.sleep(0.2)
        assert other.poll() is None
        assert daemon.stop_pid(other.pid, expect="sleep") is True
        assert other.wait(timeout=10) is not None
    finally:
        other.kill()
        other.wait()


def test_config_validate_runs_in_process_with_the_steps_environment(tmp_path: Path) -> None:
    """The demo's first step is the use case, not a subprocess: same line, same exit codes."""
    from devops.app.demo_ports import StepCall
    from devops.wiring.demo import run_step

    path = configgen.write(inputs(tmp_path, None))
    lines: list[tuple[str, str]] = []
    call = StepCall(("config", "validate"), path, REPO, tmp_path, {"PATH": "/usr/bin"})
    done = run_step(call, lambda name, line: lines.append((name, line)))
    assert done.code == 0 and lines == [("stdout", f"{path}: valid (4 services, 2 environments)")]
    # The step's environment is its settings: an override there is applied (and refused here).
    bad = StepCall(call.args, path, REPO, tmp_path, {"DEVOPS_REGISTRY_HOST": "ftp://evil"})
    refused = run_step(bad, lambda name, line: lines.append((name, line)))
    assert refused.code == 2 and "registry.host" in refused.stderr and lines[-1][0] == "stderr"
    outside = StepCall(call.args, path, tmp_path / "elsewhere", tmp_path, {})
    assert run_step(outside, lambda name, line: None).code == 2
