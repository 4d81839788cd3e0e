"""Hosts and origins: where a credential may go is decided by comparing these, never strings.

Pure functions (no I/O, no name resolution): `localhost` and literal loopback addresses are
loopback; every other name is not, whatever it may resolve to.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    """scheme, lower-case host and port (the scheme's default when the URL names none)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def is_loopback(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1 (brackets allowed); no DNS lookup."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def origin(url: str) -> Origin | None:
    """The origin of an http(s) URL, or None when it is not one (no host, bad port, other scheme)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme])


def split_host_port(netloc: str) -> tuple[str, int | None]:
    """`host[:port]` (IPv6 in brackets) as (lower-case host, port or None); ValueError when malformed."""
    parts = urlsplit(f"//{netloc}")
    if not parts.hostname:
        raise ValueError(f"no host in {netloc!r}")
    return parts.hostname.lower(), parts.port


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_REGISTRY_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::[0-9]{{1,5}})?")


def registry_host_problem(value: str) -> str | None:
    """Why `value` is not a registry `host[:port]` (lower case, no scheme, user or path), or None."""
    if not _REGISTRY_HOST.fullmatch(value):
        if any(ch.isspace() or ord(ch) < 32 for ch in value):
            return f"expected host[:port] without spaces or control characters, got {value!r}"
        if "://" in value:
            return f"expected host[:port] without a scheme, got {value!r}"
        if "@" in value:
            return f"expected host[:port] without user or password, got {value!r}"
        if "/" in value:
            return f"expected host[:port] without a path (the namespace is registry.namespace), got {value!r}"
        if _REGISTRY_HOST.fullmatch(value.lower()):
            return f"expected a lower-case host[:port], got {value!r}"
        return f"expected host[:port] like docker.io or 127.0.0.1:5000, got {value!r}"
    try:
        _, port = split_host_port(value)
    except ValueError:
        port = 0
    if port == 0:
        return f"expected a port from 1 to 65535, got {value!r}"
    return None


def realm_url_problem(value: str) -> str | None:
    """Why `value` may not be a token realm credentials are sent to, or None when it may.

    https only, except http on a loopback host; no user, query or fragment in the URL.
    """
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return f"expected a URL without spaces or control characters, got {value!r}"
    found = origin(value)
    if found is None:
        return f"expected an https:// URL with a host (and a port from 1 to 65535), got {value!r}"
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return f"expected a URL without user or password, got {value!r}"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return f"expected a URL without query or fragment, got {value!r}"
    if found.port == 0:
        return f"expected a port from 1 to 65535, got {value!r}"
    if found.scheme == "http" and not is_loopback(found.host):
        return f"plain http sends credentials in clear: use https (http is for loopback hosts only), got {value!r}"
    return None
