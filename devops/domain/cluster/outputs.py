"""Values that flow from `terraform output` into the GitOps values: the mapping of
gitops/platform/terraform-outputs.yaml (version 1) and what it asks to write.

Each entry follows `output` (the output's name, then map keys) in the environment's outputs,
renders it through `format` (`{value}` replaced), and names the scalar to set: `file` (`{env}`
replaced) at `key` (mapping keys; ints index lists). `when: {autoscaler: X}` limits an entry to
environments with that autoscaler. Pure: the use case (devops/app/cluster_values.py) reads the
mapping, the outputs and the files, and publishes the edits through the GitOps engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devops.domain import documents
from devops.domain.gitops.change import ValueEdit
from devops.domain.gitops.values import read_scalars
from devops.errors import BadInput

VERSION = 1
AUTOSCALERS = ("none", "cluster-autoscaler", "karpenter")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_FILE = re.compile(r"^[A-Za-z0-9_.@+{}/-]{1,300}$")


@dataclass(frozen=True)
class Entry:
    """One output -> one scalar of one values file."""

    output: tuple[str, ...]
    file: str
    key: tuple[str | int, ...]
    format: str = "{value}"
    autoscaler: str | None = None  # `when: {autoscaler: ...}`

    def applies(self, autoscaler: str) -> bool:
        return self.autoscaler is None or self.autoscaler == autoscaler

    def path(self, environment: str) -> str:
        return self.file.replace("{env}", environment)

    @property
    def output_name(self) -> str:
        return ".".join(self.output)


@dataclass(frozen=True)
class OutputMapping:
    entries: tuple[Entry, ...]

    def applicable(self, autoscaler: str) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.applies(autoscaler))


def parse_mapping(text: str, where: str) -> OutputMapping:
    """The mapping in `text` (BadInput naming `where`, the entry and the key when malformed)."""
    data = documents.load_yaml(text, where, typ="safe")
    if not isinstance(data, dict):
        raise BadInput(f"{where}: expected a mapping with `version` and `entries`")
    if data.get("version") != VERSION:
        raise BadInput(f"{where}: version: expected {VERSION}, got {data.get('version')!r}",
                       hint="this devops reads version 1 of the mapping")
    unknown = sorted(set(data) - {"version", "entries"})
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r} (expected version, entries)")
    raw = data.get("entries")
    if not isinstance(raw, list) or not raw:
        raise BadInput(f"{where}: entries: expected a non-empty list")
    return OutputMapping(tuple(_entry(item, f"{where}: entries[{i}]") for i, item in enumerate(raw)))


def _entry(item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise BadInput(f"{where}: expected a mapping with output, file and key")
    unknown = sorted(set(item) - {"output", "file", "key", "format", "when"})
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r} (expected output, file, key, format, when)")
    output = item.get("output")
    if not isinstance(output, list) or not output or not all(isinstance(p, str) and _NAME.fullmatch(p)
                                                              for p in output):
        raise BadInput(f"{where}.output: expected a list of output and map key names, got {output!r}")
    file = item.get("file")
    if (not isinstance(file, str) or not _FILE.fullmatch(file) or file.startswith(("/", "-"))
            or ".." in file.split("/") or ".git" in file.split("/") or not file.endswith((".yaml", ".yml"))):
        raise BadInput(f"{where}.file: expected a relative .yaml path inside the GitOps repository, got {file!r}")
    if re.sub(r"\{env\}", "", file).count("{") or re.sub(r"\{env\}", "", file).count("}"):
        raise BadInput(f"{where}.file: {file!r}: the only placeholder is {{env}}")
    key = item.get("key")
    if (not isinstance(key, list) or not key
            or not all((isinstance(k, str) and k) or (isinstance(k, int) and not isinstance(k, bool) and k >= 0)
                       for k in key)):
        raise BadInput(f"{where}.key: expected a list of mapping keys and list indexes, got {key!r}")
    fmt = item.get("format", "{value}")
    if not isinstance(fmt, str) or fmt.count("{value}") != 1 or fmt.replace("{value}", "").count("{"):
        raise BadInput(f"{where}.format: expected text with exactly one {{value}}, got {fmt!r}")
    when = item.get("when")
    autoscaler = None
    if when is not None:
        if not isinstance(when, dict) or set(when) != {"autoscaler"} or when["autoscaler"] not in AUTOSCALERS:
            raise BadInput(f"{where}.when: expected {{autoscaler: {' | '.join(AUTOSCALERS)}}}, got {when!r}")
        autoscaler = when["autoscaler"]
    return Entry(tuple(output), file, tuple(key), fmt, autoscaler)


def output_value(outputs: Mapping[str, Any], entry: Entry) -> Any:
    """The value at the entry's output path; None when the output or a key on the way is missing."""
    node: Any = outputs
    for part in entry.output:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def edits(mapping: OutputMapping, environment: str, autoscaler: str, outputs: Mapping[str, Any], *,
          root: str) -> tuple[ValueEdit, ...]:
    """The scalars to set for `environment`. BadInput (exit 2, nothing written) naming the output,
    the file and the key for an output that is missing, null or not a scalar: never an empty value
    written. `root` names the Terraform root in messages."""
    found: list[ValueEdit] = []
    for entry in mapping.applicable(autoscaler):
        value = output_value(outputs, entry)
        target = f"{entry.path(environment)}: {'.'.join(str(k) for k in entry.key)}"
        if value is None or value == "":
            raise BadInput(
                f"terraform output {entry.output_name} (for {target}) is missing or empty in {root}",
                hint=f"run `devops infra apply --env {environment}` first, or fix the entry in "
                     "gitops/platform/terraform-outputs.yaml")
        if isinstance(value, dict | list | bool):
            raise BadInput(f"terraform output {entry.output_name} (for {target}) is a {type(value).__name__}, "
                           "expected a string or a number; name a map key after it in the mapping's `output`")
        found.append(ValueEdit(entry.path(environment), entry.key, entry.format.replace("{value}", str(value)),
                               f"terraform output {entry.output_name}"))
    return tuple(found)


def empty_values(mapping: OutputMapping, environment: str, autoscaler: str,
                 read: Callable[[str], str | None]) -> list[str]:
    """`file: key` of every applicable placeholder that is still empty or missing (what
    `devops cluster bootstrap` refuses to start with)."""
    empty: list[str] = []
    by_file: dict[str, list[Entry]] = {}
    for entry in mapping.applicable(autoscaler):
        by_file.setdefault(entry.path(environment), []).append(entry)
    for path, entries in by_file.items():
        text = read(path)
        if text is None:
            empty.extend(f"{path}: (file missing)" for _ in entries[:1])
            continue
        found = read_scalars(text, path, tuple(entry.key for entry in entries))
        for entry in entries:
            value = found[entry.key]
            if value is None or value == "" or value == entry.format.replace("{value}", ""):
                empty.append(f"{path}: {'.'.join(str(k) for k in entry.key)}")
    return empty
