"""Evidence and the data gates read: release records given to promotion, status and rollback
(entries without a valid digest, scan evidence from the future, verifications of no digest),
Trivy reports with odd severities given to `devops scan`, stand-in backend options that would
weaken the Terraform state, and regions without a price table. Each family has a control.

The GitOps repository of these cases is the project's own git repository
($DEVOPS_GITOPS_REPO points at it; `setup` commits the record files). `devops scan` reads the
report of a Trivy stand-in (`gates.trivy.binary`) that prints the real Trivy report of
../shared/fixtures/trivy/debian-buster.json with its severities edited: the real Trivy cannot
be made to print an odd severity, and what is under test is how `devops` reads the report.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

from tests.conftest import SHARED
from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import ENVIRONMENTS
from tests.support.cli import Outcome
from tests.support.project import commit_all, config_text

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
RECORD = "gitops/environments/dev/release.json"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(**changes: Any) -> dict[str, Any]:
    """A dev record entry a promotion accepts up to the registry check (recent, passing evidence)."""
    data: dict[str, Any] = {
        "repository": "127.0.0.1:5000/test/alpha", "tag": "sha-1234567", "digest": DIGEST,
        "source_commit": "1234567890abcdef1234567890abcdef12345678", "built_at": _iso(NOW - dt.timedelta(days=1)),
        "scan": {"verdict": "PASSED", "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0},
                 "checked_at": _iso(NOW - dt.timedelta(days=1)), "trivy_version": "0.76.0"},
        "sonar": {"verdict": "SKIPPED", "reason": "not configured", "checked_at": _iso(NOW - dt.timedelta(days=1))},
    }
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


_DROP = object()


def record(**entries: dict[str, Any]) -> str:
    return json.dumps({"schema": 1, "environment": "dev", "released_at": _iso(NOW), "released_by": None,
                       "source_commit": None, "promoted_from": None, "services": entries}, indent=2) + "\n"


def in_gitops(*records: str) -> Callable[[CaseContext], None]:
    """Commit each text in turn as dev's release record; the GitOps repository is the project."""
    def setup(ctx: CaseContext) -> None:
        for number, text in enumerate(records):
            ctx.write(RECORD, text)
            commit_all(ctx.root, f"release {number}")
        ctx.env["DEVOPS_GITOPS_REPO"] = str(ctx.root)
    return setup


def promote(name: str, text: str, expect: int, *mentions: str, config: str | None = None) -> Case:
    return Case(f"evidence-promote-{name}", ("release", "--env", "prod", "--dry-run"), expect, config=config,
                setup=in_gitops(text), mentions=mentions)


def with_prod_evidence(policy: str) -> str:
    """The base project's config with `environments.prod.evidence` set."""
    head = config_text().partition("environments:\n")[0]
    return head + ENVIRONMENTS.replace("    promote_from: dev\n", f"    promote_from: dev\n    evidence: {policy}\n")


# -- entries without a valid digest: a malformed record (exit 2, file and key path) --------
BAD_DIGESTS = {
    "missing": _DROP, "short": "sha256:abc", "upper-hex": "sha256:" + "A" * 64, "number": 42, "null": None,
    "no-algorithm": "a" * 64, "sha512": "sha512:" + "a" * 128, "trailing-newline": DIGEST + "\n",
}
DIGEST_CASES = [
    promote(f"digest-{name}", record(alpha=entry(digest=value)), 2, "release.json", "services.alpha.digest")
    for name, value in BAD_DIGESTS.items()
] + [
    Case("evidence-status-digest-short", ("status", "--env", "dev"), 2,
         setup=in_gitops(record(alpha=entry(digest="sha256:abc"))), mentions=("release.json", "services.alpha.digest")),
    Case("evidence-rollback-to-record-without-digest", ("rollback", "--env", "dev", "--to", "previous", "--dry-run"),
         2, setup=in_gitops(record(alpha=entry(digest=_DROP)), record(alpha=entry())),
         mentions=("release.json", "services.alpha.digest")),
    # Controls: the same record with a valid digest is read (status 0); a service the record
    # does not list is a refusal (exit 1), not a malformed file.
    Case("evidence-control-status-valid-record", ("status", "--env", "dev"), 0, setup=in_gitops(record(alpha=entry()))),
    Case("evidence-control-promote-no-entry", ("release", "--env", "prod", "--services", "beta", "--dry-run"), 1,
         setup=in_gitops(record(alpha=entry())), mentions=("no entry for beta",)),
]

# -- scan evidence from the future: refused, not "never expires" ---------------------------
FUTURE_CASES = [
    promote("scan-from-2099", record(alpha=entry(scan={**entry()["scan"], "checked_at": "2099-01-01T00:00:00Z"})),
            1, "alpha", "dated in the future", "2099-01-01T00:00:00Z"),
    promote("scan-an-hour-ahead",
            record(alpha=entry(scan={**entry()["scan"], "checked_at": _iso(NOW + dt.timedelta(hours=1))})),
            1, "dated in the future"),
    promote("scan-naive-time-ahead",  # no zone: read as UTC, still ahead
            record(alpha=entry(scan={**entry()["scan"], "checked_at": (NOW + dt.timedelta(minutes=30))
                                     .strftime("%Y-%m-%dT%H:%M:%S")})),
            1, "dated in the future"),
    # Control: evidence from yesterday is accepted; the promotion goes on to the registry,
    # which does not have this digest (a refusal that names the registry, not the evidence).
    promote("control-scan-from-yesterday", record(alpha=entry()), 1, "no longer exists in the registry"),
]

# -- `devops verify` evidence must name the digest it vouches for --------------------------
VERIFIED = {"verdict": "PASSED", "verified_at": _iso(NOW), "window": "10m", "failing": [], "environment": "dev"}
REQUIRE = with_prod_evidence("{require_verification: true}")
VERIFY_CASES = [
    promote("verification-of-no-digest", record(alpha=entry(verification=VERIFIED)), 1,
            "verification in dev's record is of no digest", config=REQUIRE),
    promote("verification-of-another-digest", record(alpha=entry(verification={**VERIFIED, "digest": OTHER})), 1,
            "of another digest", config=REQUIRE),
    promote("control-verification-of-this-digest", record(alpha=entry(verification={**VERIFIED, "digest": DIGEST})),
            1, "no longer exists in the registry", config=REQUIRE),
]

# -- Trivy reports with odd severities, read by `devops scan` -----------------------------
TRIVY_STANDIN = """#!{python}
# A Trivy stand-in: `version` and `image REF` answer as Trivy 0.76 does, the report is the
# real debian-buster.json with the severities of its two findings (CVE-2019-18276, then
# CVE-2019-18224) set to {severities!r}.
import json, sys
if sys.argv[1] == "version":
    print(json.dumps({{"Version": "0.76.0"}}))
    sys.exit(0)
report = json.loads({report!r})
found = [v for result in report["Results"] for v in result.get("Vulnerabilities") or ()]
for vuln, severity in zip(found, {severities!r}):
    if severity == "(drop)":
        vuln.pop("Severity", None)
    else:
        vuln["Severity"] = severity
report["ArtifactName"] = sys.argv[-1]
report["Metadata"].pop("ImageID", None)
print(json.dumps(report))
"""
FIXTURE = SHARED / "fixtures" / "trivy" / "debian-buster.json"


def standin(severities: tuple[Any, Any]) -> Callable[[CaseContext], None]:
    def setup(ctx: CaseContext) -> None:
        script = ctx.write("tools/trivy", TRIVY_STANDIN.format(python=sys.executable, severities=list(severities),
                                                               report=FIXTURE.read_text()))
        script.chmod(0o755)
    return setup


TRIVY_CONFIG = "gates:\n  scan: {severities: [CRITICAL, HIGH], scanners: [vuln]}\n  trivy: {binary: tools/trivy}\n"
IMAGE = "127.0.0.1:5000/test/evidence-not-local:1"


def scan(name: str, severities: tuple[Any, Any], expect: int, *mentions: str,
         check: Callable[[CaseContext, Outcome], None] | None = None) -> Case:
    return Case(f"evidence-scan-{name}", ("--json", "scan", "--image", IMAGE, "--no-cache"), expect,
                config_extra=TRIVY_CONFIG, setup=standin(severities), mentions=mentions, check=check)


def _verdict_of(outcome: Outcome) -> dict[str, str]:
    data = json.loads(outcome.out)
    return {f["id"]: f["status"] for target in data["targets"] for f in target["findings"]}


def _second_fails(_ctx: CaseContext, outcome: Outcome) -> None:
    assert _verdict_of(outcome) == {"CVE-2019-18276": "pass", "CVE-2019-18224": "fail"}, outcome.out


def _all_pass(_ctx: CaseContext, outcome: Outcome) -> None:
    assert set(_verdict_of(outcome).values()) == {"pass"}, outcome.out


SEVERITY_CASES = [
    scan("high-trailing-space", ("MEDIUM", "HIGH "), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("high-lower-case", ("MEDIUM", "high"), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("severe", ("MEDIUM", "SEVERE"), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("empty", ("MEDIUM", ""), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("missing", ("MEDIUM", "(drop)"), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("number", ("MEDIUM", 4), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("null", ("MEDIUM", None), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    scan("list", ("MEDIUM", ["HIGH"]), 1, "over the policy", "CVE-2019-18224", check=_second_fails),
    # Controls: normalised names under the policy, and Trivy's own UNKNOWN, pass.
    scan("control-medium-low", ("MEDIUM", "LOW"), 0, check=_all_pass),
    scan("control-padded-lower-case", (" medium", "low "), 0, check=_all_pass),
    scan("control-trivy-unknown", ("MEDIUM", "UNKNOWN"), 0, check=_all_pass),
]

# -- stand-in backend options cannot weaken the Terraform state ----------------------------
def backend(options: str) -> str:
    return f"infra:\n  state:\n    backend_options: {options}\n"


BACKEND_CASES = [
    Case("evidence-backend-drop-kms", ("config", "validate"), 2, config_extra=backend("{kms_key_id: false}"),
         mentions=("infra.state.backend_options", "kms_key_id")),
    Case("evidence-backend-no-encrypt", ("config", "validate"), 2, config_extra=backend("{encrypt: false}"),
         mentions=("infra.state.backend_options", "encrypt")),
    Case("evidence-backend-unknown-skip", ("config", "validate"), 2, config_extra=backend("{skip_everything: true}"),
         mentions=("skip_everything",)),
    Case("evidence-backend-string-bool", ("config", "validate"), 2, config_extra=backend("{use_path_style: 'yes'}"),
         mentions=("infra.state.backend_options.use_path_style",)),
    Case("evidence-backend-number-bool", ("config", "validate"), 2, config_extra=backend("{use_path_style: 1}"),
         mentions=("infra.state.backend_options.use_path_style",)),
    Case("evidence-backend-endpoint-option", ("config", "validate"), 2,
         config_extra=backend("{endpoints: 'http://evil.example'}"), mentions=("endpoints",)),
    Case("evidence-backend-control-path-style", ("config", "validate"), 0,
         config_extra=backend("{use_path_style: true, skip_s3_checksum: true}")),
]

# -- a region without a price table: a warning in the report, never silence ----------------
COST = """\
cost:
  schedules:
    office: {{timezone: Asia/Kolkata, uptime: ["Mon-Fri 08:00-20:00"]}}
  targets:
    dev:
      cluster: test-dev
      region: {region}
      schedule: office
      capacity: {{general: {{instance_type: t3.medium, count: 2}}}}
{prices}"""


def _warns(region: str) -> Callable[[CaseContext, Outcome], None]:
    def check(_ctx: CaseContext, outcome: Outcome) -> None:
        data = json.loads(outcome.out)
        assert len(data["warnings"]) == 1 and f"region {region} has no price table" in data["warnings"][0], outcome.out
        assert f"cost.prices.{region}" in outcome.err
    return check


def _silent(_ctx: CaseContext, outcome: Outcome) -> None:
    assert json.loads(outcome.out)["warnings"] == [], outcome.out


PRICE_CASES = [
    Case("evidence-cost-region-without-table", ("--json", "cost", "report", "--month", "2026-11"), 0,
         config_extra=COST.format(region="us-east-1", prices=""), check=_warns("us-east-1")),
    # A price table under a key that is no region name is refused at load (cost.prices keys are regions).
    Case("evidence-cost-prices-for-a-misspelt-region", ("--json", "cost", "report", "--month", "2026-11"), 2,
         config_extra=COST.format(region="eu-west-1", prices="  prices:\n    eu-west1: {nat_gateway: 0.048}\n"),
         mentions=("cost.prices", "eu-west1")),
    Case("evidence-cost-negative-price", ("cost", "report", "--month", "2026-11"), 2,
         config_extra=COST.format(region="ap-south-1", prices="  prices:\n    ap-south-1: {nat_gateway: -1}\n"),
         mentions=("cost.prices.ap-south-1.nat_gateway",)),
    Case("evidence-cost-control-seed-region", ("--json", "cost", "report", "--month", "2026-11"), 0,
         config_extra=COST.format(region="ap-south-1", prices=""), check=_silent),
]

CASES = DIGEST_CASES + FUTURE_CASES + VERIFY_CASES + SEVERITY_CASES + BACKEND_CASES + PRICE_CASES

