"""Find, read and validate `pipelines/devops.yaml`.

Every error names the file, the line, the key path and the bad value, and is a `ConfigError`
(exit 2). Unknown keys are errors, with a "did you mean" when a known key is close.

The environment reaches the loader as a value (`environ`: the CLI's `RuntimeSettings`, a
test's dict): `$DEVOPS_CONFIG` and the overrides of devops/config/overrides.py are read from it,
never from the process environment. Without `environ`, no variable applies.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from devops.config.base import Variables, variable
from devops.config.model import Config
from devops.config.overrides import CONFIG_ENV, apply_overrides
from devops.config.paths import check_config_paths
from devops.errors import ConfigError

__all__ = ["CONFIG_ENV", "find_config", "load_config", "project_root"]

DEFAULT_RELATIVE = Path("pipelines") / "devops.yaml"

# pydantic's error types, said the way a person editing YAML thinks of them.
_PLAIN_WORDS = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "float_parsing": "expected a number",
    "missing": "required key is missing",
}


def find_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None,
                environ: Variables | None = None) -> Path:
    """`--config`, then `$DEVOPS_CONFIG` (in `environ`), then `pipelines/devops.yaml` upwards from `start`."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found; check the --config path")
        return path
    from_env = variable(environ, CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found; check ${CONFIG_ENV}")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_RELATIVE
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {DEFAULT_RELATIVE} found in {here} or any parent folder; "
        f"run from the project, pass --config PATH or set ${CONFIG_ENV}"
    )


def project_root(config_path: Path) -> Path:
    """The folder relative paths are resolved against: the parent of `pipelines/`."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == "pipelines" else folder


def load_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None, *,
                environ: Variables | None = None, allowed_roots: Iterable[Path] = ()) -> Config:
    """Load and validate the configuration; raise `ConfigError` naming file, line and key.

    `environ`: the variables of docs/configuration.md (`$DEVOPS_CONFIG`, the overrides), as the
    caller read them. `allowed_roots`: folders the config's paths may point into besides the
    project root (devops/config/paths.py)."""
    path = find_config(explicit, start, environ)
    config = None
    plain = _read_plain(path)
    if plain is not None:
        try:
            config = _validated(path, plain, environ)
        except ConfigError:
            config = None  # the round-trip reading below words the error, with its line
    if config is None:
        config = _validated(path, _read_yaml(path), environ)
    config = config.bind(path, project_root(path))
    check_config_paths(config, allowed_roots)
    return config


def _validated(path: Path, document: Any, environ: Variables | None) -> Config:
    data = apply_overrides(_plain(document, path), environ)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, document, exc)) from None


def _read_plain(path: Path) -> dict[str, Any] | None:
    """The config as plain data through libyaml (devops.domain.documents, same bounds), or None.

    Most runs read a valid config: libyaml reads it several times faster than the round-trip
    parser (0.25 s of a no-op release for 100 services, issue 18). Anything it refuses, and any
    config that does not validate, is read again by `_read_yaml`, whose line numbers the error
    messages need; so what is accepted and every message are the round-trip reading's."""
    from devops.domain import documents
    from devops.errors import BadInput

    try:
        document = documents.load_yaml(documents.read_text(path), str(path), typ="safe")
    except BadInput:
        return None
    return document if isinstance(document, dict) else None


def _read_yaml(path: Path) -> Any:
    """The document of the config file, read within the bounds of `devops.domain.documents`."""
    from devops.domain import documents
    from devops.errors import BadInput

    try:
        document = documents.load_yaml(documents.read_text(path), str(path))
    except BadInput as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None
    if document is None:
        raise ConfigError(f"{path}: the config file is empty; see docs/configuration.md")
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(document).__name__}")
    return document


def _plain(node: Any, path: Path = DEFAULT_RELATIVE, where: tuple[str, ...] = ()) -> Any:
    """ruamel's round-trip types as plain Python data, so pydantic sees ordinary values.

    An anchored `true` is a ruamel ScalarBoolean, an int subclass: made a real bool here, so
    `port: &x true` is refused like `port: true`. A value with an unknown tag (`!foo bar`) is
    refused here, naming its key."""
    from ruamel.yaml.scalarbool import ScalarBoolean

    if isinstance(node, dict):
        return {str(key): _plain(value, path, (*where, str(key))) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item, path, (*where, str(index))) for index, item in enumerate(node)]
    if isinstance(node, ScalarBoolean | bool):
        return bool(node)
    for plain in (str, int, float):  # ruamel's ScalarFloat, ScalarInt... as the plain type
        if isinstance(node, plain):
            return plain(node)
    if node is None or isinstance(node, date):
        return node
    tag = getattr(getattr(node, "tag", None), "value", None) or type(node).__name__
    raise ConfigError(f"{path}: {'.'.join(where) or '(top level)'}: unsupported YAML value ({tag}); "
                      "use plain strings, numbers, true/false, lists and mappings")


def _describe(path: Path, document: Any, exc: ValidationError) -> str:
    """One line for the first error (the one to fix first), plus a count of the others."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes the real one "missing": report the misspelling first.
    errors.sort(key=lambda error: error["type"] != "extra_forbidden")
    first = errors[0]
    loc = tuple(first["loc"])
    line = _line_of(document, loc)
    where = f"{path}:{line}" if line else str(path)
    key_path = ".".join(str(part) for part in loc) or "(top level)"
    message = _message(first, loc)
    more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{where}: {key_path}: {message}{more}"


def _message(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    words = _PLAIN_WORDS.get(kind)
    if kind == "value_error":
        words = str(error["msg"]).removeprefix("Value error, ")
        return words
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", '"')
        return f"expected one of {expected}, got {_show(value)}"
    if kind == "string_pattern_mismatch":
        return f"{_show(value)} does not match {error.get('ctx', {}).get('pattern')}"
    if words is None:
        words = str(error["msg"]).rstrip(".").lower()
    return f"{words}, got {_show(value)}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict | list):
        return type(value).__name__
    return repr(value)


def _line_of(document: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key of `loc` that exists in the YAML document."""
    node, line = document, None
    for part in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, dict) and part in node:
            if lc is not None:
                line = lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            if lc is not None:
                line = lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at `loc`, for "did you mean"."""
    model: Any = Config
    for part in loc:
        model = _descend(model, part)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [field.alias or name for name, field in model.model_fields.items()]
    return []


def _descend(annotation: Any, part: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return _unwrap(field.annotation) if field else None
    origin = typing.get_origin(annotation)
    if origin in (dict, list, tuple):
        args = typing.get_args(annotation)
        return _unwrap(args[-1]) if args else None
    return None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation
