"""The files of a clone's tip read from git's object database, without a checkout (issue 18).

A GitOps clone is made with `--no-checkout`: `devops status` over 20 environments reads a
record and a values file per service from it, and writing 2 000 files to a work tree and
removing them again cost more than reading them. `git ls-tree -r -z -l` lists the tip once
(mode, blob id, size per path); `git cat-file --batch` reads the blobs of a folder in one
process. The work tree is checked out only where a publish writes (devops/adapters/git/clone.py).

The same paths are refused here as in the work tree (`inside_clone`): not a plain relative path
inside the repository and outside `.git`, or going through a symlink (mode 120000) anywhere on
its way; a folder or a submodule where a file belongs cannot be read.
"""

from __future__ import annotations

import posixpath

from devops.adapters.git.runner import GitRunner
from devops.domain import documents
from devops.errors import BadInput, ExternalError

SYMLINK, SUBMODULE = "120000", "160000"


class TipFiles:
    """The files of one commit, listed once, blobs read in batches and kept."""

    def __init__(self, git: GitRunner, commit: str, shown: str) -> None:
        self._git, self.commit, self.shown = git, commit, shown
        self._entries: dict[str, tuple[str, str, int]] | None = None  # path -> (mode, blob id, size)
        self._folders: set[str] = set()
        self._blobs: dict[str, bytes] = {}
        self.blobs_read = 0  # files read from the object database (tests count them)

    def _listing(self) -> dict[str, tuple[str, str, int]]:
        if self._entries is None:
            out = self._git("ls-tree", "-r", "-z", "-l", "--full-tree", self.commit, binary=True).data
            entries: dict[str, tuple[str, str, int]] = {}
            for record in out.split(b"\0"):
                if not record:
                    continue
                meta, _, raw = record.partition(b"\t")
                mode, _kind, oid, size = meta.decode().split()
                path = raw.decode("utf-8", errors="surrogateescape")
                entries[path] = (mode, oid, int(size) if size.isdigit() else 0)
                parts = path.split("/")
                self._folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            self._entries = entries
        return self._entries

    def check(self, relative: str, key: str) -> str:
        """`relative` normalised; BadInput (exit 2) as `inside_clone` refuses it."""
        normal = posixpath.normpath(relative)
        parts = normal.split("/")
        if relative.startswith("/") or normal in (".", "") or parts[0] in ("..", ".git"):
            raise BadInput(f"{key}: {relative} is not a path inside the GitOps repository")
        entries = self._listing()
        for depth in range(1, len(parts) + 1):
            found = entries.get("/".join(parts[:depth]))
            if found is not None and found[0] == SYMLINK:
                raise BadInput(f"{key}: {relative} goes through a symlink (committed in the repository); "
                               "refusing to read or write it",
                               hint="GitOps paths must be plain files and folders of the repository, not symlinks")
        return normal

    def prefetch(self, folder: str, key: str) -> None:
        """Read every file under `folder` (an environment's) in one `git cat-file --batch`."""
        prefix = self.check(folder, key).rstrip("/") + "/"
        wanted = [path for path, (mode, _oid, size) in self._listing().items()
                  if path.startswith(prefix) and path not in self._blobs and mode not in (SYMLINK, SUBMODULE)
                  and size <= documents.MAX_BYTES]
        self._read(wanted)

    def read(self, relative: str, key: str) -> bytes | None:
        """The bytes of the file at `relative`; None when there is none."""
        path = self.check(relative, key)
        if path in self._folders or self._listing().get(path, ("",))[0] == SUBMODULE:
            raise BadInput(f"{self.shown}: {relative}: cannot read: a folder, not a file")
        if path not in self._listing():
            return None
        if path not in self._blobs:
            self._read([path])
        return self._blobs[path]

    def _read(self, paths: list[str]) -> None:
        if not paths:
            return
        entries = self._listing()
        oids = [entries[path][1] for path in paths]
        out = self._git("cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in oids), binary=True).data
        at = 0
        for path, oid in zip(paths, oids, strict=True):
            end = out.index(b"\n", at)
            header = out[at:end].split()
            if len(header) != 3 or header[0].decode() != oid:
                raise ExternalError(f"git cat-file answered {out[at:end][:80]!r} for {path} in {self.shown}")
            size = int(header[2])
            self._blobs[path] = out[end + 1:end + 1 + size]
            at = end + 1 + size + 1
            self.blobs_read += 1
