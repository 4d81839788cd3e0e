"""Bad input to `devops demo`: exit 2 with the message naming the option, nothing started."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_cli


def test_a_settle_time_out_of_range_is_bad_input(tmp_path: Path) -> None:
    ran = run_cli("demo", "--workdir", str(tmp_path / "demo"), "--settle-seconds", "1")
    assert ran.code == 2
    assert "Invalid value for '--settle-seconds': 1 is not in the range 5<=x<=600" in ran.err
    assert not (tmp_path / "demo").exists()


def test_a_workdir_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    ran = run_cli("demo", "--workdir", str(target))
    assert ran.code == 2
    assert f"Invalid value for '--workdir': Directory '{target}' is a file" in ran.err


def test_stop_with_nothing_running_is_a_no_op(tmp_path: Path) -> None:
    ran = run_cli("--json", "demo", "--stop", "--workdir", str(tmp_path / "never-ran"))
    assert ran.code == 0, ran.err
    assert ran.json() == {"stopped": []}
    assert "nothing (nothing was running)" in ran.err
