"""`@json_result`: a command's `--json` model, named by import path so `devops --help` stays light."""

from __future__ import annotations

import click

from devops.app.config_check import ConfigSummary
from devops.cli.results import json_result, result_model


def test_a_model_named_by_path_or_given_as_a_class() -> None:
    by_path = json_result("devops.app.config_check:ConfigSummary")(click.Command("a"))
    by_class = json_result(ConfigSummary)(click.Command("b"))
    assert result_model(by_path) is result_model(by_class) is ConfigSummary
    assert result_model(click.Command("none")) is None
