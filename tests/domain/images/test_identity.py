"""The build identity composed from what was read: every input counts, nothing else does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from devops.domain.images.identity import (
    TAG_PREFIX,
    ContextFile,
    InputSnapshot,
    build_inputs,
    external_bases,
    identity,
    stage_names,
)

SNAPSHOT = InputSnapshot((ContextFile("app.py", False, b"\x01" * 32), ContextFile("run.sh", True, b"\x02" * 32)),
                         b"FROM debian\n", ("debian",))


def test_the_same_inputs_give_the_same_identity_and_each_input_counts() -> None:
    base = identity(SNAPSHOT, {"A": "1"}, ["linux/amd64"])
    assert identity(SNAPSHOT, {"A": "1"}, ["linux/amd64"]) == base and len(base) == 64
    changed = [
        replace(SNAPSHOT, files=(ContextFile("app.py", False, b"\x03" * 32), SNAPSHOT.files[1])),  # content
        replace(SNAPSHOT, files=(ContextFile("app.py", True, b"\x01" * 32), SNAPSHOT.files[1])),  # mode
        replace(SNAPSHOT, files=(ContextFile("other.py", False, b"\x01" * 32), SNAPSHOT.files[1])),  # name
        replace(SNAPSHOT, files=SNAPSHOT.files[:1]),  # a file less
        replace(SNAPSHOT, dockerfile=b"FROM debian:12\n"),
        replace(SNAPSHOT, base_images=("debian:12",)),
    ]
    assert len({identity(s, {"A": "1"}, ["linux/amd64"]) for s in changed} | {base}) == len(changed) + 1
    assert identity(SNAPSHOT, {"A": "2"}, ["linux/amd64"]) != base
    assert identity(SNAPSHOT, {"A": "1", "B": ""}, ["linux/amd64"]) != base
    assert identity(SNAPSHOT, {"A": "1"}, ["linux/arm64"]) != base
    assert identity(SNAPSHOT, {"A": "1"}, []) != base


def test_order_of_arguments_and_platforms_does_not_count() -> None:
    assert identity(SNAPSHOT, {"A": "1", "B": "2"}, ["linux/arm64", "linux/amd64"]) == \
        identity(SNAPSHOT, {"B": "2", "A": "1"}, ["linux/amd64", "linux/arm64"])


def test_build_inputs_carry_what_the_identity_was_computed_from() -> None:
    inputs = build_inputs(Path("/src/alpha"), Path("/src/alpha/Dockerfile"), SNAPSHOT, {"A": "1"}, ())
    assert inputs.files == 2 and inputs.base_images == ("debian",) and inputs.build_args == {"A": "1"}
    assert inputs.tag == TAG_PREFIX + inputs.digest[:16]
    assert inputs.digest == identity(SNAPSHOT, {"A": "1"}, ())


def test_stages_are_not_base_images() -> None:
    structure = [
        {"instruction": "ARG", "value": "NODE=node:20"},
        {"instruction": "FROM", "value": "${NODE} AS Build"},
        {"instruction": "RUN", "value": "npm ci"},
        {"instruction": "from", "value": "nginx:1.27"},  # no AS
        {"instruction": "FROM", "value": "build as final"},
        {"instruction": "FROM", "value": "scratch"},
    ]
    assert stage_names(structure) == ["Build", "final"]
    assert external_bases(["node:20", "nginx:1.27", "build", "scratch"], structure) == ("node:20", "nginx:1.27",
                                                                                        "scratch")
