"""Prometheus durations (`5m`, `1h`, `30d`): the one reading of them, shared by the configuration,
the command line and the alert rules."""

from __future__ import annotations

import re

# Prometheus durations devops accepts: one unit, which every tool in the chain reads the same.
DURATION = r"^[1-9][0-9]*(s|m|h|d|w)$"
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Longer look-backs or budget periods are typos (and overflow date arithmetic when huge).
MAX_DURATION_SECONDS = 400 * 86400


def duration_seconds(text: str) -> int:
    """Seconds in a Prometheus duration such as `10m`, at most 400 days; ValueError otherwise."""
    match = re.fullmatch(DURATION, text) if isinstance(text, str) and len(text) <= 12 else None
    if not match:
        raise ValueError(f"expected a duration like 5m, 1h or 30d, got {text!r}")
    seconds = int(text[:-1]) * _SECONDS[text[-1]]
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"duration {text} is longer than 400 days")
    return seconds
