"""The Sonar scanner's command line (`devops quality`): the project key, the branch or pull
request inferred from GitHub's environment, and the properties no project file may change."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.domain.gates.sonar import SonarPolicy
from devops.errors import BadInput


@dataclass(frozen=True)
class ScannerPlan:
    """The pysonar command for one service, and what was inferred from the CI environment."""

    args: tuple[str, ...]
    cwd: Path
    project_key: str
    report_task: Path
    mode: str  # branch, pull-request, local
    notes: tuple[str, ...] = ()


def project_key(settings: SonarPolicy, project: str, service: str | None, override: str | None) -> str:
    """Explicit service key, else `<gates.sonar.project_key>[_<service>]`, else `<org>_<project>`."""
    if override:
        return override
    base = settings.project_key or (
        f"{settings.organization}_{project}" if settings.organization else project
    )
    return f"{base}_{service}" if service else base


def plan_scanner(
    *,
    executable: str,
    settings: SonarPolicy,
    key: str,
    source_dir: Path,
    environ: Mapping[str, str],
    event: Mapping[str, Any] | None,
    shallow: bool | None,
    report_task: Path,
    extra: Sequence[str] = (),
) -> ScannerPlan:
    """The pysonar arguments: server, organisation, key, sources, and branch or pull-request keys
    from the GitHub environment (`GITHUB_EVENT_NAME`, the event payload, `GITHUB_REF_NAME`).

    Where the token may go and where report-task.txt is written are pinned on the command line,
    which pysonar ranks above `sonar-project.properties`, `pyproject.toml` and `SONAR_*`
    variables: files in the analysed folder (a pull request's) cannot move them."""
    check_scanner_args(extra)
    args = [
        executable,
        "--sonar-host-url",
        settings.host_url,
        *scanner_server_args(settings.host_url),
        "--sonar-scanner-metadata-filepath",
        str(report_task),
        "--sonar-project-key",
        key,
        "--sonar-project-base-dir",
        str(source_dir),
        "--sonar-sources",
        ".",
    ]
    if settings.organization:
        args += ["--sonar-organization", settings.organization]
    notes: list[str] = []
    mode = "local"
    pull = (
        (event or {}).get("pull_request")
        if environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request")
        else None
    )
    if isinstance(pull, dict) and pull.get("number") is not None:
        mode = "pull-request"
        args += [
            "--sonar-pullrequest-key",
            str(pull["number"]),
            "--sonar-pullrequest-branch",
            str((pull.get("head") or {}).get("ref", "")),
            "--sonar-pullrequest-base",
            str((pull.get("base") or {}).get("ref", "")),
        ]
        head_sha = (pull.get("head") or {}).get("sha")
        if head_sha:
            # Actions checks out a merge commit for PRs; Sonar must attribute to the PR head.
            args += ["--sonar-scm-revision", str(head_sha)]
    elif environ.get("GITHUB_REF_NAME") and environ.get("GITHUB_REF_TYPE", "branch") == "branch":
        mode = "branch"
        args += ["--sonar-branch-name", environ["GITHUB_REF_NAME"]]
    if shallow:
        notes.append(
            "the git history is shallow: Sonar cannot compute blame or new code correctly; "
            "set `fetch-depth: 0` on actions/checkout"
        )
    args += list(extra)
    return ScannerPlan(
        args=tuple(args),
        cwd=source_dir,
        project_key=key,
        report_task=report_task,
        mode=mode,
        notes=tuple(notes),
    )


# pysonar's SonarQube Cloud hosts and their API hosts (pysonar_scanner/api.py).
SONARCLOUD_API = {"https://sonarcloud.io": "https://api.sonarcloud.io", "https://sonarqube.us": "https://api.sonarqube.us"}
# Scanner properties that decide where the token goes or which report-task.txt the gate reads:
# set by `devops quality` only (from gates.sonar.host_url), never through --scanner-arg.
PINNED_PROPERTIES = (
    "sonar.host.url", "sonar.token", "sonar.login", "sonar.password", "sonar.region",
    "sonar.scanner.cloudUrl", "sonar.scanner.sonarcloudUrl", "sonar.scanner.apiUrl",
    "sonar.scanner.apiBaseUrl", "sonar.scanner.metadataFilepath", "sonar.scanner.metadataFilePath",
)


def scanner_server_args(host_url: str) -> list[str]:
    """The API (and for SonarQube Cloud the cloud) URL the scanner would derive from host_url,
    given explicitly so no project file can replace them."""
    cloud_api = SONARCLOUD_API.get(host_url)
    if cloud_api:
        return ["--sonar-scanner-cloud-url", host_url, "--sonar-scanner-api-url", cloud_api]
    return ["--sonar-scanner-api-url", f"{host_url}/api/v2"]


def _pinned_flags() -> set[str]:
    flags = {"-t", "--token"}
    for prop in PINNED_PROPERTIES:
        flags.add(f"-D{prop}".lower())
        flags.add("--" + re.sub(r"([A-Z])", r"-\1", prop.replace(".", "-")).lower())
    return flags


def check_scanner_args(extra: Sequence[str]) -> None:
    """`BadInput` for a --scanner-arg that would set a pinned property."""
    pinned = _pinned_flags()
    for arg in extra:
        given = arg.split("=", 1)[0].strip()
        name = given.lower()
        # argparse also takes an unambiguous prefix (--sonar-host) and a glued short value (-tX).
        abbreviated = name.startswith("--") and len(name) > 3 and any(f.startswith(name) for f in pinned)
        if name in pinned or abbreviated or (name.startswith("-t") and not name.startswith("--")):
            raise BadInput(
                f"--scanner-arg {given[:60]}: set by devops from gates.sonar.host_url and $SONAR_TOKEN, "
                "not on the command line",
                hint="change gates.sonar.host_url in pipelines/devops.yaml",
            )
