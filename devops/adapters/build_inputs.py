"""Reading the build inputs of services for `devops.domain.images.identity`: every service at
once, from git's own object ids where git has them.

In a git repository, the working tree of every service costs two git processes whatever the
number of services and files: `git ls-files -s` (the blob id of every tracked file) and
`git ls-files -t -m -d -o --directory` (what is modified, deleted or untracked, ignored files
included: Docker sends those too unless `.dockerignore` says otherwise). Only those files are
read and hashed, as git would hash them (`blob_id`), so a dirty tree has the identity the same
tree has once committed. At a git ref (`devops plan --base`): `git rev-parse` of the ref once,
`git ls-tree -r` and one `git cat-file --batch` for the Dockerfiles and `.dockerignore` files:
three processes, no checkout, no file read. Outside git every file is read.

`.dockerignore` is applied with Docker's own rules (devops/domain/images/dockerignore.py) and
the `FROM` lines are read with dockerfile-parse, build arguments substituted. A submodule
(gitlink) counts by its commit.
"""

from __future__ import annotations

import bisect
import io
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devops.adapters.process import run
from devops.domain.images.dockerignore import Matcher, parse
from devops.domain.images.identity import ContextFile, InputSnapshot, MissingAt, SourceSpec, blob_id, external_bases
from devops.errors import BadInput, ExternalError

GITLINK = "160000"
SYMLINK = "120000"
EXECUTABLE = "100755"


_PARSED: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, ...]] = {}


def base_images(dockerfile_text: str, where: str, build_args: Mapping[str, str]) -> tuple[str, ...]:
    """The `FROM` images after build-argument substitution (stage names left out); services
    that share a Dockerfile's text and arguments share the parse."""
    key = (dockerfile_text, tuple(sorted(build_args.items())))
    if key not in _PARSED:
        _PARSED[key] = _parse_bases(dockerfile_text, where, build_args)
    return _PARSED[key]


def _parse_bases(dockerfile_text: str, where: str, build_args: Mapping[str, str]) -> tuple[str, ...]:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode("utf-8")), build_args=dict(build_args),
                              cache_content=True)
    try:
        parents = parser.parent_images
    except Exception as exc:  # dockerfile-parse raises plain exceptions on odd syntax
        raise BadInput(f"{where}: cannot read the FROM lines: {exc}") from None
    return external_bases(parents, parser.structure)


@dataclass(frozen=True)
class _Entry:
    mode: str
    oid: str


def _under(ordered: Sequence[str], prefix: str) -> Sequence[str]:
    """The paths of the sorted `ordered` that start with `prefix`, found by bisection (a
    service's files are one run of them), so N services cost N log(files), not N x files."""
    if not prefix:
        return ordered
    start = bisect.bisect_left(ordered, prefix)
    end = start
    while end < len(ordered) and ordered[end].startswith(prefix):
        end += 1
    return ordered[start:end]


def _hash_file(path: Path) -> ContextFile | None:
    """The identity of one file of the working tree; None when it is gone or not a file."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            data = os.readlink(path).encode()
        elif stat.S_ISREG(info.st_mode):
            data = path.read_bytes()
        else:
            return None
    except FileNotFoundError:
        return None
    return ContextFile("", bool(info.st_mode & stat.S_IXUSR) and not stat.S_ISLNK(info.st_mode), blob_id(data))


def _walk(folder: Path, prefix: str, matcher: Matcher) -> Iterable[str]:
    """Files under `folder` (relative to the context, `prefix` first) the way Docker's walk sees
    them: symbolic links to folders are files, excluded folders are not entered."""
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        relative = f"{prefix}{name}"
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            if not matcher.folder_skipped(relative):
                yield from _walk(path, f"{relative}/", matcher)
        else:
            yield relative


def _check_exists(source: SourceSpec) -> Path:
    if not source.context.is_dir():
        raise BadInput(f"{source.context}: service folder does not exist; fix services.<name>.path")
    dockerfile = source.context / source.dockerfile
    if not dockerfile.is_file():
        raise BadInput(f"{dockerfile}: Dockerfile does not exist; fix services.<name>.dockerfile")
    return dockerfile


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None


class FileInputs:
    """The build inputs of the working tree (and of git refs), one call for all services.

    Implements the `InputReader` port of devops/app/plan.py.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_processes = 0  # what the identity cost (tests and the benchmark count them)

    def _git(self, *args: str, check: bool = False, stdin: str | None = None) -> tuple[bool, str, str]:
        self.git_processes += 1
        result = run(["git", "-c", "core.quotePath=false", *args], cwd=self.root, check=False, timeout=300,
                     stdin=stdin, install_hint="apt-get install git")
        if check and not result.ok:
            raise ExternalError(f"git {args[0]} in {self.root}: {result.tail(1)}")
        return result.ok, result.stdout, result.stderr

    # -- the working tree -------------------------------------------------------------------

    def read(self, sources: Sequence[SourceSpec]) -> list[InputSnapshot]:
        dockerfiles = [_check_exists(source) for source in sources]
        listing = self._git_listing([s.relative for s in sources]) if sources else None
        snapshots = []
        for source, dockerfile in zip(sources, dockerfiles, strict=True):
            text = _read_text(dockerfile)
            ignore = source.context / ".dockerignore"
            matcher = Matcher(parse(_read_text(ignore)) if ignore.is_file() else [], source.dockerfile)
            if listing is None:
                files = self._files_from_disk(source.context, matcher)
            else:
                files = self._files_from_git(source, matcher, *listing)
            snapshots.append(InputSnapshot(tuple(sorted(files, key=lambda f: f.relative)), text.encode("utf-8"),
                                           base_images(text, str(dockerfile), source.build_args)))
        return snapshots

    def _git_listing(self, paths: Sequence[str],
                     ) -> tuple[dict[str, _Entry], list[str], set[str], set[str], list[str]] | None:
        """Tracked entries (and their paths, sorted), modified paths, deleted paths and untracked
        paths (sorted; folders end in `/`) under `paths`; None outside a git repository."""
        spec = ["--", *sorted({p.rstrip("/") or "." for p in paths})]
        ok, out, err = self._git("ls-files", "-s", "-z", *spec)
        if not ok:
            if "not a git repository" in err:
                return None
            raise ExternalError(f"git ls-files in {self.root}: {err.strip().splitlines()[-1:] or 'failed'}")
        tracked: dict[str, _Entry] = {}
        unmerged: set[str] = set()
        for record in out.split("\0"):
            if not record:
                continue
            head, _, path = record.partition("\t")
            mode, oid, stage = head.split(" ")
            if stage != "0":
                unmerged.add(path)  # a conflict: the working tree's file is what Docker gets
            tracked[path] = _Entry(mode, oid)
        _, out, _ = self._git("ls-files", "-z", "-t", "-m", "-d", "-o", "--directory", *spec, check=True)
        modified, deleted, others = set(unmerged), set(), []
        for record in out.split("\0"):
            if len(record) < 3:
                continue
            tag, path = record[0], record[2:]
            if tag == "R":
                deleted.add(path)
            elif tag == "C":
                modified.add(path)
            elif tag == "?":
                others.append(path)
        return tracked, sorted(tracked), modified - deleted, deleted, sorted(others)

    def _files_from_git(self, source: SourceSpec, matcher: Matcher, tracked: dict[str, _Entry],
                        tracked_order: list[str], modified: set[str], deleted: set[str],
                        others: list[str]) -> list[ContextFile]:
        prefix = "" if source.relative in ("", ".") else source.relative.rstrip("/") + "/"
        files = []
        for path in _under(tracked_order, prefix):
            entry = tracked[path]
            if path in deleted:
                continue
            relative = path[len(prefix):]
            if not matcher.included(relative):
                continue
            if path in modified and entry.mode != GITLINK:
                found = _hash_file(self.root / path)
                if found is not None:
                    files.append(ContextFile(relative, found.executable, found.content))
                continue
            files.append(ContextFile(relative, entry.mode == EXECUTABLE, entry.oid.encode()))
        for path in _under(others, prefix):
            relative = path[len(prefix):]
            if relative.endswith("/"):
                folder = relative.rstrip("/")
                if not matcher.folder_skipped(folder):
                    for inner in _walk(self.root / path, relative, matcher):
                        self._add_from_disk(files, source.context, inner, matcher)
            else:
                self._add_from_disk(files, source.context, relative, matcher)
        return files

    @staticmethod
    def _add_from_disk(files: list[ContextFile], context: Path, relative: str, matcher: Matcher) -> None:
        if matcher.included(relative):
            found = _hash_file(context / relative)
            if found is not None:
                files.append(ContextFile(relative, found.executable, found.content))

    def _files_from_disk(self, context: Path, matcher: Matcher) -> list[ContextFile]:
        files: list[ContextFile] = []
        for relative in _walk(context, "", matcher):
            self._add_from_disk(files, context, relative, matcher)
        return files

    # -- a git ref ---------------------------------------------------------------------------

    def read_at(self, ref: str, sources: Sequence[SourceSpec]) -> list[InputSnapshot | MissingAt]:
        ok, _, _ = self._git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
        if not ok:
            raise BadInput(f"--base {ref}: not a commit in {self.root}; "
                           "fetch it first (actions/checkout fetch-depth: 0)")
        spec = sorted({s.relative.rstrip("/") or "." for s in sources})
        _, out, _ = self._git("ls-tree", "-r", "-z", ref, "--", *spec, check=True)
        entries: dict[str, _Entry] = {}
        for record in out.split("\0"):
            if record:
                head, _, path = record.partition("\t")
                mode, _kind, oid = head.split(" ")
                entries[path] = _Entry(mode, oid)
        ordered = sorted(entries)
        prefixes = ["" if s.relative in ("", ".") else s.relative.rstrip("/") + "/" for s in sources]
        wanted: list[str] = []
        for source, prefix in zip(sources, prefixes, strict=True):
            for name in (source.dockerfile, ".dockerignore"):
                entry = entries.get(prefix + name)
                if entry is not None and entry.mode not in (GITLINK, SYMLINK):
                    wanted.append(entry.oid)
        blobs = self._cat_blobs(wanted)
        result: list[InputSnapshot | MissingAt] = []
        for source, prefix in zip(sources, prefixes, strict=True):
            mine = {path[len(prefix):]: entries[path] for path in _under(ordered, prefix)}
            if not mine:
                result.append(MissingAt.FOLDER)
                continue
            dockerfile = mine.get(source.dockerfile)
            if dockerfile is None or dockerfile.oid not in blobs:
                result.append(MissingAt.DOCKERFILE)
                continue
            ignore = mine.get(".dockerignore")
            patterns = parse(blobs[ignore.oid].decode("utf-8", "replace")) if ignore and ignore.oid in blobs else []
            matcher = Matcher(patterns, source.dockerfile)
            files = [ContextFile(relative, e.mode == EXECUTABLE, e.oid.encode())
                     for relative, e in sorted(mine.items()) if matcher.included(relative)]
            text = blobs[dockerfile.oid].decode("utf-8", "replace")
            where = f"{ref}:{prefix}{source.dockerfile}"
            result.append(InputSnapshot(tuple(files), text.encode("utf-8"),
                                        base_images(text, where, source.build_args)))
        return result

    def _cat_blobs(self, oids: Sequence[str]) -> dict[str, bytes]:
        """The contents of text blobs (Dockerfiles, `.dockerignore`), one `git cat-file --batch`
        for all. A blob that is not UTF-8 does not come back intact through the text pipe: its
        id no longer matches and it is refused."""
        unique = sorted(set(oids))
        if not unique:
            return {}
        _, out, _ = self._git("cat-file", "--batch", stdin="\n".join(unique) + "\n", check=True)
        data = out.encode("utf-8")
        blobs: dict[str, bytes] = {}
        position = 0
        while position < len(data):
            end = data.index(b"\n", position)
            header = data[position:end].decode().split(" ")
            position = end + 1
            if len(header) == 3:
                size = int(header[2])
                blobs[header[0]] = data[position:position + size]
                position += size + 1
        for oid, content in blobs.items():
            if blob_id(content).decode() != oid:
                raise BadInput(f"git object {oid} (a Dockerfile or .dockerignore in {self.root}) is not UTF-8 text")
        return blobs
