"""git, through `devops.adapters.process.run`.

- `source`: the project's own repository (revision, tags, tracked files, trees at a ref);
- `runner`: git with its own environment and masked secrets (`git_run`, `GitRunner`);
- `credentials`: where a GitOps repository is and how git authenticates to it;
- `clone`: a GitOps repository cloned into a temporary folder (the repository port of
  devops/app/gitops_publish.py);
- `push`: what a refused push means (`classify_push`).

The names of `source` are importable from here, as they were from the former `git.py`.
"""

from __future__ import annotations

from devops.adapters.git.source import SEMVER_TAG, Revision, export_tree, git, is_repository, is_tracked, revision

__all__ = ["SEMVER_TAG", "Revision", "export_tree", "git", "is_repository", "is_tracked", "revision"]
