"""The `gates:` block: policies of the Trivy scan and the Sonar quality gate.

Owned by the quality-gates work (issue 4); the foundation only fixes its place in the file.
"""

from __future__ import annotations

from devops.config.base import Section


class GatesConfig(Section):
    """Gate policies. Filled in by the quality-gates issue."""
