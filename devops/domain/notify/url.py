"""Where a notification may go. A webhook URL is a secret as a whole (Slack's path is the
credential), so it comes from the environment only, is never shown beyond its origin, and must
be https (http only to a loopback receiver), with no user, query or fragment."""

from __future__ import annotations

from devops.domain.urls import is_loopback_host, origin, parse


def shown(url: str) -> str:
    """The URL as messages show it: its origin only, the secret path hidden."""
    try:
        return f"{origin(url)}/…"
    except ValueError:
        return "(not a URL)"


def url_problem(url: str) -> str | None:
    """Why `url` may not receive a notification; None when it may."""
    if not url or url != url.strip() or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return "is empty or contains spaces or control characters"
    parts = parse(url)
    if parts is None or parts.scheme.lower() not in ("https", "http"):
        return "must be an https:// URL"
    try:
        where = origin(url)
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if "@" in parts.netloc:
        return "must not contain a user or password"
    if parts.fragment or url.endswith("#"):
        return "must not have a fragment"
    if where.scheme == "http" and not is_loopback_host(where.host):
        return "is plain http: the message and its secret would travel unencrypted; use https"
    return None
