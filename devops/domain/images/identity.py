"""A service's build identity: a content hash of everything its image is built from.

The hash covers the files Docker would send as build context (`.dockerignore` applied), the
Dockerfile, the build arguments, the base image references they resolve to, and the target
platforms. Two checkouts with the same inputs get the same hash, so an image tagged with it
never needs building again. Reading the files is an adapter's (devops/adapters/build_inputs.py);
composing the hash is here, so the identity is one pure function of what was read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

HASH_VERSION = b"devops-inputs-v1"
TAG_PREFIX = "in-"
TAG_HEX = 16


@dataclass(frozen=True)
class ContextFile:
    """One file of the build context: its path, its executable bit, and what identifies its
    content (the sha256 of its bytes, or a symbolic link's target)."""

    relative: str
    executable: bool
    content: bytes


@dataclass(frozen=True)
class InputSnapshot:
    """What was read of a service's build inputs: context files (sorted), the Dockerfile's bytes,
    and the `FROM` images after build-argument substitution (stage names left out)."""

    files: tuple[ContextFile, ...]
    dockerfile: bytes
    base_images: tuple[str, ...]


class MissingAt(StrEnum):
    """Why a service has no inputs at a git ref: the folder or its Dockerfile did not exist."""

    FOLDER = "folder"
    DOCKERFILE = "dockerfile"


@dataclass(frozen=True)
class BuildInputs:
    context: Path
    dockerfile: Path
    build_args: Mapping[str, str]
    base_images: tuple[str, ...]
    files: int
    digest: str  # full sha256 hex

    @property
    def tag(self) -> str:
        """The image tag that names these inputs, e.g. `in-3f2a9c0d1e4b5a6c`."""
        return f"{TAG_PREFIX}{self.digest[:TAG_HEX]}"


def identity(snapshot: InputSnapshot, build_args: Mapping[str, str], platforms: Sequence[str]) -> str:
    """The sha256 (hex) of the inputs. Versioned by HASH_VERSION: changing what goes in changes it."""
    digest = hashlib.sha256(HASH_VERSION + b"\0")
    for file in snapshot.files:
        digest.update(file.relative.encode() + b"\0" + (b"x" if file.executable else b"-") + file.content)
    digest.update(b"\0dockerfile\0" + snapshot.dockerfile)
    for key in sorted(build_args):
        digest.update(f"\0arg\0{key}={build_args[key]}".encode())
    for image in snapshot.base_images:
        digest.update(f"\0from\0{image}".encode())
    for platform in sorted(platforms):
        digest.update(f"\0platform\0{platform}".encode())
    return digest.hexdigest()


def build_inputs(context: Path, dockerfile: Path, snapshot: InputSnapshot, build_args: Mapping[str, str],
                 platforms: Sequence[str]) -> BuildInputs:
    """The identity of one service's inputs, with what it was computed from."""
    return BuildInputs(context, dockerfile, dict(build_args), snapshot.base_images, len(snapshot.files),
                       identity(snapshot, build_args, platforms))


def stage_names(structure: Iterable[Mapping[str, object]]) -> list[str]:
    """The `AS name` of every `FROM` instruction (dockerfile-parse's `structure`)."""
    names = []
    for instruction in structure:
        if str(instruction.get("instruction", "")).upper() == "FROM":
            words = str(instruction.get("value", "")).split()
            if len(words) >= 3 and words[-2].lower() == "as":
                names.append(words[-1])
    return names


def external_bases(parents: Sequence[str], structure: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    """The parent images that are images, not earlier stages (`FROM build AS run` names a stage)."""
    stages = {stage.lower() for stage in stage_names(structure)}
    return tuple(image for image in parents if image.lower() not in stages)
