"""The `notifications:` block: where events go (Slack incoming webhooks, signed JSON webhooks),
which events and environments each channel wants, and how long a notification may take.

```yaml
notifications:
  timeout_seconds: 5        # each attempt (connect and each read)
  deadline_seconds: 10      # all attempts of one notification; the run waits at most this + timeout
  attempts: 3
  channels:
    team:
      kind: slack
      url_env: SLACK_WEBHOOK_URL          # the URL is a secret: only its variable's name here
      events: [release, promotion, rollback, verification-failed, freeze, break-glass]
      environments: [prod]                # empty: every environment, and events of none
    audit:
      kind: webhook
      url_env: AUDIT_WEBHOOK_URL
      secret_env: AUDIT_WEBHOOK_SECRET    # HMAC-SHA256 key (docs/release.md, "Notifications")
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from devops.config.base import Section, check_names
from devops.domain.notify.event import EVENTS
from devops.domain.types import EnvVar, Float, Int


class ChannelConfig(Section):
    kind: Literal["slack", "webhook"]
    url_env: EnvVar
    # webhook: the variable holding the HMAC-SHA256 key; required (an unsigned webhook could be forged).
    secret_env: EnvVar | None = None
    events: tuple[str, ...] = ()         # empty: every event
    environments: tuple[str, ...] = ()   # empty: every environment, and events about none

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in EVENTS:
                raise ValueError(f"unknown event {name!r}; known: {', '.join(EVENTS)}")
        return value

    @model_validator(mode="after")
    def _secret(self) -> ChannelConfig:
        if self.kind == "webhook" and self.secret_env is None:
            raise ValueError("a webhook channel needs secret_env (the HMAC-SHA256 key its receiver checks)")
        if self.kind == "slack" and self.secret_env is not None:
            raise ValueError("secret_env is for kind webhook; a Slack incoming webhook's URL is its secret")
        return self


class NotificationsConfig(Section):
    timeout_seconds: Annotated[Float, Field(gt=0, le=30)] = 5.0
    deadline_seconds: Annotated[Float, Field(gt=0, le=120)] = 10.0
    attempts: Annotated[Int, Field(ge=1, le=5)] = 3
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, ChannelConfig]) -> dict[str, ChannelConfig]:
        check_names(value, "team")
        return value
