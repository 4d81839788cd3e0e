"""Typed, frozen model of `pipelines/devops.yaml`.

Paths in the file are relative to the project root (the folder that holds `pipelines/`);
`Config.root` resolves them. Secrets never live in the file: only the names of the
environment variables that hold them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from devops.config.base import NAME_PATTERN, Section, check_names
from devops.config.calendars import CalendarConfig
from devops.config.cluster import ClusterConfig
from devops.config.cost import CostConfig
from devops.config.gates import GatesConfig
from devops.config.governance import FreezeConfig, VerifyEvidencePolicy, check_references
from devops.config.infra import InfraConfig
from devops.config.notifications import NotificationsConfig
from devops.config.observability import ObservabilityConfig, VerifyConfig
from devops.config.registry import PushRetryConfig, RegistryConfig, RegistryCredentials
from devops.config.signing import SignaturesConfig, SigningConfig
from devops.domain.types import (
    MAX_SECONDS,
    Bool,
    Delay,
    HttpUrl,
    Int,
    Line,
    PathRule,
    ProjectPath,
    RepoPath,
    Seconds,
    check_repo_path,
    template,
)
from devops.domain.urls import git_url_problem, service_url_problem

if TYPE_CHECKING:
    from devops.domain.calendars.model import Calendar
    from devops.domain.observability.slo import SloDefinitions

# The registry block lives in devops/config/registry.py; its names are the model's too.
__all__ = ["BuildConfig", "ClusterRef", "Config", "EnvironmentConfig", "GitAuthor", "GitOpsPushConfig",
           "GitOpsTarget", "PullRequestConfig", "PushRetryConfig", "RegistryConfig", "RegistryCredentials",
           "ServiceConfig", "VerifyEvidencePolicy"]

ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# A git branch name that cannot pass for an option or a refspec.
BRANCH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$"
# The path part of a URL (health and readiness endpoints).
URL_PATH_PATTERN = r"^/[A-Za-z0-9._~/%+=&?-]*$"
CLUSTER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"


class BuildConfig(Section):
    # 0 means "one per core": builds are CPU bound, more only thrashes.
    parallelism: Int = Field(0, ge=0, le=64)
    platforms: tuple[str, ...] = ("linux/amd64",)
    builder: Literal["auto", "buildx", "classic"] = "auto"
    # Build arguments given to every service, e.g. the base images.
    build_args: dict[str, Line] = Field(default_factory=dict)
    # Cache layers to/from the registry when buildx is available.
    registry_cache: Bool = True
    timeout_seconds: Int = Field(1800, ge=10, le=MAX_SECONDS)

    @field_validator("platforms")
    @classmethod
    def _platform_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for platform in value:
            if not re.fullmatch(r"[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?", platform):
                raise ValueError(f"expected os/arch like linux/amd64, got {platform!r}")
        if not value:
            raise ValueError("expected at least one platform")
        return value


class ServiceConfig(Section):
    # Both resolve (symlinks included) inside the project root: devops.config.paths.
    path: ProjectPath
    dockerfile: Annotated[ProjectPath, PathRule("project", base="path")] = "Dockerfile"
    port: Int = Field(ge=1, le=65535)
    language: Literal["typescript", "javascript", "python", "go", "java", "other"]
    health_path: str = Field("/health", pattern=URL_PATH_PATTERN)
    readiness_path: str = Field("/ready", pattern=URL_PATH_PATTERN)
    # Repository name under the registry namespace; the service name when unset.
    image: str | None = Field(None, pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
    build_args: dict[str, Line] = Field(default_factory=dict)
    description: str = ""


class ClusterRef(Section):
    name: str = Field(pattern=CLUSTER_PATTERN)
    region: str = Field("ap-south-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    # The node autoscaler of the environment (docs/platform.md, "Autoscaler"): given to Terraform
    # as its `autoscaler` variable, and must equal `autoscaler` of gitops/apps/values-<env>.yaml
    # (`devops cluster values` checks, tests/platform too); `devops cost` cooperates with it.
    autoscaler: Literal["none", "cluster-autoscaler", "karpenter"] = "none"


class GitOpsPushConfig(Section):
    """Compare-and-swap pushes: a rejected push is re-applied on the new tip, never forced."""

    attempts: Int = Field(5, ge=1, le=20)
    backoff_seconds: Delay = 1.0
    max_backoff_seconds: Delay = 15.0
    timeout_seconds: Seconds = 120.0


class PullRequestConfig(Section):
    # The branch the pull request targets; the target's `branch` when unset.
    base: str | None = None
    branch_prefix: str = Field("devops/release", pattern=r"^[A-Za-z0-9._/-]+$")
    labels: tuple[str, ...] = ()
    draft: bool = False
    token_env: str = Field("GITHUB_TOKEN", pattern=ENV_VAR_PATTERN)
    # GitHub Enterprise or a recorded stand-in; GitHub Actions sets $GITHUB_API_URL. The token
    # goes there: https only (http for a loopback stand-in).
    api_url: str = "https://api.github.com"

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        problem = service_url_problem(value, what="api_url")
        if problem:
            raise ValueError(problem)
        return value


class GitAuthor(Section):
    name: Line = Field("devops", min_length=1, max_length=200)
    email: str = Field("devops@users.noreply.github.com", pattern=r"^[^@\s]+@[^@\s]+$")


class GitOpsTarget(Section):
    # "." is the `gitops/` folder of this repository (as its `origin` remote has it);
    # otherwise a git URL or a local path. $DEVOPS_GITOPS_REPO overrides it for every environment.
    repo: str = "."
    branch: str = Field("main", pattern=BRANCH_PATTERN)
    # Paths inside the GitOps repository: relative, never `..` or `.git`; checked again, with
    # symlinks resolved, inside the clone where they are read and written (devops/adapters/gitops_repo.py).
    path: RepoPath
    mode: Literal["commit", "pull-request"] = "commit"
    # Per service values file, relative to `path`; `{service}` is replaced (the only placeholder).
    values_file: Annotated[str, template({"service"}, required={"service"}), PathRule("gitops")] = (
        "values/{service}.yaml")
    # The release record, relative to `path`.
    record_file: RepoPath = "release.json"
    # `devops freeze` / `devops unfreeze` write the environment's freeze here, relative to `path`.
    freeze_file: RepoPath = "freeze.json"
    push: GitOpsPushConfig = GitOpsPushConfig()
    pull_request: PullRequestConfig = PullRequestConfig()
    author: GitAuthor = GitAuthor()

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        problem = git_url_problem(value)  # names the URL with its credentials redacted
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("values_file")
    @classmethod
    def _values_file_is_a_path(cls, value: str) -> str:
        # Service names are [a-z0-9-]: any of them renders the same kind of path as this one.
        check_repo_path(value.format(service="service"))
        return value


class EnvironmentConfig(Section):
    gitops: GitOpsTarget
    cluster: ClusterRef
    url: HttpUrl
    auto_sync: Bool = True
    promote_from: str | None = None
    evidence: VerifyEvidencePolicy = VerifyEvidencePolicy()
    # Health and SLO checks after a release (docs/observability.md); none: not verified.
    verify: VerifyConfig | None = None
    freeze: FreezeConfig = FreezeConfig()
    # When the verification after a release fails, restore the last verified release (docs/release.md).
    auto_rollback: Bool = False
    # Signed evidence its digests must carry (docs/supply-chain.md); none: signatures not checked.
    signatures: SignaturesConfig | None = None


class Config(Section):
    """The whole file. Build with `devops.config.load_config`, not directly."""

    project: str = Field(pattern=NAME_PATTERN)
    registry: RegistryConfig = RegistryConfig()
    build: BuildConfig = BuildConfig()
    services: dict[str, ServiceConfig]
    environments: dict[str, EnvironmentConfig]
    gates: GatesConfig = GatesConfig()
    cost: CostConfig = CostConfig()
    infra: InfraConfig = InfraConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    notifications: NotificationsConfig = NotificationsConfig()
    signing: SigningConfig = SigningConfig()
    cluster: ClusterConfig = ClusterConfig()

    _source: Path = PrivateAttr(default=Path("pipelines/devops.yaml"))
    _root: Path = PrivateAttr(default=Path("."))
    _calendars: dict[str, Calendar] = PrivateAttr(default_factory=dict)

    @field_validator("services", "environments", "calendars")
    @classmethod
    def _names(cls, value: dict[str, object], info: ValidationInfo) -> dict[str, object]:
        check_names(value, "cart")
        if not value and info.field_name != "calendars":
            raise ValueError("expected at least one entry")
        return value

    @model_validator(mode="after")
    def _promotions_name_known_environments(self) -> Config:
        for name, env in self.environments.items():
            if env.promote_from is not None and env.promote_from not in self.environments:
                raise ValueError(
                    f"environments.{name}.promote_from: unknown environment {env.promote_from!r}"
                )
            if env.promote_from == name:
                raise ValueError(f"environments.{name}.promote_from: an environment cannot promote from itself")
            if env.promote_from and self.environments[env.promote_from].promote_from:
                # Promotion reads the source's release record, which only a building release writes.
                raise ValueError(
                    f"environments.{name}.promote_from: {env.promote_from!r} promotes too; chain promotions "
                    "from an environment that builds"
                )
        return self

    @model_validator(mode="after")
    def _slos_name_known_services(self) -> Config:
        for name in self.observability.slos:
            if name not in self.services:
                known = ", ".join(sorted(self.services))
                raise ValueError(f"observability.slos.{name}: unknown service; known: {known}")
        for env_name, env in self.environments.items():
            for name in env.verify.health_urls if env.verify else {}:
                if name not in self.services:
                    raise ValueError(f"environments.{env_name}.verify.health_urls.{name}: unknown service")
        return self

    @model_validator(mode="after")
    def _governance_names_known(self) -> Config:
        check_references(self)
        return self

    def calendar(self, name: str) -> Calendar:
        """The domain's calendar `name`, its iCalendar files read on first use (BadInput naming
        a file that cannot be read or understood)."""
        from devops.config.calendars import build
        from devops.errors import UnknownName

        if name not in self.calendars:
            raise UnknownName(f"{self._source}: unknown calendar {name!r}; known: "
                              f"{', '.join(sorted(self.calendars)) or 'none defined'}")
        if name not in self._calendars:
            self._calendars[name] = build(name, self.calendars[name], self._root)
        return self._calendars[name]

    @property
    def source(self) -> Path:
        """The file this configuration was read from."""
        return self._source

    @property
    def root(self) -> Path:
        """The project root that relative paths in the file are resolved against."""
        return self._root

    def bind(self, source: Path, root: Path) -> Config:
        self._source = source
        self._root = root
        return self

    def service(self, name: str) -> ServiceConfig:
        from devops.errors import UnknownName

        try:
            return self.services[name]
        except KeyError:
            raise UnknownName(
                f"{self._source}: unknown service {name!r}; known: {', '.join(sorted(self.services))}"
                + _did_you_mean(name, self.services)
            ) from None

    def environment(self, name: str) -> EnvironmentConfig:
        from devops.errors import UnknownName

        try:
            return self.environments[name]
        except KeyError:
            raise UnknownName(
                f"{self._source}: unknown environment {name!r}; known: "
                f"{', '.join(sorted(self.environments))}" + _did_you_mean(name, self.environments)
            ) from None

    def service_dir(self, name: str) -> Path:
        return (self._root / self.service(name).path).resolve()

    def dockerfile(self, name: str) -> Path:
        return self.service_dir(name) / self.service(name).dockerfile

    def image_name(self, name: str) -> str:
        return self.service(name).image or name

    def repository(self, name: str) -> str:
        return self.registry.repository(self.image_name(name))

    def source_name(self) -> str:
        """The config file as a reviewer reads it: relative to the project root (its name when
        it lies elsewhere), e.g. in generated files and the errors about them."""
        try:
            return self._source.resolve().relative_to(self._root.resolve()).as_posix()
        except ValueError:
            return self._source.name

    def slo_definitions(self) -> SloDefinitions:
        """`observability.slos` as the domain's types (alert rules, `devops verify`)."""
        return self.observability.definitions(self.source_name())


def _did_you_mean(name: str, known: Mapping[str, object]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
