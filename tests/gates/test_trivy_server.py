"""The `trivy server` a release starts for its scans (devops/adapters/trivy.py::Trivy.serve), with
the real Trivy binary and the small planted DB: the token never on a command line and required
by the server, a server without a DB is exit 3 (fail closed), and it ends when stopped."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from devops.adapters.trivy import Trivy, TrivyOptions
from devops.errors import ExitCode, GateUnavailable, ToolFailed
from tests.gates.trivydb import Advisory, build_db

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SCRIPTS = Path(sysconfig.get_path("scripts"))


def options(cache_dir: Path) -> TrivyOptions:
    return TrivyOptions(cache_dir=cache_dir, offline=True, timeout_seconds=120, fallback_dir=SCRIPTS)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("trivy-server-db"), [
        Advisory("CVE-2099-2001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="zlib: planted medium")])


def test_the_token_stays_off_command_lines_and_a_client_without_it_is_refused(
        db: Path, tmp_path: Path, standin_build_args: dict[str, str]) -> None:
    image = standin_build_args["DEBIAN_IMAGE"]
    server = Trivy(options(db)).serve(tmp_path / "server.log")
    try:
        client = server.client()
        token = client.settings.server_token
        assert token and len(token) >= 24
        pid = server._process.pid
        assert token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert "--token" not in client._source_args() and "--server" in client._source_args()
        found = {f.id for f in client.scan_image(image, ("vuln",)).report.findings}
        assert "CVE-2099-2001" in found, "control: the client with the token gets the server's findings"
        from dataclasses import replace

        stranger = Trivy(replace(client.settings, server_token="not-the-token"))
        with pytest.raises(ToolFailed) as caught:
            stranger.scan_image(image, ("vuln",))
        assert caught.value.exit_code == ExitCode.EXTERNAL, "refused, never an empty report"
    finally:
        server.stop()
    assert not server.alive()


def test_a_server_without_a_db_is_exit_3_and_leaves_nothing_running(tmp_path: Path) -> None:
    empty = tmp_path / "no-db"
    empty.mkdir()
    with pytest.raises(GateUnavailable) as caught:
        Trivy(options(empty)).serve(tmp_path / "server.log", ready_seconds=30)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "no Trivy vulnerability DB" in caught.value.message and str(empty) in str(caught.value)
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if _reads(p, str(empty))], "no server left running"


def _reads(cmdline: Path, needle: str) -> bool:
    try:
        return needle.encode() in cmdline.read_bytes()
    except OSError:
        return False  # the process ended meanwhile
