"""Scan results cached by (image ID, Trivy + DB version, policy hash): a folder of JSON files.

A hit returns Trivy's raw report, and the policy is applied again: that is cheap, and it
means an ignore entry that expired since the scan stops suppressing even on a cache hit. A
cache entry that cannot be read is a miss (and is overwritten), never an error or a pass.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from devops.domain.gates.scan import CacheEntry, CacheKey

__all__ = ["CacheEntry", "CacheKey", "ScanCache"]


class ScanCache:
    """A folder of JSON files, one per key. Disabled when `folder` is None."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _path(self, key: CacheKey) -> Path:
        assert self.folder is not None
        return self.folder / f"{key.digest}.json"

    def get(self, key: CacheKey) -> CacheEntry | None:
        if self.folder is None:
            return None
        try:
            data: Any = json.loads(self._path(key).read_text(encoding="utf-8"))
            if data.get("key") != key.fields():
                return None
            return CacheEntry(
                raw=str(data["raw"]),
                trivy_seconds=float(data.get("trivy_seconds", 0)),
                saved_at=float(data.get("saved_at", 0)),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: CacheKey, raw: str, trivy_seconds: float) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"key": key.fields(), "saved_at": time.time(), "trivy_seconds": trivy_seconds, "raw": raw}
        )
        # Write then rename, so a concurrent reader never sees half an entry.
        handle, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(payload)
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
