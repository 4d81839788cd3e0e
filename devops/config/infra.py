"""The `infra:` block: Terraform state backend and the environments' Terraform roots.

Owned by the Terraform work (issue 7); the foundation only fixes its place in the file.
"""

from __future__ import annotations

from devops.config.base import Section


class InfraConfig(Section):
    """Terraform settings. Filled in by the infra issue."""
