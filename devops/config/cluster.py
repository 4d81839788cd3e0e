"""The `cluster:` block: how `devops cluster values|bootstrap|status` find the platform in the
GitOps repository and talk to the cluster's Kubernetes API (docs/platform.md).

```yaml
cluster:
  gitops_root: gitops            # in the GitOps repository: apps/, bootstrap/, platform/
  argocd_namespace: argocd
  field_manager: devops          # server-side apply's field manager
  chart_cache: .devops/charts    # chart archives <chart>-<version>.tgz: read first, pulled into
  request_timeout_seconds: 30    # one Kubernetes API request
  crd_wait_seconds: 60           # how long bootstrap waits for the CRDs it applied to be served
```

The autoscaler of an environment is `environments.<env>.cluster.autoscaler` (devops/config/model.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from devops.config.base import Section
from devops.domain.types import MachinePath, RepoPath, Seconds

# A Kubernetes namespace name (a DNS label).
NAMESPACE = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# Server-side apply's field manager: printable, no slash-free restrictions beyond a line.
FIELD_MANAGER = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class ClusterConfig(Section):
    """Where the platform lives in the GitOps repository and how the cluster commands apply it."""

    gitops_root: RepoPath = "gitops"
    argocd_namespace: Annotated[str, Field(pattern=NAMESPACE)] = "argocd"
    field_manager: Annotated[str, Field(pattern=FIELD_MANAGER)] = "devops"
    chart_cache: MachinePath = ".devops/charts"
    request_timeout_seconds: Annotated[Seconds, Field(le=600)] = 30.0
    crd_wait_seconds: Annotated[Seconds, Field(le=1800)] = 60.0

    def path(self, relative: str) -> str:
        """`relative` inside the GitOps repository's platform folder (`gitops_root`)."""
        return f"{self.gitops_root.strip('/')}/{relative}"
