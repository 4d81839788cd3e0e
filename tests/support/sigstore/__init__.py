"""A local Sigstore for tests: @sigstore/mock's Fulcio and Rekor over HTTP, plus the npm
signer (@sigstore/sign), verifier (@sigstore/verify) and OCI writer (@sigstore/oci) as
implementations independent of devops (see the .js files beside this one).

`npm ci` installs the pinned packages (package-lock.json) into `node_modules/` here (git ignores
it) the first time; `mock-server.js` then starts on free loopback ports and prints its URLs and
trust material. Tests get a `MockSigstore` from the `mock_sigstore` session fixture
(tests/supplychain/conftest.py).

Real Fulcio checks the OIDC token's signature against the issuer's keys; the mock does not (it
says so), so `token()` makes unsigned-in-effect tokens with the claims GitHub Actions puts in
its tokens (docs.github.com, "About security hardening with OpenID Connect").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
NPM_TIMEOUT = 300


class NodeToolMissing(RuntimeError):
    pass


def node() -> str:
    found = shutil.which("node")
    if not found:
        raise NodeToolMissing("node is not installed")
    return found


def npm_ci() -> None:
    """Install the pinned npm packages once (skipped when the lock file has not changed). A file
    lock keeps parallel test processes (pytest -n) from installing over each other."""
    import fcntl

    marker = HERE / "node_modules" / ".devops-installed"
    lock = HERE / "package-lock.json"
    if marker.exists() and marker.read_text() == lock.read_text():
        return
    npm = shutil.which("npm")
    if not npm:
        raise NodeToolMissing("npm is not installed")
    with open(HERE / ".npm-ci.lock", "w") as guard:  # git ignores it (.gitignore)
        fcntl.flock(guard, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == lock.read_text():
            return
        run = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                             capture_output=True, text=True, timeout=NPM_TIMEOUT)
        if run.returncode != 0:
            raise RuntimeError(f"npm ci in {HERE} failed: {run.stderr[-2000:]}")
        marker.write_text(lock.read_text())


@dataclass
class MockSigstore:
    fulcio_url: str
    rekor_url: str
    trusted_root: dict[str, Any]
    trust_config: dict[str, Any]
    folder: Path
    process: subprocess.Popen[str]

    @property
    def trusted_root_path(self) -> Path:
        return self.folder / "trusted_root.json"

    @property
    def trust_config_path(self) -> Path:
        return self.folder / "trust_config.json"

    def token(self, *, repository: str = "techitfactory/techitfactory-shop",
              workflow: str = ".github/workflows/release.yml", ref: str = "refs/heads/main",
              issuer: str = GITHUB_ISSUER, audience: str = "sigstore", lifetime: int = 600,
              **extra: Any) -> str:
        """An OIDC token shaped like a GitHub Actions one for `repository`'s `workflow`@`ref`."""
        import jwt

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + lifetime,
            "sub": f"repo:{repository}:ref:{ref}",
            "repository": repository, "repository_owner": repository.split("/")[0],
            "ref": ref, "sha": "0" * 40, "workflow": "release", "event_name": "push",
            "job_workflow_ref": f"{repository}/{workflow}@{ref}",
            "workflow_ref": f"{repository}/{workflow}@{ref}",
            "runner_environment": "github-hosted", "run_id": "1", "run_attempt": "1",
        }
        claims.update(extra)
        return jwt.encode(claims, os.urandom(32), algorithm="HS256")

    def identity(self, *, repository: str = "techitfactory/techitfactory-shop",
                 workflow: str = ".github/workflows/release.yml", ref: str = "refs/heads/main") -> str:
        """The certificate identity Fulcio (and the mock) issues for `token()`'s claims."""
        return f"https://github.com/{repository}/{workflow}@{ref}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_mock(folder: Path) -> MockSigstore:
    """Start mock-server.js; its trust material is written into `folder`."""
    npm_ci()
    process = subprocess.Popen([node(), str(HERE / "mock-server.js")], cwd=HERE, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        stderr = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"mock-server.js did not start: {stderr[-2000:]}")
    info = json.loads(line)
    folder.mkdir(parents=True, exist_ok=True)
    mock = MockSigstore(info["fulcioURL"], info["rekorURL"], info["trustedRoot"], info["trustConfig"], folder, process)
    mock.trusted_root_path.write_text(json.dumps(info["trustedRoot"]))
    mock.trust_config_path.write_text(json.dumps(info["trustConfig"]))
    return mock


def run_node(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one of the .js tools here; the caller reads returncode/stdout/stderr."""
    npm_ci()
    return subprocess.run([node(), str(HERE / script), *args], cwd=HERE, capture_output=True, text=True,
                          timeout=timeout)


def npm_verify(bundle: Path, trusted_root: Path, *, identity: str | None = None, issuer: str | None = None,
               key: Path | None = None, key_hint: str | None = None) -> dict[str, Any]:
    """@sigstore/verify's verdict on `bundle` (the parsed JSON line verify.js prints)."""
    args = ["--bundle", str(bundle), "--trusted-root", str(trusted_root)]
    if identity:
        args += ["--identity", identity]
    if issuer:
        args += ["--issuer", issuer]
    if key:
        args += ["--key", str(key), "--key-hint", key_hint or ""]
    run = run_node("verify.js", *args)
    if run.returncode not in (0, 1) or not run.stdout.strip():
        raise RuntimeError(f"verify.js failed to run (exit {run.returncode}): {run.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(run.stdout)
    return result
