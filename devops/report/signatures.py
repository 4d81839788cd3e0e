"""How `devops attest` and `devops verify-signatures` show what they did: a table per command,
the job summary, step outputs and the `--json` models (docs/schemas/attest.json,
verify-signatures.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.attestation.policy import SignatureCheck
from devops.domain.attestation.results import AttestReport, ServiceAttestation, SignaturesReport
from devops.report.console import Reporter
from devops.report.github import markdown_table


def _short(digest: str) -> str:
    return digest[7:19] if digest.startswith("sha256:") else (digest or "-")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class KindModel(_Model):
    kind: str = Field(description="signature, provenance, sbom, vulnerabilities, sonar or verification")
    status: str = Field(description="signed, present (already attested by this signer), skipped or would-sign")
    referrer: str | None = Field(description="digest of the bundle's referrer manifest (signed or present)")
    note: str | None = Field(description="why skipped; for a signed bundle how it is stored "
                                         "(referrers-api or fallback-tag)")


class ServiceAttestationModel(_Model):
    service: str
    repository: str
    digest: str
    kinds: list[KindModel]
    classic: list[str] = Field(description="cosign classic tags written (.sig, .att)")

    @classmethod
    def of(cls, item: ServiceAttestation) -> ServiceAttestationModel:
        return cls(service=item.service, repository=item.repository, digest=item.digest,
                   kinds=[KindModel(kind=k.kind.value, status=k.status, referrer=k.referrer or None,
                                    note=k.note or None) for k in item.kinds],
                   classic=list(item.classic))


class AttestModel(_Model):
    """`devops attest --json`."""

    environment: str
    method: str = Field(description="keyless or key")
    signer: str | None = Field(description="the certificate identity, or key:<hint>; null in a dry run")
    dry_run: bool
    services: list[ServiceAttestationModel]

    @classmethod
    def of(cls, report: AttestReport) -> AttestModel:
        return cls(environment=report.environment, method=report.method, signer=report.signer or None,
                   dry_run=report.dry_run, services=[ServiceAttestationModel.of(s) for s in report.services])


class KindCheckModel(_Model):
    kind: str
    verdict: str = Field(description="PASSED or FAILED")
    referrer: str | None = Field(description="the bundle that satisfied the kind")
    detail: str = Field(description="what it attests, or why no bundle satisfied the kind")


class SignatureCheckModel(_Model):
    service: str
    digest: str
    verdict: str = Field(description="PASSED when every required kind passed")
    kinds: list[KindCheckModel]

    @classmethod
    def of(cls, check: SignatureCheck) -> SignatureCheckModel:
        return cls(service=check.service, digest=check.digest, verdict="PASSED" if check.ok else "FAILED",
                   kinds=[KindCheckModel(kind=k.kind.value, verdict="PASSED" if k.ok else "FAILED",
                                         referrer=k.referrer or None, detail=k.summary if k.ok else k.problem)
                          for k in check.kinds])


class SkippedModel(_Model):
    service: str
    reason: str


class VerifySignaturesModel(_Model):
    """`devops verify-signatures --json`."""

    environment: str
    policy_environment: str = Field(description="whose environments.<env>.signatures policy was applied")
    policy: str = Field(description="the signer the policy accepts")
    verdict: str = Field(description="PASSED only when every checked digest passed")
    services: list[SignatureCheckModel]
    skipped: list[SkippedModel]

    @classmethod
    def of(cls, report: SignaturesReport) -> VerifySignaturesModel:
        return cls(environment=report.environment, policy_environment=report.policy_environment,
                   policy=report.policy, verdict="PASSED" if report.ok else "FAILED",
                   services=[SignatureCheckModel.of(c) for c in report.checks],
                   skipped=[SkippedModel(service=s, reason=r) for s, r in report.skipped.items()])


def render_attest(reporter: Reporter, report: AttestReport) -> None:
    headers = ["service", "digest", "kind", "status", "bundle", "note"]
    rows = [[s.service, _short(s.digest), k.kind.value, k.status, _short(k.referrer), k.note]
            for s in report.services for k in s.kinds]
    title = f"Attestations of {report.environment}" + (" (dry run)" if report.dry_run else "")
    reporter.table(title, headers, rows)
    line = (f"{report.environment}: {report.count('signed')} signed, {report.count('present')} already present, "
            f"{report.count('skipped')} skipped" + (f", {report.count('would-sign')} would be signed"
                                                    if report.dry_run else "")
            + (f" (signer {report.signer})" if report.signer else ""))
    reporter.info(line)
    for service in report.services:
        for tag in service.classic:
            reporter.debug(f"{service.service}: classic tag {tag}")
    reporter.github.summary(f"### {title}\n\n" + markdown_table(headers, rows) + f"\n{line}\n")
    reporter.github.output("attested", str(report.count("signed")))
    reporter.result(AttestModel.of(report))


def render_signatures(reporter: Reporter, report: SignaturesReport) -> None:
    headers = ["service", "digest", "kind", "verdict", "bundle", "detail"]
    rows = [[c.service, _short(c.digest), k.kind.value, "PASSED" if k.ok else "FAILED", _short(k.referrer),
             k.summary if k.ok else k.problem] for c in report.checks for k in c.kinds]
    rows += [[service, "-", "-", "SKIPPED", "-", why] for service, why in report.skipped.items()]
    title = f"Signed evidence of {report.environment} (policy of {report.policy_environment}: {report.policy})"
    reporter.table(title, headers, rows)
    line = f"{report.environment}: signatures {'PASSED' if report.ok else 'FAILED'}"
    reporter.info(line)
    reporter.github.summary(f"### {title}\n\n" + markdown_table(headers, rows) + f"\n{line}\n")
    reporter.github.output("signatures", "PASSED" if report.ok else "FAILED")
    reporter.result(VerifySignaturesModel.of(report))
