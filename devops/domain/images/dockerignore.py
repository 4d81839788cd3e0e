"""Which files of a build context Docker sends: `.dockerignore` matching on a list of paths.

Docker's own rules as docker-py implements them (docker/utils/build.py and docker/utils/fnmatch.py,
Apache-2.0, "heavily based on moby's pkg/fileutils"), adapted to work on a list of file paths
(what `git ls-files` gives) instead of walking the folder: the identity then needs no file
reads and no import of the Docker SDK. tests/contract/test_dockerignore.py checks the result
against docker-py's `exclude_paths` on real folders, file for file.

The rules, as docker-py applies them: patterns are read in order and the last one that matches
decides (`!pattern` re-includes); a pattern that matches a folder matches everything in it; a
folder that is excluded is not entered at all unless a `!` pattern starts with its path; the
Dockerfile and `.dockerignore` are always sent. Matching ignores case (docker-py's fnmatch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache


def split_path(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def parse(text: str) -> list[str]:
    """The patterns of a `.dockerignore` file: one per line, blank lines and `#` comments dropped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    """docker-py's fnmatch.translate: `*` and `?` stop at `/`, `**` crosses folders."""
    i, n = 0, len(pattern)
    res = "^"
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                res += ".*" if i >= n else "(.*/)?"
            else:
                res += "[^/]*"
        elif c == "?":
            res += "[^/]"
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                res += "\\["
            else:
                stuff = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if stuff[0] == "!":
                    stuff = "^" + stuff[1:]
                elif stuff[0] == "^":
                    stuff = "\\" + stuff
                res += f"[{stuff}]"
        else:
            res += re.escape(c)
    return re.compile(res + "$")


@dataclass(frozen=True)
class _Pattern:
    exclusion: bool
    dirs: tuple[str, ...]

    @property
    def cleaned(self) -> str:
        return "/".join(self.dirs)

    @classmethod
    def of(cls, text: str) -> _Pattern:
        exclusion = text.startswith("!")
        parts = split_path((text[1:] if exclusion else text).strip())
        i = 0
        while i < len(parts):  # ".." removes the component before it (Go's filepath.Clean)
            if parts[i] == "..":
                del parts[i]
                if i > 0:
                    del parts[i - 1]
                    i -= 1
            else:
                i += 1
        return cls(exclusion, tuple(parts))

    def match(self, lowered: str) -> bool:
        """`lowered`: the path in lower case (docker-py's fnmatch ignores case)."""
        return _regex(self.cleaned.lower()).match(lowered) is not None


class Matcher:
    """The patterns of one context, with the Dockerfile and `.dockerignore` always kept."""

    def __init__(self, patterns: Sequence[str], dockerfile: str = "Dockerfile") -> None:
        found = [_Pattern.of(p) for p in [*patterns, f"!{dockerfile}", "!.dockerignore"]]
        self.patterns = [p for p in found if p.dirs]
        self._dirs: dict[str, bool] = {}

    def matches(self, path: str) -> bool:
        """Whether the patterns exclude `path` (docker-py's PatternMatcher.matches)."""
        matched = False
        lowered = path.lower()
        parent = split_path(lowered.rpartition("/")[0])
        for pattern in self.patterns:
            match = pattern.match(lowered)
            if not match and parent and len(pattern.dirs) <= len(parent):
                match = pattern.match("/".join(parent[:len(pattern.dirs)]))
            if match:
                matched = not pattern.exclusion
        return matched

    def _entered(self, folder: str) -> bool:
        """Whether Docker's walk enters `folder` (and so every folder above it)."""
        if folder not in self._dirs:
            parent = folder.rpartition("/")[0]
            entered = not parent or self._entered(parent)
            if entered and self.matches(folder):
                # An excluded folder is still entered when a `!` pattern starts with its path.
                entered = any(p.exclusion and p.cleaned.startswith(folder) for p in self.patterns)
            self._dirs[folder] = entered
        return self._dirs[folder]

    def included(self, path: str) -> bool:
        """Whether the file `path` (relative to the context, `/`-separated) is sent."""
        folder = path.rpartition("/")[0]
        return (not folder or self._entered(folder)) and not self.matches(path)

    def folder_skipped(self, folder: str) -> bool:
        """Whether nothing under `folder` can be sent (an untracked folder need not be listed)."""
        return not self._entered(folder)


def included(paths: Iterable[str], patterns: Sequence[str], dockerfile: str = "Dockerfile") -> list[str]:
    """The paths of `paths` Docker sends, sorted."""
    matcher = Matcher(patterns, dockerfile)
    return sorted(path for path in paths if matcher.included(path))
