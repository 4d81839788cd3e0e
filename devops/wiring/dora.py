"""The outside world of `devops report dora`: the environment's GitOps repository (history and
records only; nothing is written). Use case: devops/app/dora.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from devops.config import Config
from devops.wiring.gitops import open_gitops
from devops.wiring.settings import RuntimeSettings

if TYPE_CHECKING:
    from devops.app.gitops_publish import GitOpsSession


class CliDoraSteps:
    def __init__(self, config: Config, settings: RuntimeSettings) -> None:
        self.config = config
        self.settings = settings

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        with open_gitops(self.config, environment, self.settings) as repo:
            yield repo
