"""The `registry:` block: where images are pushed, and the names of the variables holding the
credentials (never the credentials themselves)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from devops.config.base import Section, Variables, variable
from devops.config.overrides import REGISTRY_HOST_OVERRIDE
from devops.domain.types import Delay, Int, Seconds
from devops.domain.urls import service_url_problem

ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class RegistryCredentials(Section):
    username_env: str = Field("DOCKERHUB_USERNAME", pattern=ENV_VAR_PATTERN)
    token_env: str = Field("DOCKERHUB_TOKEN", pattern=ENV_VAR_PATTERN)

    def username(self, environ: Variables) -> str | None:
        """The user name from `environ` (the CLI's settings), None when unset or empty."""
        return variable(environ, self.username_env)

    def token(self, environ: Variables) -> str | None:
        """The token from `environ` (the CLI's settings), None when unset or empty."""
        return variable(environ, self.token_env)


class PushRetryConfig(Section):
    attempts: Int = Field(5, ge=1, le=20)
    backoff_seconds: Delay = 2.0
    max_backoff_seconds: Delay = 30.0
    deadline_seconds: Seconds = 600.0
    timeout_seconds: Seconds = 900.0


class RegistryConfig(Section):
    host: str = Field("127.0.0.1:5000", min_length=1)
    namespace: str = Field("techitfactory", max_length=255, pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    credentials: RegistryCredentials = RegistryCredentials()
    # Plain HTTP to the registry (the embedded local registry). Docker Hub is always HTTPS.
    insecure: bool = False
    # Token services (the `realm` of a registry's `WWW-Authenticate: Bearer` challenge) that may
    # receive the registry credentials besides the registry's own host (and, for Docker Hub,
    # https://auth.docker.io/token). A realm anywhere else is refused: nothing is sent to it.
    token_realms: tuple[str, ...] = ()
    push: PushRetryConfig = PushRetryConfig()

    @field_validator("host")
    @classmethod
    def _host_is_host_port(cls, value: str) -> str:
        problem = cls.host_problem(value)
        if problem:
            raise ValueError(f"{problem} (set here or by ${REGISTRY_HOST_OVERRIDE})")
        return value

    @field_validator("token_realms")
    @classmethod
    def _realms_are_safe_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from devops.domain.urls import origin

        for index, realm in enumerate(value):
            # The same rules as a realm a challenge names (devops/adapters/registry.py).
            problem = service_url_problem(realm, what="token realm")
            if problem is None and origin(realm).port == 0:
                problem = f"token realm {realm!r}: expected a port from 1 to 65535"
            if problem:
                raise ValueError(f"[{index}]: {problem}")
        return value

    @staticmethod
    def host_problem(value: str) -> str | None:
        """Why `value` is not a registry `host[:port]` (lower case, no scheme, user or path)."""
        label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
        host_port = rf"(?:{label}(?:\.{label})*|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?"
        found = re.fullmatch(host_port, value)
        if found:
            if found["port"] is not None and not 1 <= int(found["port"]) <= 65535:
                return f"expected a port from 1 to 65535, got {value!r}"
            return None
        if any(ch.isspace() or ord(ch) < 32 for ch in value):
            return f"expected host[:port] without spaces or control characters, got {value!r}"
        if "://" in value:
            return f"expected host[:port] without a scheme, got {value!r}"
        if "@" in value:
            return f"expected host[:port] without user or password, got {value!r}"
        if "/" in value:
            return f"expected host[:port] without a path (the namespace is registry.namespace), got {value!r}"
        if re.fullmatch(host_port, value.lower()):
            return f"expected a lower-case host[:port], got {value!r}"
        return f"expected host[:port] like docker.io or 127.0.0.1:5000, got {value!r}"

    def repository(self, image: str) -> str:
        """Full repository name of an image, e.g. `docker.io/techitfactory/cart`."""
        return f"{self.host}/{self.namespace}/{image}"

    @property
    def is_docker_hub(self) -> bool:
        return self.host in {"docker.io", "index.docker.io", "registry-1.docker.io"}


