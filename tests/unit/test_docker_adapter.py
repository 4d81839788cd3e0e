"""The docker adapter's command lines, checked with a recording `docker` placed first on PATH.

The Debian engine here has no buildx plugin, so the BuildKit path (cache to/from the registry,
--platform) cannot run for real on this machine; this checks what it would run. The classic
path runs for real in tests/integration/test_build_push.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from devops.adapters.docker import BuildFailed, BuildSpec, DockerEngine, PushFailed

RECORDER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["RECORD"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
mode = os.environ.get("MODE", "ok")
if mode == "build-fails":
    print("Step 3/4 : RUN make", flush=True)
    print("make: *** No rule to make target 'all'.  Stop.", flush=True)
    sys.exit(1)
if mode == "push-429":
    print("toomanyrequests: rate limit", file=sys.stderr)
    sys.exit(1)
if mode == "push-denied":
    print("denied: requested access to the resource is denied", file=sys.stderr)
    sys.exit(1)
if sys.argv[1:2] == ["login"]:
    with open(os.environ["RECORD"] + ".stdin", "w") as f:
        f.write(sys.stdin.read())
if sys.argv[1:2] == ["push"]:
    print("in-x: digest: sha256:" + "b" * 64 + " size: 528")
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = tmp_path / "bin" / "docker"
    exe.parent.mkdir()
    exe.write_text(RECORDER)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RECORD", str(record))
    return record


def calls(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def spec(tmp_path: Path) -> BuildSpec:
    return BuildSpec(context=tmp_path, dockerfile=tmp_path / "Dockerfile", tags=("r/a:in-1", "r/a:sha-abc"),
                     build_args={"NODE_IMAGE": "n:20"}, labels={"org.opencontainers.image.title": "a"},
                     platforms=("linux/amd64", "linux/arm64"), cache_from=("type=registry,ref=r/a:buildcache",),
                     cache_to="type=registry,ref=r/a:buildcache,mode=max")


def test_buildx_command_line(fake_docker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = DockerEngine()
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:feed")
    assert engine.build(spec(tmp_path), use_buildx=True, timeout=30) == "sha256:feed"
    args = calls(fake_docker)[-1]
    assert args[:4] == ["buildx", "build", "--load", "--progress=plain"]
    assert args[args.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert args[args.index("--cache-from") + 1] == "type=registry,ref=r/a:buildcache"
    assert args[args.index("--cache-to") + 1] == "type=registry,ref=r/a:buildcache,mode=max"
    assert "NODE_IMAGE=n:20" in args and args[-1] == str(tmp_path)


def test_classic_command_line_has_no_buildx_flags(fake_docker: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine = DockerEngine()
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:feed")
    engine.build(spec(tmp_path), use_buildx=False, timeout=30)
    args = calls(fake_docker)[-1]
    assert args[0] == "build" and "--cache-to" not in args and "--platform" not in args
    assert [args[i + 1] for i, a in enumerate(args) if a == "--tag"] == ["r/a:in-1", "r/a:sha-abc"]


def test_failed_build_carries_the_step_and_its_output(fake_docker: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "build-fails")
    with pytest.raises(BuildFailed) as caught:
        DockerEngine().build(spec(tmp_path), use_buildx=False, timeout=30)
    message = str(caught.value)
    assert message.splitlines()[0].endswith("make: *** No rule to make target 'all'.  Stop.")
    assert "Step 3/4 : RUN make" in message


def test_push_classifies_throttling_and_refusal(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DockerEngine().push("r/a:in-1", timeout=30) == "sha256:" + "b" * 64
    monkeypatch.setenv("MODE", "push-429")
    with pytest.raises(PushFailed) as throttled:
        DockerEngine().push("r/a:in-1", timeout=30)
    assert throttled.value.retryable
    monkeypatch.setenv("MODE", "push-denied")
    with pytest.raises(PushFailed) as denied:
        DockerEngine().push("r/a:in-1", timeout=30)
    assert not denied.value.retryable


def test_login_sends_the_token_on_stdin_only(fake_docker: Path) -> None:
    DockerEngine().login("docker.io", "shopbot", "dckr_pat_SECRET")
    args = calls(fake_docker)[-1]
    assert args == ["login", "--username", "shopbot", "--password-stdin", "docker.io"]
    assert "dckr_pat_SECRET" not in json.dumps(args)
    assert Path(str(fake_docker) + ".stdin").read_text() == "dckr_pat_SECRET"
