"""A service's build identity: a content hash of everything its image is built from.

The hash covers the files Docker would send as build context (`.dockerignore` applied), each
by its git object id (the sha1 git gives those bytes as a blob: for tracked files git already
knows it, so nothing is read), the Dockerfile, the build arguments, the base image references
they resolve to with the digest each resolved to, and the target platforms. Two checkouts with
the same inputs get the same hash, so an image tagged with it never needs building again.
Reading the files is an adapter's (devops/adapters/build_inputs.py), resolving the bases a use
case's (devops/app/base_images.py); composing the hash is here, so the identity is one pure
function of what was read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devops.domain.images.reference import ResolvedBase

# v2: files by git blob id, base images with their resolved digests.
HASH_VERSION = b"devops-inputs-v2"
TAG_PREFIX = "in-"
TAG_HEX = 16


@dataclass(frozen=True)
class ContextFile:
    """One file of the build context: its path, its executable bit, and what identifies its
    content: git's blob id of its bytes (of the link target for a symbolic link), hex."""

    relative: str
    executable: bool
    content: bytes


def blob_id(data: bytes) -> bytes:
    """The object id git gives `data` as a blob (`git hash-object`), hex: equal to what
    `git ls-files -s` reports for a clean tracked file, so read and listed files agree."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest().encode()


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
class SourceSpec:
    """Where one service's inputs are: its context (absolute, and relative to the project root,
    `/`-separated), its Dockerfile relative to the context, and its build arguments."""

    context: Path
    relative: str
    dockerfile: str
    build_args: Mapping[str, str]


@dataclass(frozen=True)
class BuildInputs:
    context: Path
    dockerfile: Path
    build_args: Mapping[str, str]
    base_images: tuple[str, ...]
    files: int
    digest: str  # full sha256 hex
    # The same hash without the bases' digests: equal while only a base image moved.
    source_digest: str = ""
    bases: tuple[ResolvedBase, ...] = ()

    @property
    def tag(self) -> str:
        """The image tag that names these inputs, e.g. `in-3f2a9c0d1e4b5a6c`."""
        return f"{TAG_PREFIX}{self.digest[:TAG_HEX]}"


def identity(snapshot: InputSnapshot, build_args: Mapping[str, str], platforms: Sequence[str],
             bases: Mapping[str, ResolvedBase] | None = None) -> str:
    """The sha256 (hex) of the inputs. Versioned by HASH_VERSION: changing what goes in changes it.

    `bases` maps each of `snapshot.base_images` to what it resolved to; without it, the hash of
    the sources alone (`BuildInputs.source_digest`). A base missing from `bases` is a KeyError:
    the identity never leaves a base out silently.
    """
    digest = hashlib.sha256(HASH_VERSION + b"\0")
    for file in snapshot.files:
        digest.update(file.relative.encode() + b"\0" + (b"x" if file.executable else b"-") + file.content)
    digest.update(b"\0dockerfile\0" + snapshot.dockerfile)
    for key in sorted(build_args):
        digest.update(f"\0arg\0{key}={build_args[key]}".encode())
    for image in snapshot.base_images:
        digest.update(f"\0from\0{image}".encode())
        if bases is not None:
            digest.update(f"\0@{bases[image].identity}".encode())
    for platform in sorted(platforms):
        digest.update(f"\0platform\0{platform}".encode())
    return digest.hexdigest()


def build_inputs(context: Path, dockerfile: Path, snapshot: InputSnapshot, build_args: Mapping[str, str],
                 platforms: Sequence[str], bases: Mapping[str, ResolvedBase]) -> BuildInputs:
    """The identity of one service's inputs, with what it was computed from."""
    return BuildInputs(context, dockerfile, dict(build_args), snapshot.base_images, len(snapshot.files),
                       identity(snapshot, build_args, platforms, bases),
                       identity(snapshot, build_args, platforms),
                       tuple(bases[image] for image in snapshot.base_images))


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
