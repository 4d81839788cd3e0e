"""A configuration in memory for use-case tests: no file, no environment, nothing on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devops.config.model import Config

ROOT = Path("/project")


def make_config(root: Path = ROOT, *, services: tuple[str, ...] = ("alpha", "beta"), **sections: Any) -> Config:
    data: dict[str, Any] = {
        "project": "shop",
        "registry": {"host": "registry.test", "namespace": "acme",
                     "push": {"attempts": 3, "backoff_seconds": 1, "max_backoff_seconds": 4, "deadline_seconds": 60}},
        "services": {name: {"path": f"services/{name}", "port": 8000 + i, "language": "other"}
                     for i, name in enumerate(services)},
        "environments": {"dev": {"url": "https://dev.example.com", "cluster": {"name": "dev"},
                                 "gitops": {"path": "gitops/environments/dev"}}},
    }
    data.update(sections)
    return Config.model_validate(data).bind(root / "pipelines" / "devops.yaml", root)
