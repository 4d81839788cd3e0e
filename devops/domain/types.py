"""One validating type per kind of value, for the configuration and the command line.

Every value `devops` takes from outside (pipelines/devops.yaml, options, release records, values
files) is one of a few kinds: a number, a flag, a name, an id, a commit, a URL, a path, a
template, a date. Each kind has ONE check, a plain function raising `ValueError` with the words
the user sees (devops/domain/checks.py); the configuration model uses them through the pydantic
annotated types of this module and the CLI through click parameter types (devops/cli/params.py),
so an option and the config key it overrides accept exactly the same values
(docs/configuration.md, "Values").

The rules, in short: numbers are never booleans and always finite and bounded; flags are
`true`/`false`; paths are relative, never go up (`..`) and stay inside the repository (checked
with symlinks resolved once the project root is known: `devops.config.paths`); URLs are http(s)
with a host; templates use only their documented placeholders; dates lie in 2000..2100.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool

from devops.domain.checks import (
    MAX_COUNT,
    MAX_SECONDS,
    YEAR_MAX,
    YEAR_MIN,
    check_commit,
    check_env_var,
    check_finite,
    check_http_url,
    check_line,
    check_name,
    check_program,
    check_project_path,
    check_repo_path,
    check_template,
    check_year,
    finite_tree,
    number_not_bool,
    parse_timestamp,
)

__all__ = [
    "MAX_COUNT", "MAX_SECONDS", "YEAR_MAX", "YEAR_MIN", "Bool", "CommitId", "Count", "Delay", "EnvVar", "Float",
    "HttpUrl", "Int", "Line", "MachinePath", "Name", "PathRule", "Program", "ProjectPath", "RepoPath", "Seconds",
    "check_http_url", "check_name", "check_repo_path", "check_template", "check_year", "finite_tree",
    "parse_timestamp", "template",
]


@dataclass(frozen=True)
class PathRule:
    """Marks a config key as a path for `devops.config.paths.check_config_paths`.

    `within` says what it must resolve inside: "project" (the repository, symlinks resolved at
    load), "gitops" (the GitOps clone, checked where the clone is read and written) or
    "machine" (absolute: anywhere on this machine; relative: like "project").
    `base` names a sibling key the path is relative to (a service's `dockerfile` is relative to
    its `path`)."""

    within: str  # "project", "gitops" or "machine"
    base: str | None = None


Int = Annotated[int, BeforeValidator(number_not_bool)]
Float = Annotated[float, BeforeValidator(number_not_bool), AfterValidator(check_finite)]
# Seconds to wait or to time out: finite, positive, at most a week.
Seconds = Annotated[Float, Field(gt=0, le=MAX_SECONDS)]
# A delay that may be zero (backoff, settle time).
Delay = Annotated[Float, Field(ge=0, le=MAX_SECONDS)]
Count = Annotated[Int, Field(ge=0, le=MAX_COUNT)]
# `true` or `false` only: YAML 1.2 reads `yes`/`on` as strings, and "yes" must not mean true
# in one key and be an error in another.
Bool = StrictBool
Line = Annotated[str, AfterValidator(check_line)]
Name = Annotated[str, AfterValidator(check_name)]
EnvVar = Annotated[str, AfterValidator(check_env_var)]
CommitId = Annotated[str, AfterValidator(check_commit)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]
ProjectPath = Annotated[str, AfterValidator(check_project_path), PathRule("project")]
RepoPath = Annotated[str, AfterValidator(check_repo_path), PathRule("gitops")]
# A tool's cache on this machine (Trivy's DB): an absolute path is the machine's business (the
# demo and CI caches use one); a relative one is inside the project like any ProjectPath.
MachinePath = Annotated[str, AfterValidator(check_project_path), PathRule("machine")]
Program = Annotated[str, AfterValidator(check_program)]


def template(allowed: Collection[str], required: Collection[str] = ()) -> AfterValidator:
    """A pydantic validator for a template with these placeholders."""
    return AfterValidator(lambda value: check_template(value, allowed, required))
