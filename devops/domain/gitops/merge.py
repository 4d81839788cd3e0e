"""Applying a ChangeSet to the files of a GitOps repository, and the conflict rules of a re-apply.

Pure: the caller reads the files (through `read`) and writes what `apply_change` returns. The
same function runs on the first apply and on every re-apply after a rejected push
(devops/app/gitops_publish.py), so a change is always applied to the files as they are now, never
replayed as a text patch, and the compare-and-swap rules below hold every time:

- a values file must still hold the image this run first read there, or already the image the
  change writes; anything else is another release of that service (ConcurrentChange, exit 3);
- the release record is merged three-way per service (`merge_record`): the caller's entries for
  the services it changed, the tip's for the others; a service the caller changed that the tip
  changed too, to another image, is ConcurrentChange;
- `ChangeSet.expected_digests`: each named entry must hold that digest (`check_expected_digests`).

No change means no edit: a record that differs only in who released it and when (`ACT_KEYS`) is
left alone unless a values file changes with it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devops.domain.gitops import record as records
from devops.domain.gitops import values
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ImageRef, ServiceChange, ValueEdit
from devops.domain.gitops.repository import GitOpsLayout
from devops.errors import BadInput

# Record keys that describe the act of releasing, not the state released: a change that only
# differs in them is no change (no empty "re-release" commits).
ACT_KEYS = ("released_at", "released_by")


@dataclass
class Baseline:
    """What this run read first: what a re-apply after a rejected push expects to replace.

    `record` is the release record at the commit the clone started from; `values` holds each
    service's image as the first apply found it (filled in by `apply_change`).
    """

    record: records.ReleaseRecord
    values: dict[str, ImageRef | None] = field(default_factory=dict)
    # Each ValueEdit's scalar as the first apply found it (`file: key` -> text; None: not a string).
    scalars: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What applying a change edits: per service old -> new, and the new text of each file."""

    changes: tuple[ServiceChange, ...]
    edits: tuple[tuple[str, str], ...]  # (path in the repository, new text), in the order applied
    diff: str  # unified diff of the edits
    record_changed: bool

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.edits)


def apply_change(change: ChangeSet, read: Callable[[str], str | None], layout: GitOpsLayout, baseline: Baseline,
                 *, remote: str, branch: str) -> Applied:
    """The edits `change` makes to the files `read(path)` returns (None: no such file).

    BadInput (exit 2) when a values file does not exist; ConcurrentChange (exit 3) on the
    conflicts of the module docstring. Nothing is written here.
    """
    changes: list[ServiceChange] = []
    edits: dict[str, tuple[str, str]] = {}  # path -> (before, after)
    for update in change.updates:
        path = layout.values_path(update.service)
        where = f"{remote}: {path}"
        before = read(path)
        if before is None:
            raise BadInput(f"{where}: the values file of {update.service} does not exist in {branch}",
                           hint="add it with an image: block (repository, tag, digest)")
        old = values.read_image(before, where)
        expected = baseline.values.setdefault(update.service, old)
        check_values_unchanged(update.service, where, expected, old, update.ref)
        after = values.set_image(before, where, update.ref)
        if after != before:
            edits[path] = (before, after)
            changes.append(ServiceChange(update.service, str(old) if old else "", str(update.ref)))
    for path, edits_of_file in _by_file(change.values).items():
        before = edits[path][1] if path in edits else read(path)
        where = f"{remote}: {path}"
        if before is None:
            raise BadInput(f"{where}: does not exist in {branch}",
                           hint="add the file with its placeholders (\"\"); devops edits values, it does not add files")
        after, done = apply_value_edits(before, where, edits_of_file, baseline)
        if after != before:
            edits[path] = (edits[path][0] if path in edits else before, after)
            changes.extend(done)
    record_changed = False
    if change.record is not None:
        path = layout.record_path
        where = f"{remote}: {path}"
        current_text = read(path)
        current = record_or_empty(current_text, where, change.environment)
        check_expected_digests(current, change, where)
        merged = merge_record(baseline.record, current, change, where)
        new_text = merged.to_json()
        if current_text != new_text and (edits or record_state(current) != record_state(merged)):
            edits[path] = (current_text or "", new_text)
            record_changed = True
    diff = "".join(unified_diff(path, before, after) for path, (before, after) in edits.items())
    return Applied(tuple(changes), tuple((path, after) for path, (_, after) in edits.items()), diff,
                   record_changed)


def _by_file(edits: tuple[ValueEdit, ...]) -> dict[str, list[ValueEdit]]:
    grouped: dict[str, list[ValueEdit]] = {}
    for edit in edits:
        grouped.setdefault(edit.file, []).append(edit)
    return grouped


def apply_value_edits(text: str, where: str, edits: list[ValueEdit], baseline: Baseline
                      ) -> tuple[str, list[ServiceChange]]:
    """`text` with the scalars of `edits` set, and what changed. Compare-and-swap per scalar: it
    must still hold what this run first read there, or already the new value (ConcurrentChange)."""
    found = values.read_scalars(text, where, tuple(edit.key for edit in edits))
    wanted: dict[values.KeyPath, str] = {}
    done: list[ServiceChange] = []
    for edit in edits:
        current = found[edit.key]
        now = current if isinstance(current, str) else None
        expected = baseline.scalars.setdefault(edit.name, now)
        if now != expected and now != edit.value:
            raise ConcurrentChange(
                f"{where}: {'.'.join(str(k) for k in edit.key)}: changed since this run read it: expected "
                f"{expected!r}, found {now!r}",
                hint="someone else changed it meanwhile; nothing was written; rerun to start from the new state")
        if now != edit.value:
            wanted[edit.key] = edit.value
            done.append(ServiceChange(edit.name, now or "", edit.value))
    return values.patch_scalars(text, where, wanted) if wanted else text, done


def check_values_unchanged(service: str, where: str, expected: ImageRef | None, found: ImageRef | None,
                           wanted: ImageRef) -> None:
    """ConcurrentChange unless a values file holds what this run first read there, or already
    what it writes (the same change landed first: then applying it is a no-op)."""
    if found != expected and found != wanted:
        raise ConcurrentChange(
            f"{service}: {where}: changed since this run read it: expected {expected or '(no image)'}, "
            f"found {found or '(no image)'}",
            hint=f"another release of {service} landed first; nothing was written; rerun to start from the "
                 "new state")


def record_or_empty(text: str | None, where: str, environment: str) -> records.ReleaseRecord:
    """The record in `text`; an empty one when there is no file or it is malformed.

    A broken record must not block the release (or the rollback) that replaces it: the new
    content is validated in full and replaces it. Reading it for its own sake
    (`read_record`) refuses it instead.
    """
    if text is None:
        return records.ReleaseRecord.empty(environment)
    try:
        return records.parse(text, where, environment=environment)
    except BadInput:
        return records.ReleaseRecord.empty(environment)


def merge_record(base: records.ReleaseRecord, current: records.ReleaseRecord, change: ChangeSet,
                 where: str) -> records.ReleaseRecord:
    """The record to write: a three-way merge of the services, per service.

    `base` is the record the caller read (at the commit the clone started from), `current` the
    one at the tip now, `change.record` the caller's new content. A service entry the caller
    changed (or added, or removed) relative to `base` is taken from the caller; any other entry is
    taken from the tip, so a release that landed in between keeps its services. The top-level
    keys (who released, when, source commit) are the caller's. With no race, tip == base and the
    result is exactly the caller's record.

    An entry the caller changed whose image (repository, tag, digest) at the tip is neither the
    one in `base` nor the caller's was changed by someone else meanwhile: taking the caller's
    would silently undo that release, so it is ConcurrentChange (exit 3) naming the service,
    the image expected and the image found. Evidence-only changes of the same image are not a
    conflict (the caller's entry wins).
    """
    if change.record is None:
        raise ValueError("merge_record needs a change that writes the release record")
    wanted = records.validate(change.record, f"{where} (new content)", environment=change.environment)
    data = wanted.to_dict()
    ours: dict[str, Any] = data["services"]
    before: dict[str, Any] = base.to_dict()["services"]
    theirs: dict[str, Any] = current.to_dict()["services"]
    merged: dict[str, Any] = {}
    for name in dict.fromkeys([*ours, *theirs, *before]):  # the caller's order, then the tip's, then the base's
        mine_changed = ours.get(name) != before.get(name)
        found = entry_image(theirs.get(name))
        if mine_changed and found not in (entry_image(before.get(name)), entry_image(ours.get(name))):
            raise ConcurrentChange(
                f"{where}: services.{name}: changed since this run read it: expected "
                f"{entry_image(before.get(name))}, found {found}",
                hint=f"another release of {name} landed first; nothing was written; rerun to start from the "
                     "new state")
        entry = ours.get(name) if mine_changed else theirs.get(name)
        if entry is not None:
            merged[name] = entry
    data["services"] = merged
    return records.validate(data, where, environment=change.environment)


def entry_image(entry: Any) -> str:
    """`repository:tag@digest` of a record entry (plain data); "(no entry)" when there is none."""
    if not isinstance(entry, dict):
        return "(no entry)"
    tag = f":{entry['tag']}" if entry.get("tag") else ""
    return f"{entry.get('repository', '')}{tag}@{entry.get('digest', '')}"


def check_expected_digests(current: records.ReleaseRecord, change: ChangeSet, where: str) -> None:
    """ConcurrentChange (exit 3) unless each entry holds the digest `change.expected_digests` names.

    Evidence written against the record's entry must be about the digest that was checked; a
    release (or a hand edit) that changed the entry since then makes it about another one.
    """
    for service, digest in change.expected_digests:
        entry = current.services.get(service)
        found = entry.digest if entry is not None else ""
        if found != digest or not digest:
            raise ConcurrentChange(
                f"{service}: {change.action} checked {digest or '(no digest: the values file names none)'}, "
                f"but {where} holds {found or '(no entry for it)'}: the evidence would be about a digest that "
                "was not checked",
                hint="nothing was written; " + (
                    f"rerun `devops {change.action} --env {change.environment}` against what is released now"
                    if change.action in ("verify", "rescan") else "rerun against what is released now"))


def record_state(record: records.ReleaseRecord) -> dict[str, Any]:
    """The record without the keys that describe the act of releasing (`ACT_KEYS`)."""
    return {k: v for k, v in record.to_dict().items() if k not in ACT_KEYS}


def unified_diff(path: str, before: str, after: str) -> str:
    """`git diff`-style unified diff of one file (with git's "No newline at end of file")."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
