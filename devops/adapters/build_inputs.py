"""Reading a service's build inputs from disk (or from git at a ref), for the build identity of
`devops.domain.images.identity`.

The context files are the ones Docker would send (`.dockerignore` applied with Docker's own
matching rules from docker-py); the `FROM` lines are read with dockerfile-parse, with build
arguments substituted.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from devops.domain.images.identity import ContextFile, InputSnapshot, MissingAt, external_bases
from devops.errors import BadInput


def context_files(context: Path, dockerfile: Path) -> list[str]:
    """Relative paths of the files in the build context, as Docker would send them."""
    from docker.utils.build import exclude_paths

    ignore = context / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        patterns = [
            line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    relative_dockerfile = os.path.relpath(dockerfile, context)
    included = exclude_paths(str(context), patterns, dockerfile=relative_dockerfile)
    return sorted(path for path in included if (context / path).is_file() or (context / path).is_symlink())


def base_images(dockerfile: Path, build_args: Mapping[str, str]) -> tuple[str, ...]:
    """The `FROM` images after build-argument substitution (stage names left out)."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(path=str(dockerfile), build_args=dict(build_args), cache_content=True)
    try:
        parents = parser.parent_images
    except Exception as exc:  # dockerfile-parse raises plain exceptions on odd syntax
        raise BadInput(f"{dockerfile}: cannot read the FROM lines: {exc}") from None
    return external_bases(parents, parser.structure)


def snapshot(context: Path, dockerfile: Path, build_args: Mapping[str, str]) -> InputSnapshot:
    """Read the build inputs of one service. Raises `BadInput` if folder or Dockerfile is missing."""
    if not context.is_dir():
        raise BadInput(f"{context}: service folder does not exist; fix services.<name>.path")
    if not dockerfile.is_file():
        raise BadInput(f"{dockerfile}: Dockerfile does not exist; fix services.<name>.dockerfile")
    files = []
    for relative in context_files(context, dockerfile):
        path = context / relative
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content = os.readlink(path).encode()
        else:
            content = hashlib.sha256(path.read_bytes()).digest()
        files.append(ContextFile(relative, bool(info.st_mode & stat.S_IXUSR), content))
    return InputSnapshot(tuple(files), dockerfile.read_bytes(), base_images(dockerfile, build_args))


class FileInputs:
    """The build inputs of the working tree, and of a git ref (`git archive` into a temporary folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, context: Path, dockerfile: Path, build_args: Mapping[str, str]) -> InputSnapshot:
        return snapshot(context, dockerfile, build_args)

    def read_at(self, ref: str, relative: str, dockerfile: str,
                build_args: Mapping[str, str]) -> InputSnapshot | MissingAt:
        """The inputs of the service folder `relative` (to the root) as they were at `ref`."""
        from devops.adapters.git import export_tree

        with tempfile.TemporaryDirectory(prefix="devops-plan-") as tmp:
            root = Path(tmp)
            if not export_tree(self.root, ref, relative, root):
                return MissingAt.FOLDER
            old_context = root / relative
            if not (old_context / dockerfile).is_file():
                return MissingAt.DOCKERFILE
            return snapshot(old_context, old_context / dockerfile, build_args)
