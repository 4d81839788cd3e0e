"""The base every configuration model derives from: frozen, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A block of `pipelines/devops.yaml`. Frozen so steps cannot change what was validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
