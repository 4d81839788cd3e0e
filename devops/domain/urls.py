"""URLs that carry credentials or decide where a credential goes: one set of rules.

Pure functions (no I/O): the config validators, the Sonar gate, the GitHub adapter and the
GitOps engine all ask these, so "https only except loopback", "the same server" and "what a
URL looks like with its credentials hidden" mean the same thing everywhere.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import SplitResult, unquote, urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
REDACTED = "***"


class Origin(NamedTuple):
    """Scheme, host (lower case) and port (the scheme's default when the URL has none)."""

    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        shown_port = "" if self.port is None or self.port == DEFAULT_PORTS.get(self.scheme) else f":{self.port}"
        return f"{self.scheme}://{host}{shown_port}"


def parse(url: str) -> SplitResult | None:
    """`urlsplit`, or None for what it cannot split (an unbalanced `[`, a bad IPv6 literal)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: traffic that never leaves the machine."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> Origin:
    """The (scheme, host, port) of an http(s) URL; ValueError when there is none."""
    parts = parse(url)
    if parts is None:
        raise ValueError("not a valid URL")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme))


def service_url_problem(url: object, *, what: str = "URL") -> str | None:
    """Why `url` may not receive a credential, or None when it may.

    Accepted: `https://host[:port][/path]` (port 1..65535), and `http://` only for a loopback
    host (a local stand-in); no user/password, query or fragment (they would be sent, or mean a
    typo).
    """
    if not isinstance(url, str):
        return f"expected an {what} string"
    shown = repr(redact(url))
    if not url or url != url.strip() or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return f"{what} {shown} is empty or contains spaces or control characters"
    parts = parse(url)
    if parts is None:
        return f"{what} {shown} is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return f"{what} {shown} must start with https://"
    try:
        where = origin(url)
    except ValueError as exc:
        return f"{what} {shown}: {exc}"
    if where.port == 0:  # nothing listens there: a typo to refuse now (exit 2), not a failed connect later
        return f"{what} {shown}: expected a port from 1 to 65535"
    if "@" in parts.netloc:
        return f"{what} must not contain a user or password; give the token through its environment variable"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"{what} {shown} must not have a query or fragment"
    if scheme == "http" and not is_loopback_host(where.host):
        return (f"{what} {shown} is plain http: the token would travel unencrypted; use https "
                "(http is accepted only for 127.0.0.1, ::1 or localhost)")
    return None


class SplitUrl(NamedTuple):
    """A git URL without its `user:password@` part, and that part (decoded), if any."""

    url: str
    username: str | None
    password: str | None

    @property
    def has_credentials(self) -> bool:
        return self.username is not None or self.password is not None


def split_credentials(url: str) -> SplitUrl:
    """`https://user:token@host/p` -> (`https://host/p`, user, token); other URLs unchanged.

    Only http(s) URLs carry credentials this way: the user of `ssh://git@host/p` or scp-like
    `git@host:path` names an SSH account, not a secret, and stays in the URL.
    """
    parts = parse(url) if "://" in url else None
    if parts is None or parts.scheme.lower() not in DEFAULT_PORTS or "@" not in parts.netloc:
        return SplitUrl(url, None, None)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    return SplitUrl(parts._replace(netloc=hostport).geturl(), unquote(user), unquote(password) if sep else None)


def redact(url: str) -> str:
    """The URL as it may be shown: `https://***@host/path` when it carries credentials (any
    user:password, and any user of an http(s) URL, which is often a token)."""
    if "://" not in url:
        return url
    parts = parse(url)
    if parts is None:  # not splittable: hide anything between // and the last @ before a /
        return re.sub(r"//[^/]*@", f"//{REDACTED}@", url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if parts.scheme.lower() not in DEFAULT_PORTS and ":" not in userinfo:
        return url
    return parts._replace(netloc=f"{REDACTED}@{hostport}").geturl()


def git_url_problem(url: str) -> str | None:
    """Why a GitOps repository URL may not be used as given, or None.

    Credentials inside a URL are accepted only where git sends them encrypted or keeps them on
    the machine: https, or http to a loopback host. ssh takes keys, not passwords.
    """
    if "://" not in url:
        return None
    parts = parse(url)
    if parts is None:
        return f"{redact(url)}: not a valid URL" if "@" in url else None
    scheme = parts.scheme.lower()
    if "@" not in parts.netloc:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return f"{redact(url)}: contains control characters"
    userinfo = parts.netloc.rpartition("@")[0]
    if scheme not in DEFAULT_PORTS:
        if scheme in ("ssh", "git+ssh", "ssh+git") and ":" not in userinfo:
            return None  # ssh://git@host/...: an account name, not a secret
        return f"{redact(url)}: a password in a {scheme}:// URL is not supported; use https, or an SSH key"
    try:
        where = origin(url)
    except ValueError as exc:
        return f"{redact(url)}: {exc}"
    if scheme == "http" and not is_loopback_host(where.host):
        return (f"{redact(url)} carries credentials over plain http: they would travel unencrypted; "
                "use https (http is accepted only for 127.0.0.1, ::1 or localhost)")
    return None
