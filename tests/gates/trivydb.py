"""A small but real Trivy vulnerability DB (BoltDB), written with PyPI `boltdb`.

Trivy's DB cannot be downloaded here, so the tests plant advisories for Debian 12 source
packages the stand-in images really contain. Layout as in Trivy's own fixtures:
`data-source` -> "debian 12"; "debian 12" -> source package -> advisory id -> advisory JSON;
`vulnerability` -> id -> details. `boltdb` leaves the meta-page checksum at 0, which Trivy's
bbolt rejects, so the FNV-1a-64 of each meta page's first 56 bytes is written after them.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from dataclasses import dataclass
from pathlib import Path

SEVERITY_NUMBER = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
STATUS_AFFECTED = 2  # trivy-db types.Status: 0 unknown, 1 not_affected, 2 affected, 3 fixed, ...


@dataclass(frozen=True)
class Advisory:
    id: str
    source_package: str  # Debian *source* package (glibc, not libc6)
    severity: str
    fixed_version: str = ""  # empty = unfixed (status affected)
    title: str = ""


def fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _fix_meta_checksums(path: Path) -> None:
    buf = bytearray(path.read_bytes())
    page_size = struct.unpack_from("<I", buf, 16 + 8)[0]
    for index in range(2):
        offset = index * page_size + 16  # after the 16-byte page header
        struct.pack_into("<Q", buf, offset + 56, fnv1a64(bytes(buf[offset : offset + 56])))
    path.write_bytes(bytes(buf))


def build_db(cache_dir: Path, advisories: list[Advisory], *, updated_at: dt.datetime | None = None) -> Path:
    """Write `<cache_dir>/db/trivy.db` and `metadata.json`; returns the cache dir."""
    from boltdb import BoltDB

    db_dir = cache_dir / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    db_path = db_dir / "trivy.db"
    db_path.unlink(missing_ok=True)
    db = BoltDB(str(db_path))
    try:
        with db.update() as tx:
            sources = tx.create_bucket(b"data-source")
            sources.put(
                b"debian 12",
                json.dumps(
                    {
                        "ID": "debian",
                        "Name": "Debian Security Tracker",
                        "URL": "https://salsa.debian.org/security-tracker-team/security-tracker",
                    }
                ).encode(),
            )
            debian = tx.create_bucket(b"debian 12")
            packages: dict[str, object] = {}
            for adv in sorted(advisories, key=lambda a: (a.source_package, a.id)):
                bucket = packages.get(adv.source_package)
                if bucket is None:
                    bucket = packages[adv.source_package] = debian.create_bucket(adv.source_package.encode())
                if adv.fixed_version:
                    value = {"FixedVersion": adv.fixed_version}
                else:
                    value = {"Severity": SEVERITY_NUMBER[adv.severity], "Status": STATUS_AFFECTED}
                bucket.put(adv.id.encode(), json.dumps(value).encode())  # type: ignore[attr-defined]
            vulns = tx.create_bucket(b"vulnerability")
            for adv in sorted({a.id: a for a in advisories}.values(), key=lambda a: a.id):
                vulns.put(
                    adv.id.encode(),
                    json.dumps(
                        {
                            "Title": adv.title or f"planted test advisory for {adv.source_package}",
                            "Description": "Planted by the devops test suite; not a real vulnerability.",
                            "Severity": adv.severity,
                            "References": [f"https://security-tracker.debian.org/tracker/{adv.id}"],
                        }
                    ).encode(),
                )
    finally:
        db.close()
        db.close = lambda: None  # type: ignore[method-assign]  # boltdb closes again in __del__
    _fix_meta_checksums(db_path)
    now = updated_at or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    (db_dir / "metadata.json").write_text(
        json.dumps(
            {
                "Version": 2,
                "NextUpdate": (now + dt.timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "UpdatedAt": stamp,
                "DownloadedAt": stamp,
            }
        )
    )
    return cache_dir
