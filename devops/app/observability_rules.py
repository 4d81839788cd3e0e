"""`devops observability rules` as a use case: write, or check, the SLO rule file generated from
the objectives (devops/domain/observability/rules.py). The results are the command's `--json`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel

from devops.domain.observability.rules import compare, render_slo_rules
from devops.domain.observability.slo import SloDefinitions, objectives
from devops.errors import BadInput


class RulesWritten(BaseModel):
    """The rule file was written (or already said the same)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(description="The rule file, relative to the project root when inside it.")
    changed: bool = Field(description="False when the file already held exactly this text.")
    objectives: int = Field(description="How many objectives (service x availability/latency) it encodes.")


class RulesChecked(BaseModel):
    """`--check`: whether the committed file is what the configuration generates (exit 1 if not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(description="The rule file, relative to the project root when inside it.")
    exists: bool
    up_to_date: bool


class RulesResult(RootModel[RulesWritten | RulesChecked]):
    """`devops observability rules --json`: RulesWritten, or RulesChecked with `--check`."""

    model_config = ConfigDict(frozen=True)


def check_rules(definitions: SloDefinitions, path: Path, shown: str) -> RulesChecked:
    """Compare the file at `path` with what `definitions` generate; write nothing."""
    generated = render_slo_rules(definitions)   # an impossible objective is refused first
    try:
        committed = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{shown}: cannot read: {exc}") from None
    drift = compare(committed, generated, shown)
    return RulesChecked(path=shown, exists=drift.exists, up_to_date=drift.matches)


def write_rules(definitions: SloDefinitions, path: Path, shown: str) -> RulesWritten:
    """Write the rule file when its text changes (its folder created); BadInput when it cannot be."""
    generated = render_slo_rules(definitions)
    try:
        previous = path.read_text(encoding="utf-8") if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        if previous != generated:
            path.write_text(generated, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{shown}: cannot write: {exc}") from None
    return RulesWritten(path=shown, changed=previous != generated, objectives=len(objectives(definitions)))
