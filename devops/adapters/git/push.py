"""What a failed `git push` said: a `PushRejection` (kind, whether another try can help).

git, GitHub and GitLab word their refusals differently; this table is the one place that knows
them (docs/gitops-engine.md, "Compare-and-swap pushes"; tests/gitops/test_push_rejections.py).
"""

from __future__ import annotations

import re

from devops.domain.gitops.repository import PushRejection

# First match wins: the refusals that no retry fixes come first, because the same output also
# carries generic "failed to push" lines.
PUSH_REJECTIONS: tuple[tuple[re.Pattern[str], str, bool, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, retryable, reason)
    for pattern, kind, retryable, reason in (
        # GitHub branch protection (GH006 / GH013 rulesets): a person must merge, no retry helps.
        (r"protected branch hook declined|GH006: Protected branch|GH013: Repository rule violations",
         "denied", False, "the branch is protected on GitHub; use mode: pull-request"),
        # GitLab protected branches and server-side hooks.
        (r"You are not allowed to push code to protected branches|not allowed to push code",
         "denied", False, "the branch is protected on GitLab; use mode: pull-request"),
        (r"\(pre-receive hook declined\)|\(hook declined\)|\(update hook declined\)",
         "denied", False, "a server-side hook refused the push"),
        (r"shallow update not allowed", "denied", False,
         "the remote refuses pushes from a shallow clone"),
        (r"branch is currently checked out|refusing to update checked out branch", "denied", False,
         "the remote is a work tree with that branch checked out; use a bare repository"),
        (r"Authentication failed|could not read Username|Permission denied|HTTP Basic: Access denied|"
         r"The requested URL returned error: 40[13]|Write access to repository not granted",
         "auth", False, "the credentials were refused"),
        # Someone else's push landed first: fetch, re-apply, push again.
        (r"\(fetch first\)|\(non-fast-forward\)|\(stale info\)|"
         r"Updates were rejected because the remote contains work|"
         r"Updates were rejected because the tip of your current branch is behind",
         "race", True, "the remote branch moved"),
        # The ref moved while the server was accepting our push (GitHub: "cannot lock ref").
        (r"cannot lock ref|failed to update ref|incorrect old value provided|"
         r"failed to lock|remote rejected\].*\(Internal Server Error\)|fatal error in commit_refs",
         "race", True, "the remote branch moved while we pushed"),
        # Network trouble: the push may or may not have landed; the next attempt finds out.
        (r"Could not resolve host|Connection refused|Connection timed out|Connection reset|"
         r"the remote end hung up unexpectedly|The requested URL returned error: 5\d\d|"
         r"early EOF|RPC failed",
         "unreachable", True, "the remote could not be reached"),
        (r"does not appear to be a git repository|repository '.*' not found|Repository not found",
         "unreachable", False, "the remote repository does not exist"),
    )
)


def classify_push(output: str, detail: str = "") -> PushRejection:
    """What a failed `git push` said, as a kind and whether a retry can help."""
    for pattern, kind, retryable, reason in PUSH_REJECTIONS:
        if pattern.search(output):
            return PushRejection(kind, retryable, reason, detail)
    return PushRejection("unknown", False, "git push failed", detail)
