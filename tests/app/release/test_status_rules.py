"""`devops status` rules on an in-memory GitOps repository: what each column may claim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devops.app.status import environment_status
from devops.domain.gitops.change import ImageRef
from devops.domain.gitops.record import validate

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


class FakeRepo:
    def __init__(self, digest: str, entry: dict[str, Any]) -> None:
        self.commit = "c" * 40
        self._digest, self._entry = digest, entry

    def read_values(self, service: str) -> ImageRef | None:
        return ImageRef("127.0.0.1:5000/t/alpha", "v1", self._digest)

    def read_record(self) -> Any:
        return validate({"schema": 1, "environment": "dev", "services": {"alpha": self._entry}}, "release.json")


class Steps:
    def __init__(self, repo: FakeRepo) -> None:
        self.repo = repo

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[FakeRepo]:
        yield self.repo


def entry(verified_digest: str | None) -> dict[str, Any]:
    verification: dict[str, Any] = {"verdict": "PASSED", "verified_at": "2026-12-01T11:00:00Z", "environment": "dev"}
    if verified_digest is not None:
        verification["digest"] = verified_digest
    return {"repository": "127.0.0.1:5000/t/alpha", "tag": "v1", "digest": DIGEST,
            "scan": {"verdict": "PASSED"}, "verification": verification}


def verification_shown(verified_digest: str | None) -> str:
    [env] = environment_status(["dev"], {}, ["alpha"], Steps(FakeRepo(DIGEST, entry(verified_digest))), now=NOW)
    return env.services[0].verification


def test_a_verification_is_shown_for_the_digest_it_names() -> None:
    assert verification_shown(DIGEST) == "PASSED"


def test_a_verification_of_another_digest_or_of_none_is_not_shown() -> None:
    assert verification_shown(OTHER) == ""
    assert verification_shown(None) == ""
