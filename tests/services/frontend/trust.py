"""Base images that trust this machine's extra TLS roots.

Where the network goes through an intercepting egress proxy (this sandbox and its CI), the
host trusts the proxy's CA through /usr/local/share/ca-certificates, but the stand-in base
images built from Debian packages do not: `npm ci` and `pip install` inside `docker build`
then fail with SELF_SIGNED_CERT_IN_CHAIN. This helper derives, once and cached, an image per
stand-in that adds those extra roots (and points Node and pip at the system bundle). On a
machine without extra roots it returns the stand-ins unchanged. The services' Dockerfiles are
untouched: only the build arguments differ.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
# Only the images whose build stages download over TLS (npm, pip) need the roots; apt uses
# plain http with signed lists.
NEEDS_TRUST = ("NODE_IMAGE", "PYTHON_IMAGE")

DOCKERFILE = """\
ARG BASE
FROM ${BASE}
USER root
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null 2>&1 \\
 || cat /usr/local/share/ca-certificates/*.crt >> /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
"""


def extra_roots() -> list[Path]:
    """The host's locally added CA certificates (empty on an ordinary machine)."""
    if not EXTRA_CA_DIR.is_dir():
        return []
    return sorted(p for p in EXTRA_CA_DIR.glob("*.crt") if p.is_file())


def _image_id(ref: str) -> str | None:
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def trusting_build_args(build_args: dict[str, str], prefix: str = "localhost:5000/e2e-trust") -> dict[str, str]:
    """`build_args` with each package-installing base image replaced by a trusting variant."""
    roots = extra_roots()
    if not roots:
        return dict(build_args)
    digest = hashlib.sha256(DOCKERFILE.encode())
    for root in roots:
        digest.update(root.read_bytes())
    out = dict(build_args)
    for key in NEEDS_TRUST:
        base = build_args.get(key)
        if not base:
            continue
        base_id = _image_id(base)
        if base_id is None:
            continue
        digest_key = hashlib.sha256(digest.hexdigest().encode() + base_id.encode()).hexdigest()[:12]
        name = base.rsplit("/", 1)[-1].replace(":", "-")
        target = f"{prefix}/{name}:{digest_key}"
        if _image_id(target) is None:
            with tempfile.TemporaryDirectory(prefix="e2e-trust-") as tmp:
                ctx = Path(tmp)
                (ctx / "extra-ca").mkdir()
                for root in roots:
                    shutil.copy(root, ctx / "extra-ca" / root.name)
                (ctx / "Dockerfile").write_text(DOCKERFILE)
                subprocess.run(
                    ["docker", "build", "-q", "--build-arg", f"BASE={base}", "-t", target, str(ctx)],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
        out[key] = target
    return out
