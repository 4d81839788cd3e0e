"""docs/cli.md's reference is generated from the click commands and must match them."""

from __future__ import annotations

from devops.cli import reference


def test_the_committed_reference_matches_the_commands() -> None:
    current = reference.DOC.read_text(encoding="utf-8")
    assert current == reference.updated(current, reference.render()), (
        "docs/cli.md is stale: run python -m devops.cli.reference")


def test_every_command_and_option_is_in_it() -> None:
    text = reference.render()
    for title in ("### `devops release`", "### `devops verify`", "### `devops cost schedule`",
                  "### `devops infra plan`", "### `devops gitops set-image`"):
        assert title in text
    assert "`--prometheus-url URL`" in text and "`--record / --no-record`" in text


def test_a_changed_option_makes_the_reference_stale() -> None:
    """The check can fail: a reference rendered before an option changed differs."""
    current = reference.DOC.read_text(encoding="utf-8")
    edited = current.replace("`--prometheus-url URL`", "`--prometheus URL`")
    assert edited != current
    assert reference.updated(edited, reference.render()) != edited
