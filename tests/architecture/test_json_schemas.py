"""Every `--json` result is a pydantic model with a published JSON Schema (docs/schemas/).

The tests' `run_cli` helpers validate every `--json` output they see against these schemas
(tests/support/cli.py), so a result that drifts from its model fails the suite.
"""

from __future__ import annotations

from devops.cli import schemas
from devops.cli.results import result_model

# Commands whose result is not a model yet (issue 15 empties this list).
WITHOUT_MODEL: set[str] = set()


def test_every_json_command_declares_its_result_model() -> None:
    missing = {" ".join(path) for path, command in schemas.commands_with_json() if result_model(command) is None}
    assert not missing - WITHOUT_MODEL, f"declare @json_result(Model) on: {sorted(missing - WITHOUT_MODEL)}"
    assert not WITHOUT_MODEL - missing, f"remove from WITHOUT_MODEL: {sorted(WITHOUT_MODEL - missing)}"


def test_published_schemas_are_up_to_date() -> None:
    assert schemas.main(["--check"]) == 0, "run python -m devops.cli.schemas"
