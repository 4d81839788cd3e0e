"""The classes behind the bad-input cases: every value of a kind goes through that kind's one type.

The case files show instances; these tests walk the configuration model, the release record
model and every command's options, so that a key or option added later with a bare `int`, a
`float` without bounds, an untyped path or an unchecked string option fails here, not in
production. Plus the checks themselves, on the values the issue found.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any

import annotated_types
import click
import pytest
from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from devops.config.model import Config
from devops.domain import checks
from devops.domain.gitops.record import ReleaseRecord
from devops.domain.types import PathRule


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    stack = [root]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            stack += [t for t in _leaves(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return seen


def _leaves(annotation: Any) -> list[Any]:
    """The leaf types of an annotation (inside Annotated, unions, tuples, lists and dict values)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        args = typing.get_args(annotation)
        args = args[-1:] if origin is dict else args
        return [leaf for arg in args if arg is not Ellipsis for leaf in _leaves(arg)]
    return [annotation]


def _numbers(annotation: Any, metadata: list[Any]) -> list[tuple[type, list[Any]]]:
    """(number type, every metadata item on the way to it) for each int/float leaf."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        # A nested Field(ge=..) is a FieldInfo holding the constraints as its own metadata.
        extra = [item for m in extra for item in (m.metadata if isinstance(m, FieldInfo) else [m])]
        return _numbers(inner, [*metadata, *extra])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        args = typing.get_args(annotation)
        args = args[-1:] if origin is dict else args
        return [found for arg in args if arg is not Ellipsis for found in _numbers(arg, metadata)]
    if annotation in (int, float):
        return [(annotation, metadata)]
    return []


def _fields(root: type[BaseModel]) -> list[tuple[str, Any, list[Any]]]:
    return [(f"{model.__name__}.{name}", field.annotation, list(field.metadata))
            for model in _models(root) for name, field in model.model_fields.items()]


# Terraform variables are passed through to Terraform, which takes any number: finite is checked
# (finite_tree), ranges are Terraform's business.
UNBOUNDED = {"InfraEnvironmentConfig.variables", "BootstrapConfig.variables"}


@pytest.mark.parametrize("root", [Config, ReleaseRecord], ids=lambda m: m.__name__)
def test_every_number_is_strict_finite_and_bounded(root: type[BaseModel]) -> None:
    problems = []
    for name, annotation, metadata in _fields(root):
        if name in UNBOUNDED:
            continue
        for kind, on_the_way in _numbers(annotation, metadata):
            strict = any(isinstance(m, BeforeValidator) and m.func is checks.number_not_bool for m in on_the_way)
            low = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in on_the_way)
            high = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in on_the_way)
            if not strict:
                problems.append(f"{name}: a bare {kind.__name__} (use types.Int / types.Float: no booleans, finite)")
            elif not (low and high) and not (root is ReleaseRecord and name.endswith("schema_version")):
                problems.append(f"{name}: {kind.__name__} without both bounds (ge/gt and le/lt)")
    assert not problems, "\n".join(problems)


# Keys whose name says "path" but that are not paths inside the repository: programs looked up on
# PATH, and the Sonar scanner's report location (owned by the Sonar gate, docs/gates.md).
NOT_PROJECT_PATHS = {"TrivySettings.binary", "InfraConfig.terraform", "SonarSettings.report_task"}
PATH_WORDS = ("path", "_file", "_dir", "root", "dockerfile")


def test_every_path_key_is_typed_as_a_path() -> None:
    untyped = []
    for name, annotation, metadata in _fields(Config):
        field = name.split(".", 1)[1]
        if name in NOT_PROJECT_PATHS or not any(word in field for word in PATH_WORDS):
            continue
        if field in {"health_path", "readiness_path"}:  # URL paths, checked by their pattern
            continue
        if not (any(isinstance(m, PathRule) for m in metadata) or "PathRule" in repr(annotation)):
            untyped.append(name)
    assert not untyped, f"path keys without ProjectPath/RepoPath: {untyped}"


def test_config_paths_tuple_is_typed() -> None:
    annotation = Config.model_fields["gates"].annotation.model_fields["config_paths"].annotation  # type: ignore[union-attr]
    assert "PathRule" in repr(annotation)


# Options whose values are parsed by their command before anything outside is asked, with a
# message naming the option (the bad-input cases cover each), or that belong to another area.
PARSED_IN_BODY = {"--severity", "--scanners", "--scanner-arg"}


def _commands() -> list[tuple[str, click.Command, click.Context]]:
    from devops.cli.main import cli
    from devops.cli.reference import _walk

    root = cli.make_context("devops", [], resilient_parsing=True)
    return [(" ".join(["devops", *path]), command, ctx) for path, command, ctx in _walk(cli, [], root)]


def test_every_option_value_has_a_checking_type() -> None:
    from devops.cli.params import Checked, PathParam

    unchecked = []
    for name, command, ctx in _commands():
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and (param.is_flag or param.count):
                continue
            if isinstance(param.type, Checked | PathParam | click.Choice | click.IntRange | click.FloatRange):
                continue
            label = param.opts[-1] if isinstance(param, click.Option) else param.human_readable_name
            # set-image's SERVICE=REPOSITORY:TAG@DIGEST: parse_image_spec, one error per part.
            if label in PARSED_IN_BODY or (name == "devops gitops set-image" and param.name == "images"):
                continue
            unchecked.append(f"{name} {label} ({param.type.name})")
    assert not unchecked, "options without a checking type (devops/cli/params.py):\n" + "\n".join(unchecked)


# -- the checks themselves, on the values the issue found ----------------------------------------------
@pytest.mark.parametrize("value", ["abc1234\nSigned-off-by: x", "abc1234\n", "xyz1234", "abc12", "a" * 65, ""])
def test_commit_ids_are_hex_7_to_64(value: str) -> None:
    with pytest.raises(ValueError):
        checks.check_commit(value)


def test_commit_ids_accept_short_long_and_upper() -> None:
    assert checks.check_commit("ABCDEF1") == "abcdef1"
    assert checks.check_commit("f" * 64) == "f" * 64


@pytest.mark.parametrize("value", ["ftp://x", "file:///etc/passwd", "http://", "gopher://h", "javascript:x",
                                   "http://u:p@h", "http://h:99999", "http://h/\n", "//h", "h:80"])
def test_urls_are_http_with_a_host(value: str) -> None:
    with pytest.raises(ValueError):
        checks.check_http_url(value)


@pytest.mark.parametrize("value", ["values/{service}{0}.yaml", "{service.__class__}", "{service!r}",
                                   "{service:>9}", "{env}", "{service}}", "{", "{service[0]}"])
def test_templates_take_only_their_placeholders(value: str) -> None:
    with pytest.raises(ValueError):
        checks.check_template(value, {"service"})


@pytest.mark.parametrize("value", ["/", "../x", "a/../../b", "~/x", "", "a\x00", "C:/x", "a\\b"])
def test_project_paths_never_go_up(value: str) -> None:
    with pytest.raises(ValueError):
        checks.check_relative_path(value)


@pytest.mark.parametrize("value", [".git/config", "a/.GIT/x", "-x", ":(top)x", "a b"])
def test_gitops_paths_stay_out_of_git_and_pathspecs(value: str) -> None:
    with pytest.raises(ValueError):
        checks.check_repo_path(value)


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, -math.inf])
def test_numbers_refuse_booleans_and_non_finite(value: object) -> None:
    with pytest.raises(ValueError):
        checks.check_finite(checks.number_not_bool(value))  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["Asia", "Europe", "America", "localtime", "../etc/passwd", "/etc/localtime", ""])
def test_zones_are_full_iana_names(zone: str) -> None:
    from devops.domain.schedule import load_zone

    with pytest.raises(ValueError):
        load_zone(zone)


@pytest.mark.parametrize("text", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59:59Z"])
def test_instants_lie_in_2000_to_2100(text: str) -> None:
    from devops.domain.timespec import parse_instant

    with pytest.raises(ValueError, match="2000..2100"):
        parse_instant(text)


def test_yaml_bounds_refuse_expansion_quickly() -> None:
    from devops.domain.documents import load_yaml
    from devops.errors import BadInput

    laughs = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    with pytest.raises(BadInput, match="alias"):
        load_yaml(laughs, "laughs.yaml")
