"""Temporary folders of killed runs (devops/adapters/scratch.py): removed by the next run only
when their owner is certainly dead. Real processes: one started and killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devops.adapters import scratch
from devops.errors import ExitCode, ExternalError

PREFIX = "devops-test-scratch-"


def _folder(parent: Path, name: str, record: dict[str, object] | str | None) -> Path:
    folder = parent / f"{PREFIX}{name}"
    (folder / "repo").mkdir(parents=True)
    if record is not None:
        text = record if isinstance(record, str) else json.dumps(record)
        (folder / scratch.OWNER_FILE).write_text(text)
    return folder


@pytest.fixture
def killed_pid_record() -> dict[str, object]:
    """The owner record of a process that ran and was killed with SIGKILL."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    record = scratch.owner_record(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return record


def test_a_killed_runs_folder_goes_and_everything_uncertain_stays(tmp_path: Path,
                                                                   killed_pid_record: dict[str, object]) -> None:
    dead = _folder(tmp_path, "dead", killed_pid_record)
    mine = _folder(tmp_path, "mine", scratch.owner_record())
    other_host = _folder(tmp_path, "host", {**killed_pid_record, "host": "another-host"})
    other_namespace = _folder(tmp_path, "ns", {**killed_pid_record, "pid_namespace": "pid:[1]"})
    no_record = _folder(tmp_path, "norecord", None)
    unreadable = _folder(tmp_path, "garbage", "{not json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / scratch.OWNER_FILE).write_text(json.dumps(killed_pid_record))
    symlink = tmp_path / f"{PREFIX}symlink"
    symlink.symlink_to(elsewhere)  # a dead owner's record behind a symlink: never followed
    other_kind = tmp_path / "devops-other-dead"
    other_kind.mkdir()
    (other_kind / scratch.OWNER_FILE).write_text(json.dumps(killed_pid_record))

    removed = scratch.sweep(PREFIX, tmp_path)

    assert removed == [dead]
    assert not dead.exists()
    for kept in (mine, other_host, other_namespace, no_record, unreadable, other_kind, symlink, elsewhere):
        assert kept.exists(), kept
    assert (elsewhere / scratch.OWNER_FILE).exists()


@pytest.mark.skipif(os.getuid() != 0, reason="making a folder of another user needs root")
def test_a_folder_of_another_user_stays(tmp_path: Path, killed_pid_record: dict[str, object]) -> None:
    theirs = _folder(tmp_path, "theirs", killed_pid_record)
    os.chown(theirs, 12345, 12345)
    assert scratch.sweep(PREFIX, tmp_path) == []
    assert theirs.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="start times come from /proc (Linux)")
def test_a_pid_reused_by_a_later_process_counts_as_dead(tmp_path: Path) -> None:
    # This test's own PID, but recorded with another start time: the run that wrote the record
    # is gone and a later process got its PID.
    record = {**scratch.owner_record(), "started": "1"}
    reused = _folder(tmp_path, "reused", record)
    assert scratch.sweep(PREFIX, tmp_path) == [reused]


def test_scratch_folder_claims_the_new_folder_and_sweeps_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                killed_pid_record: dict[str, object]) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    left = _folder(tmp_path, "left", killed_pid_record)
    made = scratch.scratch_folder(PREFIX)
    assert made.parent == tmp_path and made.name.startswith(PREFIX)
    assert not left.exists()
    record = json.loads((made / scratch.OWNER_FILE).read_text())
    assert record["pid"] == os.getpid() and record["host"]
    assert not scratch.owner_is_dead(made)  # this process is alive: the next sweep keeps it


def test_a_temporary_folder_that_cannot_be_made_is_exit_3_naming_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setattr("tempfile.tempdir", str(not_a_folder))
    with pytest.raises(ExternalError) as raised:
        scratch.scratch_folder(PREFIX)
    assert raised.value.exit_code == ExitCode.EXTERNAL
    assert str(not_a_folder) in str(raised.value) and "TMPDIR" in str(raised.value)


def _server() -> subprocess.Popen[bytes]:
    """A stand-in for `trivy server`: a real process in a session of its own, as daemon.spawn starts it."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)


def test_a_dead_runs_server_is_ended_with_its_folder_and_a_reused_pid_is_not(
        tmp_path: Path, killed_pid_record: dict[str, object]) -> None:
    orphan, bystander = _server(), _server()
    try:
        folder = _folder(tmp_path, "server", killed_pid_record)
        scratch.adopt(folder, orphan.pid)
        # The bystander's PID, recorded with another start time: a later process that got the PID.
        listed = json.loads((folder / scratch.CHILDREN_FILE).read_text())
        listed.append({"pid": bystander.pid, "started": "1"})
        (folder / scratch.CHILDREN_FILE).write_text(json.dumps(listed))

        assert scratch.sweep(PREFIX, tmp_path) == [folder]

        assert orphan.wait(timeout=10) == -signal.SIGTERM, "the orphaned server is ended"
        assert bystander.poll() is None, "a process that only has the PID is left alone"
    finally:
        for proc in (orphan, bystander):
            proc.kill()
            proc.wait()


def test_a_live_runs_server_is_left_alone(tmp_path: Path) -> None:
    server = _server()
    try:
        folder = _folder(tmp_path, "live", scratch.owner_record())
        scratch.adopt(folder, server.pid)
        assert scratch.sweep(PREFIX, tmp_path) == []
        assert server.poll() is None and folder.exists()
    finally:
        server.kill()
        server.wait()
