"""The outside world of signing (`devops attest`) and of checking signatures (promotion,
`devops verify-signatures`): the registry, Trivy, the Docker engine, Sigstore (keyless through
Fulcio and Rekor, or a local key), built from `signing:` and `environments.<env>.signatures:`
and the environment read once (RuntimeSettings).

Trust material is loaded once per run and only when a bundle needs it: the production trusted
root is refreshed through TUF (a keyless policy without `trusted_root`), a private one read from
its file; a key policy reads its public key file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devops.app.signatures import SignatureGate
from devops.config import Config
from devops.config.signing import SignaturesConfig
from devops.domain.attestation.policy import FoundBundle
from devops.domain.attestation.release import ScanMaterial, SigningRun, SonarProject
from devops.domain.attestation.statement import Statement
from devops.report.console import Reporter
from devops.wiring import adapters as wiring
from devops.wiring.gitops import open_gitops
from devops.wiring.release import evidence_policy
from devops.wiring.settings import RuntimeSettings

if TYPE_CHECKING:
    from devops.adapters.sigstore.attestor import Attachment, Existing, RegistryAttestations, Signer
    from devops.adapters.sigstore.bundle import SignedBundle
    from devops.adapters.sigstore.verify import Policy
    from devops.app.gitops_publish import GitOpsSession


def machine_path(config: Config, value: str) -> Path:
    """A path of the configuration: absolute as written, else under the project root."""
    path = Path(value)
    return path if path.is_absolute() else config.root / path


def signature_gate(config: Config, environment: str, settings: RuntimeSettings, *,
                   policy_environment: str | None = None) -> SignatureGate | None:
    """The signature policy of `policy_environment` (default `environment`) with the port that
    checks bundles for it; None when that environment sets no `signatures`."""
    owner = policy_environment or environment
    block = config.environment(owner).signatures
    if block is None:
        return None
    evidence = evidence_policy(config, owner)
    policy = block.policy(verification_required=bool(evidence.require_verification),
                          allow_skipped_sonar=not evidence.require_sonar)
    return SignatureGate(policy, RegistryFinder(config, block, settings, owner))


class RegistryFinder:
    """Implements SignatureFinder: the registry's bundles checked with sigstore (keyless) or the
    named public key."""

    def __init__(self, config: Config, block: SignaturesConfig, settings: RuntimeSettings, owner: str) -> None:
        self.config, self.block, self.settings, self.owner = config, block, settings, owner
        # Files the policy names are read now: a bad key or root is exit 2 before anything is asked.
        self.policy  # noqa: B018
        if block.keyless is not None and block.keyless.trusted_root:
            self.trusted_root  # noqa: B018

    @cached_property
    def attestations(self) -> RegistryAttestations:
        from devops.adapters.sigstore.attestor import RegistryAttestations

        return RegistryAttestations(wiring.registry_client(self.config, self.settings))

    @cached_property
    def policy(self) -> Policy:
        from devops.adapters.sigstore.keys import read_public_key
        from devops.adapters.sigstore.verify import IdentityPolicy, KeyPolicy

        keyless = self.block.keyless
        if keyless is not None:
            return IdentityPolicy(keyless.issuer, keyless.identity, keyless.repository)
        assert self.block.key is not None  # the config allows exactly one of them
        path = machine_path(self.config, self.block.key)
        return KeyPolicy(read_public_key(path, key=f"environments.{self.owner}.signatures.key"), name=self.block.key)

    @cached_property
    def trusted_root(self) -> Any:
        from devops.adapters.sigstore.trust import load_trusted_root, production_trusted_root

        keyless = self.block.keyless
        if keyless is None:
            return None
        if keyless.trusted_root:
            return load_trusted_root(machine_path(self.config, keyless.trusted_root))
        return production_trusted_root(offline=False)

    def found(self, repository: str, digest: str) -> list[FoundBundle]:
        policy = self.policy  # a bad key file is exit 2 before the registry is asked
        return self.attestations.found(repository, digest, policy, self.trusted_root)


def signing_run(config: Config, settings: RuntimeSettings) -> SigningRun:
    """Who signs: the GitHub Actions workflow run, else a local run (named as such)."""
    if settings.in_github_actions:
        repository = settings.get("GITHUB_REPOSITORY") or config.project
        workflow_ref = settings.get("GITHUB_WORKFLOW_REF") or ""
        path = workflow_ref.removeprefix(f"{repository}/").partition("@")[0] or "unknown"
        server, run_id = settings.get("GITHUB_SERVER_URL") or "https://github.com", settings.get("GITHUB_RUN_ID")
        attempt = settings.get("GITHUB_RUN_ATTEMPT") or "1"
        invocation = f"{server}/{repository}/actions/runs/{run_id}/attempts/{attempt}" if run_id else ""
        runner = "self-hosted" if settings.get("RUNNER_ENVIRONMENT") == "self-hosted" else "github-hosted"
        return SigningRun(repository, path, settings.get("GITHUB_REF") or "", f"https://github.com/actions/runner/{runner}",
                          invocation, settings.get("GITHUB_EVENT_NAME") or "")
    source = wiring.source_url(config, settings)
    found = source.removesuffix(".git").split("github.com")[-1].lstrip(":/") if "github.com" in source else ""
    repository = found if found.count("/") == 1 else f"local/{config.project}"
    return SigningRun(repository, "local", "local", "local:devops attest")


def sonar_project(config: Config) -> SonarProject:
    sonar = config.gates.sonar
    return SonarProject(sonar.project_key or config.project, sonar.host_url)


class CliAttestSteps:
    """Implements AttestSteps (devops/app/attest.py) for the CLI."""

    def __init__(self, config: Config, settings: RuntimeSettings, reporter: Reporter) -> None:
        self.config, self.settings, self.reporter = config, settings, reporter
        self._key: Any = None
        self._trust: Any = None
        signing = config.signing
        # What the configuration names is read now: a bad key, password or trust config is exit 2
        # before the registry, Trivy or Fulcio is asked anything.
        if signing.method == "key":
            from devops.adapters.sigstore.keys import load_private_key, read_key_file

            assert signing.key is not None  # the config requires it with method key
            password = signing.key_password(settings)
            self._key = load_private_key(read_key_file(machine_path(config, signing.key), key="signing.key"),
                                         password.encode() if password else None, where=f"signing.key {signing.key}")
        elif signing.trust_config:
            from devops.adapters.sigstore.trust import load_trust_config

            self._trust = load_trust_config(machine_path(config, signing.trust_config))

    @cached_property
    def attestations(self) -> RegistryAttestations:
        from devops.adapters.sigstore.attestor import RegistryAttestations

        return RegistryAttestations(wiring.registry_client(self.config, self.settings))

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        with open_gitops(self.config, environment, self.settings) as repo:
            yield repo

    def repository(self, service: str) -> str | None:
        return self.config.repository(service) if service in self.config.services else None

    def labels(self, repository: str, digest: str) -> Mapping[str, str]:
        return self.attestations.image_labels(repository, digest)

    def existing(self, repository: str, digest: str) -> Sequence[Existing]:
        return self.attestations.existing(repository, digest)

    def scan(self, service: str, repository: str, digest: str) -> ScanMaterial:
        """The pushed digest scanned as the release scanned it (the scan cache answers when the
        image ID, Trivy DB and policy are the same), then converted by Trivy."""
        from devops.adapters.scan_cache import ScanCache
        from devops.app.scan import ImageTarget, scan_images
        from devops.wiring.scan import policy, trivy

        engine = wiring.docker_engine()
        reference = f"{repository}@{digest}"
        if not engine.image_exists(reference):
            self.reporter.info(f"{service}: pulling {reference[:70]}… to scan it")
            engine.pull(reference)
        scanner, chosen = trivy(self.config), policy(self.config, service)
        cache = ScanCache(self.config.root / self.config.gates.cache_dir)
        run = scan_images([ImageTarget(ref=reference, policy=chosen, location=reference)], scanner, cache,
                          engine.image_ids, progress=self.reporter.debug)
        scan = run.scans[0]
        return ScanMaterial(sbom=scanner.convert_report(scan.raw, "cyclonedx"),
                            vulnerabilities=scanner.convert_report(scan.raw, "cosign-vuln"),
                            passed=scan.verdict.passed, counts=scan.verdict.counts(),
                            threshold=",".join(chosen.severities))

    @contextmanager
    def signer(self) -> Iterator[Session]:
        with self._signer() as signer:
            self.reporter.info(f"signing as {signer.identity}")
            yield Session(self.attestations, signer)

    @contextmanager
    def _signer(self) -> Iterator[Signer]:
        from devops.adapters.sigstore import attestor

        if self._key is not None:
            yield attestor.KeySigner(self._key)
            return
        from devops.adapters.sigstore.oidc import github_actions_token
        from devops.adapters.sigstore.trust import production_trust_config

        token = self.settings.get(self.config.signing.identity_token_env) or github_actions_token(
            self.settings.get("ACTIONS_ID_TOKEN_REQUEST_URL"), self.settings.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
        with attestor.keyless(token, self._trust or production_trust_config()) as s:
            yield s


class Session:
    """Implements SigningSession: sign with `signer`, store in the registry."""

    def __init__(self, attestations: RegistryAttestations, signer: Signer) -> None:
        self.attestations, self.signer = attestations, signer
        # Services are attached concurrently; signing itself goes one at a time (a keyless
        # signer's session, its transparency-log client, is not known to be thread-safe).
        self._signing = threading.Lock()

    def _sign(self, statement: Statement) -> SignedBundle:
        with self._signing:
            return self.signer.sign(statement)

    @property
    def identity(self) -> str:
        return self.signer.identity

    def attach(self, repository: str, digest: str, statement: Statement, *, classic: bool) -> Attachment:
        return self.attestations.attach(repository, digest, self._sign(statement), classic=classic)

    def attach_classic_signature(self, repository: str, digest: str) -> str:
        with self._signing:  # the classic payload is signed inside; the upload is short
            return self.attestations.attach_classic_signature(repository, digest, self.signer)
