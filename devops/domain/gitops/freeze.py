"""The freeze file `environments/<env>/freeze.json`: an emergency stop written by `devops freeze`.

It lives in the GitOps repository so every runner and laptop that releases sees it. Like the
release record it is data anyone with push access can write: read bounded, checked in full,
and a malformed one is exit 2 naming the file and key (a release never guesses whether a
broken stop sign meant stop).

```json
{"schema": 1, "environment": "prod", "frozen": true, "until": "2026-12-27T09:00:00Z",
 "reason": "payment provider incident", "by": {"actor": "alice", "via": "cli", "run_url": null},
 "at": "2026-12-24T18:00:00Z"}
```
`devops unfreeze` writes `frozen: false` (who and when kept; `until` and `reason` null): the file's
history is the freeze log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from devops.domain.gitops.model_errors import validated
from devops.domain.gitops.record import ReleasedBy, dump
from devops.domain.types import Bool, Int, Line, parse_timestamp

SCHEMA_VERSION = 1


class FreezeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Int = Field(SCHEMA_VERSION, alias="schema")
    environment: Line
    frozen: Bool
    until: str | None = None
    reason: Line | None = Field(None, max_length=500)
    by: ReleasedBy | None = None
    at: str | None = None

    @field_validator("until", "at")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timestamp(value)
        return value

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema {value} is not supported by this devops (expected {SCHEMA_VERSION})")
        return value

    def active(self, now: dt.datetime) -> bool:
        """Frozen, and not yet past `until`."""
        end = self.until_instant
        return self.frozen and (end is None or now < end)

    @property
    def until_instant(self) -> dt.datetime | None:
        return _instant(self.until)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(by_alias=True, mode="json")
        return data

    def to_json(self) -> str:
        return dump(self.to_dict())


def _instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse(text: str, file: str, *, environment: str | None = None) -> FreezeFile:
    """A freeze file; BadInput naming the file and the key path when malformed."""
    from devops.domain.documents import load_json

    return validate(load_json(text, file, max_depth=4), file, environment=environment)


def validate(data: Any, file: str, *, environment: str | None = None) -> FreezeFile:
    return validated(FreezeFile, data, file, environment=environment,
                     hint="fix it by hand, or run `devops freeze` / `devops unfreeze` to write it anew")
