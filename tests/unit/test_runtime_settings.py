"""The environment snapshot the wiring reads once."""

from __future__ import annotations

from devops.wiring.settings import RuntimeSettings


def test_values_are_read_from_the_snapshot_not_the_process() -> None:
    settings = RuntimeSettings.from_environ({"SONAR_TOKEN": "s", "EMPTY": "", "GITHUB_ACTIONS": "true"})
    assert settings.get("SONAR_TOKEN") == "s"
    assert settings.get("EMPTY") is None and settings.get("MISSING") is None and settings.get(None) is None
    assert settings.in_github_actions and not settings.in_ci


def test_the_snapshot_cannot_be_changed() -> None:
    source = {"A": "1"}
    settings = RuntimeSettings.from_environ(source)
    source["A"] = "2"
    assert settings.get("A") == "1"
    try:
        settings.environ["A"] = "3"  # type: ignore[index]
    except TypeError:
        pass
    assert settings.get("A") == "1"
