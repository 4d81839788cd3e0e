"""What is sent for an event: the body of each kind of channel, and the signature of the JSON
webhook that lets a receiver trust it.

**Signature (generic webhook).** Every request carries
`X-Devops-Timestamp: <unix seconds>`, `X-Devops-Delivery: <id>` (the same on every retry of one
event) and `X-Devops-Signature: v1=<hex>` where `<hex>` is
HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body). A receiver recomputes it over the raw
bytes it received, compares in constant time, and refuses a timestamp more than
REPLAY_WINDOW seconds from its clock (and a delivery id it has already seen inside that
window): a captured request cannot be replayed later. `verify_signature` does exactly that.

**Slack.** Text from records and configs (tags, reasons, names) is data: `&`, `<` and `>` are
escaped so a reason like `<!channel>` is shown, never acted upon.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from devops.domain.notify.event import Event
from devops.domain.release.evidence import iso

SCHEMA = 1
VERSION = "v1"
REPLAY_WINDOW = 300  # seconds
SIGNATURE_HEADER = "X-Devops-Signature"
TIMESTAMP_HEADER = "X-Devops-Timestamp"
DELIVERY_HEADER = "X-Devops-Delivery"
EVENT_HEADER = "X-Devops-Event"
MAX_DETAILS = 30
_EMOJI = {"info": ":white_check_mark:", "warning": ":warning:", "error": ":rotating_light:"}


def json_body(event: Event, project: str) -> bytes:
    """The generic webhook's body: the event as documented JSON (docs/release.md)."""
    document: dict[str, Any] = {
        "schema": SCHEMA, "project": project, "event": event.kind, "environment": event.environment,
        "severity": event.severity, "at": iso(event.at), "summary": event.summary,
        "details": list(event.details[:MAX_DETAILS]), "link": event.link, "data": dict(event.data),
    }
    return json.dumps(document, sort_keys=False, ensure_ascii=False, default=str).encode()


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters as entities (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(event: Event, project: str) -> bytes:
    """An incoming-webhook message: `text` (notifications, screen readers) and one section."""
    summary = slack_escape(event.summary)
    where = f" · {slack_escape(event.environment)}" if event.environment else ""
    lines = [f"{_EMOJI[event.severity]} *{summary}*", f"_{slack_escape(project)}{where} · {event.kind}_"]
    lines += [f"• {slack_escape(line)}" for line in event.details[:MAX_DETAILS]]
    if event.link:
        lines.append(slack_escape(event.link))
    text = "\n".join(lines)[:2900]  # a section's text is at most 3000 characters
    message = {"text": f"{project}: {event.summary}"[:300],
               "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    return json.dumps(message, ensure_ascii=False).encode()


def delivery_id(body: bytes, timestamp: int) -> str:
    """Stable for one event's retries (same body, same timestamp), different across events."""
    return hashlib.sha256(str(timestamp).encode() + b"." + body).hexdigest()[:32]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 over `v1:<timestamp>:<body>`."""
    mac = hmac.new(secret.encode(), f"{VERSION}:{timestamp}:".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes, kind: str) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), DELIVERY_HEADER: delivery_id(body, timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body), EVENT_HEADER: kind}


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, now: float,
                     window: int = REPLAY_WINDOW) -> bool:
    """What a receiver does: the signature matches and the timestamp is within `window` seconds."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
