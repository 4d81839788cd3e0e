"""`devops scan` with the real Trivy binary, a real (planted) DB and real images.

Advisories are planted for packages the stand-in images really contain (tests/gates/conftest.py);
every verdict below is computed from what Trivy reported on those images.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _ids(result_json: dict, status: str) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    [target] = result_json["targets"]
    return sorted(
        (f["id"], f.get("pkg_name", f.get("path", ""))) for f in target["findings"] if f["status"] == status
    )


def test_unfixed_critical_in_debian_fails_with_exit_1(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    sarif = project.root / "out" / "scan.sarif"
    result = run_cli(
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["debian"],
        "--sarif",
        str(sarif),
        "--json",
    )
    assert result.code == 1, result.err
    data = result.json()
    assert data["verdict"] == "fail" and data["exit_code"] == 1
    assert _ids(data, "fail") == [("CVE-2099-1001", "libc-bin"), ("CVE-2099-1001", "libc6")]
    assert _ids(data, "pass") == [("CVE-2099-1003", "zlib1g"), ("CVE-2099-1004", "perl-base")]
    # CVE-2099-1005 is fixed in a zlib older than the installed one: Trivy must not report it
    assert "CVE-2099-1005" not in json.dumps(data)
    [target] = data["targets"]
    fixed = {f["id"]: f.get("fixed_version") for f in target["findings"]}
    assert fixed["CVE-2099-1003"] == "1:1.2.13.dfsg-1+deb12u1" and fixed["CVE-2099-1001"] is None
    assert target["os"].startswith("debian 12")
    # SARIF: exactly the two failing findings, nothing below the threshold
    doc = json.loads(sarif.read_text())
    results = doc["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["CVE-2099-1001", "CVE-2099-1001"]
    assert {r["level"] for r in results} == {"error"}
    assert data["sarif"] == str(sarif)


def test_ignore_unfixed_passes_and_lists_suppressed(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["debian"],
        "--ignore-unfixed",
        "--json",
    )
    assert result.code == 0, result.err
    data = result.json()
    assert data["verdict"] == "pass"
    [target] = data["targets"]
    suppressed = [f for f in target["findings"] if f["status"] == "suppressed"]
    assert {f["id"] for f in suppressed} == {"CVE-2099-1001"}
    assert all("ignore_unfixed is on" in f["reason"] for f in suppressed)


def test_console_table_grouped_by_severity_with_fixed_versions(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "--config", str(project.config), "scan", "--image", gates_images["nginx"], "--severity", "CRITICAL"
    )
    assert result.code == 1
    out = result.out
    assert "nginx:bookworm: FAIL: 2 over the policy, 0 suppressed, 7 below the threshold" in out
    headings = ["CRITICAL (2)", "HIGH (5)", "MEDIUM (1)", "LOW (1)"]
    positions = [out.index(heading) for heading in headings]
    assert positions == sorted(positions)  # grouped, most severe first
    nginx_lines = [line.split() for line in out.splitlines() if line.startswith("CVE-2099-1006")]
    assert [line[1] for line in nginx_lines] == ["nginx", "nginx-common", "nginx-light"]
    assert all(line[-1] == "pass" for line in nginx_lines)  # HIGH is below a CRITICAL-only policy
    assert "3.0.20-1~deb12u3" in out  # openssl's fixed version is shown
    assert "scan failed" in out


def test_plain_trivyignore_suppresses_with_reason(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    (project.root / ".trivyignore").write_text("# accepted until glibc ships a fix\nCVE-2099-1001\n")
    project.write_config("  scan:\n    ignore_file: .trivyignore\n")
    result = run_cli("--config", str(project.config), "scan", "--image", gates_images["debian"], "--json")
    assert result.code == 0, result.err
    [target] = result.json()["targets"]
    reasons = {f["reason"] for f in target["findings"] if f["status"] == "suppressed"}
    assert reasons == {"ignored by .trivyignore:2"}


def test_yaml_ignore_paths_purls_statement_and_expired(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    (project.root / ".trivyignore.yaml").write_text(
        "vulnerabilities:\n"
        "  - id: CVE-2099-1001\n"
        '    purls: ["pkg:deb/debian/libc6"]\n'
        "    statement: libc6 is patched by our base image pipeline\n"
        "  - id: CVE-2099-1001\n"
        '    purls: ["pkg:deb/debian/libc-bin"]\n'
        "    expired_at: 2020-01-01\n"
        "    statement: old exception\n"
        "  - id: CVE-2099-1003\n"
        '    paths: ["not/in/this/image"]\n'
        "secrets:\n"
        "  - id: aws-access-key-id\n"
        '    paths: ["opt/app/deploy.sh"]\n'
        "    statement: fake key planted by the test suite\n"
    )
    project.write_config(
        "  scan:\n    ignore_file: .trivyignore.yaml\n    severities: [CRITICAL, HIGH, MEDIUM]\n"
    )
    result = run_cli("--config", str(project.config), "scan", "--image", gates_images["secret"], "--json")
    assert result.code == 1, result.err
    data = result.json()
    [target] = data["targets"]
    by = {(f["id"], f.get("pkg_name") or f.get("path")): f for f in target["findings"]}
    assert by[("CVE-2099-1001", "libc6")]["status"] == "suppressed"
    assert "libc6 is patched" in by[("CVE-2099-1001", "libc6")]["reason"]
    # the expired entry does not suppress libc-bin, and is reported
    libc_bin = by[("CVE-2099-1001", "libc-bin")]
    assert libc_bin["status"] == "fail" and libc_bin["expired_ignore"].endswith(".trivyignore.yaml:5")
    assert [e["id"] for e in target["expired_ignores"]] == ["CVE-2099-1001"]
    assert "expired on 2020-01-01" in result.err
    # a path that does not match leaves the MEDIUM zlib finding failing
    assert by[("CVE-2099-1003", "zlib1g")]["status"] == "fail"
    secret = by[("aws-access-key-id", "/opt/app/deploy.sh")]
    assert secret["status"] == "suppressed" and "fake key planted" in secret["reason"]


def test_secret_in_image_fails(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["secret"],
        "--ignore-unfixed",
        "--json",
    )
    assert result.code == 1
    assert _ids(result.json(), "fail") == [("aws-access-key-id", "/opt/app/deploy.sh")]


def test_bad_ignore_file_is_exit_2(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    (project.root / "bad.yaml").write_text("vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-02-30\n")
    result = run_cli(
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["debian"],
        "--ignore-file",
        str(project.root / "bad.yaml"),
    )
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        f"devops: error: {project.root / 'bad.yaml'}:2: vulnerabilities[0].expired_at: "
        "expected a date YYYY-MM-DD, got '2026-02-30'"
    )


def test_sbom_per_image_is_cyclonedx(project, run_cli, gates_images, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["debian"],
        "--image",
        gates_images["python"],
        "--sbom",
        str(tmp_path / "sbom"),
        "--json",
    )
    assert result.code == 1
    files = sorted(p.name for p in (tmp_path / "sbom").iterdir())
    assert len(files) == 2
    for path in (tmp_path / "sbom").iterdir():
        bom = json.loads(path.read_text())
        assert bom["bomFormat"] == "CycloneDX"
        names = {c["name"] for c in bom["components"]}
        assert "libc6" in names
    python_bom = json.loads(next((tmp_path / "sbom").glob("*python*")).read_text())
    assert "libsqlite3-0" in {c["name"] for c in python_bom["components"]}


def test_second_scan_of_unchanged_image_does_not_run_trivy(
    project, run_cli, gates_images, trivy_bin, fake_bin, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "trivy-calls.log"
    fake_bin(
        "trivy",
        f"""
import os, sys
with open({str(log)!r}, "a") as f:
    f.write(" ".join(sys.argv[1:2]) + "\\n")
os.execv({trivy_bin!r}, [{trivy_bin!r}, *sys.argv[1:]])
""",
    )
    args = ("--config", str(project.config), "scan", "--image", gates_images["debian"], "--json")
    first = run_cli(*args)
    second = run_cli(*args)
    assert first.code == second.code == 1
    assert first.json()["targets"][0]["cached"] is False
    assert second.json()["targets"][0]["cached"] is True
    assert first.json()["targets"][0]["findings"] == second.json()["targets"][0]["findings"]
    assert log.read_text().split().count("image") == 1  # the second run only asked `trivy version`
    assert list((project.root / ".devops" / "cache" / "scan").glob("*.json"))
    # another policy is another key: Trivy runs again
    third = run_cli(*args[:-1], "--severity", "LOW", "--json")
    assert third.json()["targets"][0]["cached"] is False
    assert log.read_text().split().count("image") == 2
    # --no-cache always scans
    run_cli(*args, "--no-cache")
    assert log.read_text().split().count("image") == 3


def test_service_by_name_scans_its_built_image(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    from devops.adapters.build_inputs import FileInputs
    from devops.app.plan import service_image_ref
    from devops.config import load_config
    from devops.wiring.images import base_resolver
    from devops.wiring.settings import RuntimeSettings

    config = load_config(project.config)
    bases = base_resolver(config, RuntimeSettings.from_environ({}))
    ref = service_image_ref(config, "app", {"DEBIAN_IMAGE": gates_images["debian"]}, FileInputs(config.root), bases)
    assert ref.startswith("127.0.0.1:5000/gates-test/app:")
    subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "--build-arg",
            f"DEBIAN_IMAGE={gates_images['debian']}",
            "-t",
            ref,
            str(project.root / "services" / "app"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    try:
        result = run_cli(
            "--config",
            str(project.config),
            "scan",
            "app",
            "--build-arg",
            f"DEBIAN_IMAGE={gates_images['debian']}",
            "--json",
            "--sarif",
            str(project.root / "s.sarif"),
        )
        assert result.code == 1, result.err
        [target] = result.json()["targets"]
        assert (target["service"], target["image"]) == ("app", ref)
        doc = json.loads((project.root / "s.sarif").read_text())
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]
        }
        assert uris == {"services/app/Dockerfile"}
    finally:
        subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True)


def test_unknown_service_is_exit_2(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--config", str(project.config), "scan", "ap")
    assert result.code == 2
    assert "unknown service 'ap'; known: app (did you mean 'app'?)" in result.err


def test_github_summary_annotations_and_outputs(
    project, run_cli, gates_images, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    result = run_cli("--config", str(project.config), "scan", "--image", gates_images["debian"])
    assert result.code == 1
    assert result.out.count("::error ") == 2 and "CVE-2099-1001" in result.out
    text = summary.read_text()
    assert "### Image scan: failed" in text and "| Target | Verdict |" in text
    assert "CVE-2099-1001" in text
    assert "scan-verdict=fail" in output.read_text()


def _digest_of(reference: str) -> str:
    """The registry digest of an image pushed to the local registry."""
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", reference],
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)[0].split("@", 1)[1]


def test_service_whose_image_is_not_built_is_exit_3(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    # A base that resolves (the build identity needs its digest) with a tag no build has used.
    unbuilt = gates_images["debian"].rsplit(":", 1)[0] + ":bookworm@" + _digest_of(gates_images["debian"])
    result = run_cli("--config", str(project.config), "scan", "app", "--build-arg", f"DEBIAN_IMAGE={unbuilt}")
    assert result.code == 3, result.err
    line = result.err.strip().splitlines()[-1]
    assert line.startswith("devops: error: 127.0.0.1:5000/gates-test/app:")
    assert line.endswith(
        "the image of service app is not in the local Docker engine "
        "(run `devops build app` first with the same --build-arg / $DEVOPS_BUILD_ARGS, "
        "or scan a pushed image with --image REF)"
    )


def test_licence_scanner_and_yaml_licenses_section(project, run_cli, gates_images) -> None:  # type: ignore[no-untyped-def]
    """Trivy classifies GPL as "restricted" (HIGH); a licence policy decides what that means."""
    (project.root / "licences.yaml").write_text(
        "licenses:\n  - id: GPL-2.0-only\n    statement: the OS packages are not redistributed modified\n"
    )
    args = (
        "--config",
        str(project.config),
        "scan",
        "--image",
        gates_images["debian"],
        "--scanners",
        "license",
    )
    strict = run_cli(*args, "--json")
    assert strict.code == 1
    [target] = strict.json()["targets"]
    gpl2 = [f for f in target["findings"] if f["id"] == "GPL-2.0-only"]
    assert gpl2 and all(f["kind"] == "license" and f["severity"] == "HIGH" for f in gpl2)
    assert len({f["pkg_name"] for f in gpl2}) > 1  # licences are per package
    ignored = run_cli(*args, "--ignore-file", str(project.root / "licences.yaml"), "--json")
    [target] = ignored.json()["targets"]
    assert all(f["status"] == "suppressed" for f in target["findings"] if f["id"] == "GPL-2.0-only")
    assert any(f["status"] == "fail" for f in target["findings"] if f["id"] != "GPL-2.0-only")
    relaxed = run_cli(*args, "--severity", "CRITICAL", "--json")
    assert relaxed.code == 0
