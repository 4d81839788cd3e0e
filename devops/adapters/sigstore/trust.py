"""Roots of trust: which Fulcio CAs, Rekor logs and CT logs a verifier believes.

- `production_trusted_root(offline=True)`: Sigstore's public-good trusted root as shipped
  inside sigstore-python (no network, nothing written to $HOME). It goes stale as keys rotate:
  `offline=False` refreshes it through Sigstore's TUF repository (network; what CI should use).
- `load_trusted_root(path)`: a `trusted_root.json` (protobuf-specs TrustedRoot) or a client
  trust config (ClientTrustConfig: trusted root + signing config), e.g. a private Sigstore or
  the test mock.
- `load_trust_config(path)`: a client trust config, needed to sign (it names Fulcio and Rekor).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devops.adapters.sigstore.errors import TrustConfigInvalid, TrustRootUnavailable

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig, TrustedRoot

PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"


def production_trusted_root(*, offline: bool = True) -> TrustedRoot:
    """Sigstore's production trusted root: the copy sigstore-python ships, or a TUF refresh."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig, TrustedRoot

    if not offline:
        try:
            return ClientTrustConfig.production(offline=False).trusted_root
        except (SigstoreError, ValueError, OSError) as exc:
            raise TrustRootUnavailable(f"{PRODUCTION_TUF_URL}: could not refresh the trusted root ({_first_line(exc)})",
                                       hint="check the network") from None
    from importlib import resources
    from urllib.parse import quote

    embedded = resources.files("sigstore._store").joinpath(quote(PRODUCTION_TUF_URL, safe=""), "trusted_root.json")
    return _trusted_root(TrustedRoot, embedded.read_bytes(), "sigstore-python's embedded production trusted root")


def load_trusted_root(path: Path) -> TrustedRoot:
    """A trusted root from `path` (a TrustedRoot, or the one inside a ClientTrustConfig)."""
    from sigstore.models import TrustedRoot

    data = _read_json(path)
    if isinstance(data, dict) and data.get("mediaType") == TRUST_CONFIG_MEDIA_TYPE:
        return load_trust_config(path).trusted_root
    return _trusted_root(TrustedRoot, path.read_bytes(), str(path))


def load_trust_config(path: Path) -> ClientTrustConfig:
    """A client trust config from `path`; names the file and what is wrong."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    data = _read_json(path)
    if not isinstance(data, dict) or data.get("mediaType") != TRUST_CONFIG_MEDIA_TYPE:
        raise TrustConfigInvalid(f"{path}: not a Sigstore client trust config (mediaType {TRUST_CONFIG_MEDIA_TYPE})")
    try:
        config = ClientTrustConfig.from_json(path.read_text())
        config.signing_config  # noqa: B018 - validates the signing config (Fulcio and Rekor URLs)
        config.trusted_root  # noqa: B018
    except (SigstoreError, ValueError) as exc:
        raise TrustConfigInvalid(f"{path}: {_first_line(exc)}") from None
    return config


def _trusted_root(cls: Any, raw: bytes, where: str) -> TrustedRoot:
    from sigstore.errors import Error as SigstoreError
    from sigstore_models.trustroot import v1 as trustroot_v1

    try:
        return cls(trustroot_v1.TrustedRoot.from_json(raw))
    except (SigstoreError, ValueError) as exc:
        raise TrustConfigInvalid(f"{where}: not a usable Sigstore trusted root: {_first_line(exc)}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise TrustConfigInvalid(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise TrustConfigInvalid(f"{path}: not JSON ({exc})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def production_trust_config() -> ClientTrustConfig:
    """Sigstore's public-good Fulcio and Rekor with their trusted root, refreshed through TUF."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig

    try:
        return ClientTrustConfig.production(offline=False)
    except (SigstoreError, ValueError, OSError) as exc:
        raise TrustRootUnavailable(f"{PRODUCTION_TUF_URL}: could not refresh the signing config "
                                   f"({_first_line(exc)})",
                                   hint="check the network, or set signing.trust_config") from None
