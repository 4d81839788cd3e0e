"""Ignore files in both of Trivy's forms, applied by `devops` itself (not by Trivy).

Applying them here rather than passing `--ignorefile` to Trivy is what lets a suppressed
finding still be listed with its reason, lets an expired entry be reported, and makes a YAML
ignore file fail loudly when it is malformed instead of being silently skipped.

- Plain `.trivyignore`: one id per line, `#` comments, optional `exp:YYYY-MM-DD` after the id.
- YAML (`.trivyignore.yaml`): sections `vulnerabilities`, `misconfigurations`, `secrets`,
  `licenses`; each entry `id` plus optional `paths` (globs), `purls`, `expired_at`, `statement`.


"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from devops.domain.gates.findings import Finding
from devops.errors import BadInput

SECTIONS: dict[str, str] = {
    "vulnerabilities": "vulnerability",
    "misconfigurations": "misconfiguration",
    "secrets": "secret",
    "licenses": "license",
}
ENTRY_KEYS = frozenset({"id", "paths", "purls", "expired_at", "statement"})


@dataclass(frozen=True)
class IgnoreEntry:
    """One rule of an ignore file."""

    id: str
    source: str  # "file:line", for messages and the report
    kind: str | None = None  # None: the plain form, matching any kind of finding
    paths: tuple[str, ...] = ()
    purls: tuple[str, ...] = ()
    expired_at: dt.date | None = None
    statement: str = ""

    def expired(self, today: dt.date) -> bool:
        # Trivy's rule: expired_at is midnight UTC of that day, so the entry stops on that day.
        return self.expired_at is not None and today >= self.expired_at

    def matches(self, finding: Finding) -> bool:
        if self.kind is not None and self.kind != finding.kind:
            return False
        if self.id != finding.id and self.id not in finding.aliases:
            return False
        if self.paths and not any(_path_matches(glob, finding) for glob in self.paths):
            return False
        return not (self.purls and not any(purl_matches(p, finding.purl) for p in self.purls))

    def reason(self) -> str:
        text = f"ignored by {self.source}"
        if self.statement:
            text += f": {self.statement}"
        if self.expired_at:
            text += f" (until {self.expired_at.isoformat()})"
        return text


@dataclass(frozen=True)
class IgnoreRules:
    """The parsed ignore file; empty when the policy names none."""

    entries: tuple[IgnoreEntry, ...] = ()
    path: str = ""
    digest: str = ""  # sha256 of the file's bytes, part of the policy hash

    def match(self, finding: Finding, today: dt.date) -> tuple[IgnoreEntry | None, IgnoreEntry | None]:
        """(active entry that suppresses `finding`, expired entry that would have) ."""
        expired: IgnoreEntry | None = None
        for entry in self.entries:
            if entry.matches(finding):
                if not entry.expired(today):
                    return entry, None
                expired = expired or entry
        return None, expired

    def expired_entries(self, today: dt.date) -> tuple[IgnoreEntry, ...]:
        return tuple(entry for entry in self.entries if entry.expired(today))


def rules_from_bytes(data: bytes, name: str, *, yaml: bool) -> IgnoreRules:
    """The rules of an ignore file's bytes (`yaml`: the `.trivyignore.yaml` form); `name` is how
    messages show the file. Reading it is the caller's (devops/adapters/ignore_files.py)."""
    from devops.domain.documents import decode

    text = decode(data, name)  # bounded, and UTF-8 or refused: never ids guessed from replaced bytes
    entries = parse_yaml_ignore(text, name) if yaml else parse_plain_ignore(text, name)
    return IgnoreRules(entries=entries, path=name, digest=hashlib.sha256(data).hexdigest())


def is_yaml_form(path: Path) -> bool:
    """The form is chosen by the suffix: `.yaml`/`.yml` is the YAML form, anything else plain."""
    return path.suffix.lower() in {".yaml", ".yml"}


def parse_plain_ignore(text: str, name: str) -> tuple[IgnoreEntry, ...]:
    """Trivy's plain `.trivyignore`: ids, `#` comments, optional `exp:YYYY-MM-DD`."""
    entries: list[IgnoreEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        expired_at = None
        for extra in parts[1:]:
            if extra.startswith("exp:"):
                expired_at = _date(extra[4:], f"{name}:{number}", "exp")
            else:
                raise BadInput(
                    f"{name}:{number}: unexpected {extra!r} after the id; "
                    "the plain form is `ID [exp:YYYY-MM-DD]`"
                )
        entries.append(IgnoreEntry(id=parts[0], source=f"{name}:{number}", expired_at=expired_at))
    return tuple(entries)


def parse_yaml_ignore(text: str, name: str) -> tuple[IgnoreEntry, ...]:
    """Trivy's YAML ignore file; an unknown section or key, or a bad date, is an error."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.error import YAMLError

    class DatesAsText(RoundTripConstructor):
        """Dates stay text, so a bad one (2026-02-30) is reported with its entry, not as a crash."""

    DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", DatesAsText.construct_yaml_str)
    from devops.domain.documents import compose_yaml

    compose_yaml(text, name)  # bounded first: a file in a pull request must not expand or nest without end
    yaml = YAML(typ="rt")
    yaml.Constructor = DatesAsText
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{name}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if document is None:
        return ()
    if not isinstance(document, dict):
        raise BadInput(f"{name}: expected a mapping of sections ({', '.join(SECTIONS)})")
    entries: list[IgnoreEntry] = []
    for section, items in document.items():
        line = _line(document, section)
        if section not in SECTIONS:
            raise BadInput(
                f"{name}:{line}: unknown section {section!r}; expected one of {', '.join(SECTIONS)}"
            )
        if items is None:
            continue
        if not isinstance(items, list):
            raise BadInput(f"{name}:{line}: {section}: expected a list of entries")
        for index, item in enumerate(items):
            where = f"{name}:{_item_line(items, index) or line}"
            entries.append(_yaml_entry(item, SECTIONS[section], where, section, index))
    return tuple(entries)


def _yaml_entry(item: Any, kind: str, where: str, section: str, index: int) -> IgnoreEntry:
    label = f"{section}[{index}]"
    if not isinstance(item, dict):
        raise BadInput(f"{where}: {label}: expected a mapping with at least `id`")
    unknown = sorted(set(map(str, item)) - ENTRY_KEYS)
    if unknown:
        raise BadInput(
            f"{where}: {label}: unknown key {unknown[0]!r}; known: {', '.join(sorted(ENTRY_KEYS))}"
        )
    ident = item.get("id")
    if not isinstance(ident, str | int) or not str(ident).strip():
        raise BadInput(f"{where}: {label}: `id` is missing or empty")
    paths = _strings(item.get("paths"), where, f"{label}.paths")
    purls = _strings(item.get("purls"), where, f"{label}.purls")
    expired_at = None
    if item.get("expired_at") is not None:
        expired_at = _date(item["expired_at"], where, f"{label}.expired_at")
    statement = item.get("statement")
    return IgnoreEntry(
        id=str(ident).strip(),
        source=where,
        kind=kind,
        paths=paths,
        purls=purls,
        expired_at=expired_at,
        statement=str(statement).strip() if statement else "",
    )


def _strings(value: Any, where: str, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where}: {label}: expected a list of strings")
    return tuple(value)


def _date(value: Any, where: str, label: str) -> dt.date:
    from devops.domain.checks import check_year

    # YAML timestamps are read as text (DatesAsText), so a date is always parsed here.
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"{where}: {label}: expected a date YYYY-MM-DD, got {str(value)!r}") from None
    try:
        return check_year(day, label)  # 2000..2100: `9999-12-31` is "never", which an ignore must not be
    except ValueError as exc:
        raise BadInput(f"{where}: {exc}") from None


def _line(node: Any, key: Any) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def _item_line(node: Any, index: int) -> int | None:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _path_matches(glob: str, finding: Finding) -> bool:
    # Image paths come with a leading slash (/opt/app/x), repository paths without; an ignore
    # file may use either.
    glob = glob.strip().removeprefix("./").lstrip("/")
    for candidate in {finding.path.lstrip("/"), finding.target.lstrip("/")}:
        if candidate and (
            fnmatch.fnmatchcase(candidate, glob)
            or candidate == glob.rstrip("/")
            or candidate.startswith(glob.rstrip("/") + "/")
        ):
            return True
    return False


def _split_purl(purl: str) -> tuple[str, str, str, dict[str, str]] | None:
    """(type/namespace/name, version, subpath-less qualifiers) of a package URL."""
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0]
    body, _, query = body.partition("?")
    qualifiers = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    name, _, version = body.partition("@")
    return unquote(name).lower(), unquote(version), "", {k: unquote(v) for k, v in qualifiers.items()}


def purl_matches(rule: str, purl: str) -> bool:
    """True when `purl` is the package `rule` names: same type/namespace/name; the version and
    qualifiers only count when the rule gives them (so `pkg:deb/debian/openssl` matches every
    version)."""
    want, have = _split_purl(rule.strip()), _split_purl(purl)
    if want is None or have is None:
        return False
    if want[0] != have[0]:
        return False
    if want[1] and want[1] != have[1]:
        return False
    return all(have[3].get(k) == v for k, v in want[3].items())
