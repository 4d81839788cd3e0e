"""Trivy's version and DB dates, remembered in its cache dir (devops/adapters/trivy.py::Trivy.version):
keyed by the binary's and the DB files' size, mtime and inode, so a new binary or DB is asked again
and every other run saves the `trivy version` process."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from devops.domain.gates.scan import TrivyVersion

VERSION_MEMO = "devops-trivy-version.json"  # in the Trivy cache dir: see Trivy.version


def identity(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def read_memo(memo: Path, key: dict[str, object]) -> TrivyVersion | None:
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        found = data["version"]
        db_version = found["db_version"]
        return TrivyVersion(version=str(found["version"]),
                            db_version=None if db_version is None else int(db_version),
                            db_updated_at=str(found["db_updated_at"]), db_downloaded_at=str(found["db_downloaded_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no memo, or not one we wrote: ask Trivy


def write_memo(memo: Path, key: dict[str, object], version: TrivyVersion) -> None:
    data = {"key": key, "version": {"version": version.version, "db_version": version.db_version,
                                    "db_updated_at": version.db_updated_at,
                                    "db_downloaded_at": version.db_downloaded_at}}
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=memo.parent, prefix=".devops-version-", delete=False) as out:
            json.dump(data, out)
        os.replace(out.name, memo)
    except OSError:
        pass  # only a memo: the next run asks Trivy again
