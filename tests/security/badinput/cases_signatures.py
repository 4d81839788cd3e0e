"""Supply-chain inputs: `signing:` (how `devops attest` signs), `environments.<env>.signatures:`
(what a promotion and `devops verify-signatures` accept), the key, trusted-root and trust-config
files they name, and the options of `devops attest` and `devops verify-signatures`. A bad input is
refused (exit 2, one line naming the key, file or value) before the registry, Trivy, Fulcio or
the GitOps repository is asked anything; each family has a control that passes.

The GitOps repository of the controls is the project itself ($DEVOPS_GITOPS_REPO), whose dev and
prod records list no service: signing finds nothing to sign, verification nothing deployed."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import config_with

KEYLESS = ("{keyless: {identity: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', "
           "repository: o/r}}")
_KEY = ec.generate_private_key(ec.SECP256R1())
PRIVATE_PEM = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
ENCRYPTED_PEM = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"s3cret"))
PUBLIC_PEM = _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
RSA_PUBLIC = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _gitops_here(ctx: CaseContext) -> None:
    ctx.env["DEVOPS_GITOPS_REPO"] = str(ctx.root)


def policy(raw: str, id: str, expect: int, *mentions: str, argv: tuple[str, ...] = ("config", "validate"),
           files: dict[str, str | bytes] | None = None) -> Case:
    """`argv` with environments.prod.signatures set to the YAML `raw`."""
    return Case(f"signatures-{id}", argv, expect, config=config_with(("environments.prod.signatures", raw)),
                files=files or {}, mentions=mentions, setup=_gitops_here)


def signing(raw: str, id: str, expect: int, *mentions: str, argv: tuple[str, ...] = ("config", "validate"),
            files: dict[str, str | bytes] | None = None, env: dict[str, str] | None = None) -> Case:
    """`argv` with the top-level `signing:` block set to the YAML `raw`."""
    return Case(f"signatures-signing-{id}", argv, expect, config=config_with(("signing", raw)), files=files or {},
                env=env or {}, mentions=mentions, setup=_gitops_here)


VERIFY = ("verify-signatures", "--env", "prod")
ATTEST = ("attest", "--env", "dev")
KEY_POLICY = "{key: keys/prod.pub}"
KEY_SIGNING = "{method: key, key: keys/signing.key}"

CASES = [
    # -- the policy block
    policy(KEYLESS, "control-keyless", 0),
    policy(KEY_POLICY, "control-key-verify-nothing-deployed", 0, argv=VERIFY, files={"keys/prod.pub": PUBLIC_PEM}),
    policy("{key: keys/prod.pub, keyless: {identity: x}}", "both-signers", 2, "environments.prod.signatures",
           "exactly one of keyless"),
    policy("{required: [signature]}", "no-signer", 2, "environments.prod.signatures", "exactly one"),
    policy("{required: [signature, sbon], key: k.pub}", "unknown-kind", 2, "environments.prod.signatures.required",
           "sbon"),
    policy("{required: [], key: k.pub}", "no-kind", 2, "environments.prod.signatures.required", "at least one"),
    policy("{keyless: {identity: 'https://github.com/o/*/release.yml@refs/heads/main'}}", "identity-pattern", 2,
           "environments.prod.signatures.keyless.identity", "patterns are not supported"),
    policy("{keyless: {identity: x, repository: just-a-name}}", "repository-shape", 2,
           "environments.prod.signatures.keyless.repository", "owner/name"),
    policy("{keyless: {identity: x, issuer: 'ftp://issuer.example.com'}}", "issuer-scheme", 2,
           "environments.prod.signatures.keyless.issuer", "ftp://"),
    policy("{keyless: {identity: x, extra: 1}}", "unknown-key", 2, "environments.prod.signatures.keyless.extra"),
    policy("{key: ../outside.pub}", "key-outside-the-project", 2, "environments.prod.signatures.key", ".."),
    policy(KEY_POLICY, "key-file-missing", 2, "environments.prod.signatures.key", "keys/prod.pub", "cannot be read",
           argv=VERIFY),
    policy(KEY_POLICY, "key-file-not-pem", 2, "environments.prod.signatures.key", "not a PEM public key",
           argv=VERIFY, files={"keys/prod.pub": "hello\n"}),
    policy(KEY_POLICY, "key-file-a-private-key", 2, "not a PEM public key", argv=VERIFY,
           files={"keys/prod.pub": PRIVATE_PEM}),
    policy(KEY_POLICY, "key-file-rsa", 2, "expected an ECDSA P-256 public key", argv=VERIFY,
           files={"keys/prod.pub": RSA_PUBLIC}),
    policy(KEY_POLICY, "key-file-bad-before-promotion", 2, "environments.prod.signatures.key",
           argv=("release", "--env", "prod"), files={"keys/prod.pub": "hello\n"}),
    policy("{keyless: {identity: x, trusted_root: keys/root.json}}", "trusted-root-not-json", 2, "keys/root.json",
           "not JSON", argv=VERIFY, files={"keys/root.json": "{"}),
    policy("{keyless: {identity: x, trusted_root: keys/root.json}}", "trusted-root-not-a-root", 2, "keys/root.json",
           "not a usable Sigstore trusted root", argv=VERIFY, files={"keys/root.json": '{"mediaType": "x"}'}),
    # -- verify-signatures options
    Case("signatures-verify-without-a-policy", ("verify-signatures", "--env", "dev"), 2,
         mentions=("environments.dev.signatures is not set", "--policy")),
    Case("signatures-verify-unknown-policy-environment", ("verify-signatures", "--env", "dev", "--policy", "stage"), 2,
         mentions=("unknown environment 'stage'",)),
    Case("signatures-verify-unknown-service", ("verify-signatures", "--env", "prod", "--services", "gamma"), 2,
         config=config_with(("environments.prod.signatures", KEYLESS)), mentions=("unknown service 'gamma'",)),
    # -- the signing block
    signing(KEY_SIGNING, "control-key-nothing-to-sign", 0, argv=ATTEST, files={"keys/signing.key": PRIVATE_PEM}),
    signing("{method: key, key: keys/signing.key, key_password_env: SIGNING_PASSWORD}", "control-encrypted-key", 0,
            argv=ATTEST, files={"keys/signing.key": ENCRYPTED_PEM}, env={"SIGNING_PASSWORD": "s3cret"}),
    signing("{method: cosign}", "unknown-method", 2, "signing.method", "keyless"),
    signing("{method: key}", "key-method-without-a-key", 2, "signing", "method key needs"),
    signing("{method: keyless, key: keys/signing.key}", "key-with-keyless", 2, "signing", "only with method: key"),
    signing("{classic_tags: 'yes'}", "classic-tags-not-a-flag", 2, "signing.classic_tags"),
    signing("{identity_token_env: 'MY TOKEN'}", "token-env-not-a-name", 2, "signing.identity_token_env", "MY TOKEN"),
    signing("{trust_config: /}", "trust-config-a-folder", 2, "/", "cannot be read", argv=ATTEST),
    signing("{trust_config: keys/trust.json}", "trust-config-not-one", 2, "keys/trust.json",
            "not a Sigstore client trust config", argv=ATTEST, files={"keys/trust.json": '{"mediaType": "other"}'}),
    signing(KEY_SIGNING, "key-file-missing", 2, "signing.key", "keys/signing.key", "cannot be read", argv=ATTEST),
    signing(KEY_SIGNING, "key-file-not-a-key", 2, "signing.key", "not a PEM private key", argv=ATTEST,
            files={"keys/signing.key": PUBLIC_PEM}),
    signing(KEY_SIGNING, "encrypted-key-without-password", 2, "signing.key", "password", argv=ATTEST,
            files={"keys/signing.key": ENCRYPTED_PEM}),
    signing("{method: key, key: keys/signing.key, key_password_env: SIGNING_PASSWORD}", "encrypted-key-wrong-password",
            2, "signing.key", "password is wrong", argv=ATTEST, files={"keys/signing.key": ENCRYPTED_PEM},
            env={"SIGNING_PASSWORD": "guess"}),
    # -- attest options
    Case("signatures-attest-unknown-kind", (*ATTEST, "--kind", "sbon"), 2, mentions=("--kind", "sbon")),
    Case("signatures-attest-unknown-service", (*ATTEST, "--services", "gamma"), 2, mentions=("unknown service 'gamma'",)),
    Case("signatures-attest-unknown-environment", ("attest", "--env", "stage"), 2,
         mentions=("unknown environment 'stage'",)),
]
