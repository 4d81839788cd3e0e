"""The `schedules:` and `cost:` blocks: when node groups run, and the prices used to report.

Owned by the cost-optimizer work (issue 6); the foundation only fixes its place in the file.
"""

from __future__ import annotations

from devops.config.base import Section


class CostConfig(Section):
    """Schedules and prices. Filled in by the cost-optimizer issue."""
