"""Nothing outside the repository: where the paths of pipelines/devops.yaml may point.

Every path key is typed `ProjectPath` or `RepoPath` (devops/domain/types.py), which refuses
absolute paths, `..` and control characters when the file is read. Once the project root is
known, `check_config_paths` resolves every `ProjectPath` (symlinks included) and refuses one
that lands outside the root, naming the key (exit 2): a symlinked service folder pointing at
/etc is as much "outside" as `../../etc`. GitOps paths live in a clone that only exists during a
release, so `inside_clone` (devops/adapters/git/clone.py) checks them where the clone is read
and written.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from devops.domain.types import PathRule
from devops.errors import ConfigError

if typing.TYPE_CHECKING:
    from devops.config.model import Config


def check_config_paths(config: Config, allowed_roots: Iterable[Path] = ()) -> None:
    """ConfigError naming the first path key that resolves outside the project root.

    `allowed_roots` are folders the caller allows besides the root: a config generated outside
    the repository it describes (`devops demo` writes one into its work folder, naming the
    repository's services) passes that repository. Only the caller passes them (the demo, or
    `--source-root`), never the config file."""
    root = config.root.resolve()
    roots = [root, *(Path(extra).resolve() for extra in allowed_roots)]
    for key, value, rule, parent in path_values(config):
        if rule.within == "gitops" or (rule.within == "machine" and value.startswith("/")):
            continue
        base = root
        if rule.base is not None:
            base = root / str(getattr(parent, rule.base))
        try:
            resolved = (base / value).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise ConfigError(f"{config.source}: {key}: {value!r} cannot be resolved ({exc})") from None
        if not any(resolved.is_relative_to(allowed) for allowed in roots):
            raise ConfigError(
                f"{config.source}: {key}: {value!r} resolves to {resolved}, outside the project root {root}",
                hint="paths (symlinks included) must stay inside the repository")


def path_values(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str, PathRule, BaseModel]]:
    """(key path, value, rule, owning model) of every path-typed value set in `model`, found from
    the type annotations: a new path key is checked as soon as it is typed as a path."""
    for name, field in type(model).model_fields.items():
        key = f"{prefix}{field.alias or name}"
        value = getattr(model, name)
        rules = [item for item in field.metadata if isinstance(item, PathRule)]
        yield from _walk(value, field.annotation, key, rules, model)


def _walk(value: Any, annotation: Any, key: str, rules: list[PathRule],
          owner: BaseModel) -> Iterator[tuple[str, str, PathRule, BaseModel]]:
    if value is None:
        return
    rules = rules + _rules_of(annotation)
    if isinstance(value, BaseModel):
        yield from path_values(value, f"{key}.")
        return
    if isinstance(value, str):
        for rule in rules[-1:]:  # the innermost annotation is the most specific (a `base`)
            yield key, value, rule, owner
        return
    inner = _strip(annotation)
    args = [arg for arg in typing.get_args(inner) if arg is not type(None)] if inner is not None else []
    if isinstance(value, dict):
        item_type = args[-1] if args else None
        for item_key, item in value.items():
            yield from _walk(item, item_type, f"{key}.{item_key}", [], owner)
    elif isinstance(value, list | tuple):
        item_type = args[0] if args else None
        for index, item in enumerate(value):
            yield from _walk(item, item_type, f"{key}[{index}]", [], owner)


def _rules_of(annotation: Any) -> list[PathRule]:
    """PathRule metadata of an Annotated type, also inside `X | None`."""
    found: list[PathRule] = []
    if typing.get_origin(annotation) is typing.Annotated:
        found += [item for item in annotation.__metadata__ if isinstance(item, PathRule)]
        found += _rules_of(typing.get_args(annotation)[0])
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found += _rules_of(arg)
    return found


def _strip(annotation: Any) -> Any:
    """The container type under Annotated and Optional (`tuple[X, ...] | None` -> tuple[X, ...])."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation

