"""What counts as production: the one definition every rule uses (cost schedules never scale
it unless told; infra protects it; promotions go to it).

A name is production when one of its words is `prod`, `production` or `prd`: `prod`,
`shop-prod`, `techitfactory-production-eks`, `prd_eu`; not `product`, `preprod` or `reproduce`
(one word each). Words are split on `-`, `_`, `.` and `/`, case-insensitively.
"""

from __future__ import annotations

import re

PRODUCTION_WORDS = frozenset({"prod", "production", "prd"})
_WORD_BREAK = re.compile(r"[-_./]")


def is_production_name(name: str) -> bool:
    """True when any word of `name` (an environment, a label, a cluster name) says production."""
    return any(word.lower() in PRODUCTION_WORDS for word in _WORD_BREAK.split(name))


def is_production(environment: str, *, cluster: str | None = None, label: str | None = None,
                  declared: bool | None = None) -> bool:
    """An environment is production when it says so (`declared`), else when its name, its
    cluster's name or its label does."""
    if declared is not None:
        return declared
    return any(is_production_name(name) for name in (environment, cluster or "", label or "") if name)
