"""Configuration from environment variables (docs/services-api.md, "Configuration")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse


class ConfigError(ValueError):
    """An environment variable has a value the service cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {raw!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name, "") or default
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


@dataclass(frozen=True)
class Config:
    """Everything the order service reads from its environment."""

    mongodb_uri: str = "mongodb://localhost:27017/shop"
    cart_service_url: str = "http://localhost:3002"
    # When set, the order re-prices every line from the product service; when unset it uses
    # the prices the cart service read from the product service.
    product_service_url: str | None = None
    db_timeout_ms: int = 3000
    # Longer than the cart's own chain (its database, then the product service).
    upstream_timeout_ms: int = 8000
    log_level: str = "info"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read the configuration; raises ConfigError naming the variable."""
        env = os.environ if env is None else env
        return cls(
            mongodb_uri=env.get("MONGODB_URI") or cls.mongodb_uri,
            cart_service_url=_url(env, "CART_SERVICE_URL", cls.cart_service_url) or cls.cart_service_url,
            product_service_url=_url(env, "PRODUCT_SERVICE_URL", None),
            db_timeout_ms=_int(env, "MONGODB_TIMEOUT_MS", cls.db_timeout_ms),
            upstream_timeout_ms=_int(env, "UPSTREAM_TIMEOUT_MS", cls.upstream_timeout_ms),
            log_level=(env.get("LOG_LEVEL") or "info").lower(),
        )
