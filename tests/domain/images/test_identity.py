"""The build identity composed from what was read: every input counts, nothing else does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from devops.domain.images.identity import (
    TAG_PREFIX,
    ContextFile,
    InputSnapshot,
    blob_id,
    build_inputs,
    external_bases,
    identity,
    stage_names,
)
from devops.domain.images.reference import BaseSource, ResolvedBase

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


BASES = {"debian": ResolvedBase("debian", "sha256:" + "1" * 64, BaseSource.REGISTRY)}


def test_build_inputs_carry_what_the_identity_was_computed_from() -> None:
    inputs = build_inputs(Path("/src/alpha"), Path("/src/alpha/Dockerfile"), SNAPSHOT, {"A": "1"}, (), BASES)
    assert inputs.files == 2 and inputs.base_images == ("debian",) and inputs.build_args == {"A": "1"}
    assert inputs.tag == TAG_PREFIX + inputs.digest[:16]
    assert inputs.digest == identity(SNAPSHOT, {"A": "1"}, (), BASES)
    assert inputs.source_digest == identity(SNAPSHOT, {"A": "1"}, ()) != inputs.digest
    assert inputs.bases == (BASES["debian"],)


def test_the_digest_a_base_resolved_to_counts_and_how_it_was_found() -> None:
    registry = identity(SNAPSHOT, {}, (), BASES)
    moved = {"debian": ResolvedBase("debian", "sha256:" + "2" * 64, BaseSource.REGISTRY)}
    local = {"debian": ResolvedBase("debian", "sha256:" + "1" * 64, BaseSource.LOCAL)}
    assert len({registry, identity(SNAPSHOT, {}, (), moved), identity(SNAPSHOT, {}, (), local)}) == 3
    assert identity(SNAPSHOT, {}, (), dict(BASES)) == registry  # control
    with pytest.raises(KeyError):  # a base without a resolution is never left out
        identity(SNAPSHOT, {}, (), {})


def test_a_file_counts_by_git_blob_id() -> None:
    assert blob_id(b"") == b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # `git hash-object /dev/null`
    assert blob_id(b"hello\n") == b"ce013625030ba8dba906f756967f9e9ca394464a"


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
