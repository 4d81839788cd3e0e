"""`Trivy.version()` remembered in the Trivy cache dir (issue 18: a scan answered from the scan
cache starts no Trivy process), with the real Trivy binary and a planted DB: asked once, asked
again when the DB or the binary changes, never answered from a memo that does not match."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from devops.adapters.trivy import VERSION_MEMO, Trivy, TrivyOptions
from tests.gates.trivydb import Advisory, build_db

ADVISORY = Advisory("CVE-2099-3001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="planted")


@pytest.fixture
def counted_trivy(tmp_path: Path, trivy_bin: str) -> tuple[Path, Path]:
    """A copy of the real binary behind a shell script that logs each call: (script, log)."""
    log = tmp_path / "calls.log"
    script = tmp_path / "bin" / "trivy"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{trivy_bin}" "$@"\n')
    script.chmod(0o755)
    log.write_text("")
    return script, log


def calls(log: Path) -> int:
    return len(log.read_text().splitlines())


def test_the_version_is_asked_once_per_binary_and_db(tmp_path: Path, counted_trivy: tuple[Path, Path]) -> None:
    script, log = counted_trivy
    cache = build_db(tmp_path / "cache", [ADVISORY], updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    def trivy() -> Trivy:
        return Trivy(TrivyOptions(binary=str(script), cache_dir=cache, offline=True))

    first = trivy().version()
    assert first.has_db and calls(log) == 1
    assert trivy().version() == first and calls(log) == 1, "answered from the memo: no process"

    # A new DB (another download) is asked again, and its answer is the new DB's.
    build_db(cache, [ADVISORY], updated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    renewed = trivy().version()
    assert calls(log) == 2 and renewed.db_updated_at != first.db_updated_at
    assert trivy().version() == renewed and calls(log) == 2

    # Another binary at the same path (an upgrade) is asked again.
    script.write_text(script.read_text() + "# upgraded\n")
    assert trivy().version() == renewed and calls(log) == 3

    # A memo that is not ours, or lies about its key, is never believed.
    memo = cache / VERSION_MEMO
    data = json.loads(memo.read_text())
    memo.write_text(json.dumps({**data, "version": {**data["version"], "version": "9.9.9"},
                                "key": {**data["key"], "trivy.db": [1, 2, 3]}}))
    assert trivy().version().version == renewed.version and calls(log) == 4
    memo.write_text("not json")
    assert trivy().version() == renewed and calls(log) == 5


def test_without_a_cache_dir_or_a_db_nothing_is_remembered_wrongly(tmp_path: Path,
                                                                   counted_trivy: tuple[Path, Path]) -> None:
    script, log = counted_trivy
    empty = tmp_path / "empty-cache"
    trivy = Trivy(TrivyOptions(binary=str(script), cache_dir=empty, offline=True))
    assert not trivy.version().has_db
    cache = build_db(tmp_path / "later", [ADVISORY])
    shutil.copytree(cache / "db", empty / "db")  # the DB arrives after the first answer
    assert trivy.version().has_db and calls(log) == 2
    # Control: Trivy's default cache dir (none configured) is asked every time.
    default = Trivy(TrivyOptions(binary=str(script), offline=True))
    default.version()
    default.version()
    assert calls(log) == 4
