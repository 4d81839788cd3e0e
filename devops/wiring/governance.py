"""Release governance wired from the configuration: the freeze policy of an environment (its
calendars), what a promotion accepts, the notifier, and the steps of `devops freeze`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from devops.app.release_run import Governance
from devops.config import Config
from devops.domain.release.freeze import FreezePolicy
from devops.report.console import Reporter
from devops.wiring.notify import notifier
from devops.wiring.release import evidence_policy
from devops.wiring.settings import RuntimeSettings


def freeze_policy(config: Config, environment: str) -> FreezePolicy:
    """`environments.<environment>.freeze` with its calendars built (their iCalendar files read)."""
    block = config.environment(environment).freeze
    return FreezePolicy(environment, tuple(config.calendar(name) for name in block.calendars), block.holidays)


def governance(config: Config, settings: RuntimeSettings, reporter: Reporter, environment: str,
               clock: Callable[[], dt.datetime]) -> Governance:
    signatures = None
    if config.environment(environment).promote_from:  # signatures are checked on promotion only
        from devops.wiring.signatures import signature_gate

        signatures = signature_gate(config, environment, settings)
    return Governance(evidence=evidence_policy(config, environment), freezes=freeze_policy(config, environment),
                      notifier=notifier(config, settings, reporter), clock=clock, warn=reporter.warn,
                      signatures=signatures)
