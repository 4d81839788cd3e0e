"""A registry in tests as strict as Docker Hub: the CNCF distribution registry (Debian's
`docker-registry`, as tests/support/registry/config.yml) with `auth: token`, its token service
(tests/support/tokenserver.py), and a fault proxy in front that can answer 429 with Retry-After
on the Nth manifest request, as Docker Hub's pull limit does.

Started once per session on free loopback ports with its own storage folder, so `.ci/run` and
the shared local registry on 127.0.0.1:5000 are untouched. Users: `writer` may pull, push and
delete everything; `reader` may only pull; `auditor` (pull only) is the tests' own, to read the
registry back from outside devops. Passwords are random per session and shaped like Docker Hub
access tokens, so a test can search any recording server for them.

The Docker engine treats 127.0.0.0/8 registries as insecure (plain HTTP) on its own, so the
real `docker login` / `docker push` work against it without daemon configuration.
"""

from __future__ import annotations

import secrets
import shutil
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.daemons import Proc
from tests.support.faultproxy import FaultProxy, Rule
from tests.support.stack import free_port, unavailable
from tests.support.tokenserver import Signer, TokenServer, User

CONFIG_TEMPLATE = Path(__file__).parent / "registry" / "token-auth.yml"
SERVICE = "devops-strict-registry"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
ISSUER = "devops-test-token-issuer"


@dataclass
class StrictRegistry:
    """The running registry, its token server and the users it knows."""

    address: str  # host:port of the registry itself (tests normally go through a proxy)
    tokens: TokenServer
    users: dict[str, User]
    proc: Proc

    def password(self, user: str) -> str:
        return self.users[user].password

    def env(self, user: str) -> dict[str, str]:
        """The credential variables devops reads (registry.credentials defaults)."""
        return {"DOCKERHUB_USERNAME": user, "DOCKERHUB_TOKEN": self.password(user)}

    def digest(self, repository: str, reference: str) -> str | None:
        """The registry's digest of `repository:reference`, read directly as `auditor`."""
        scope = f"repository:{repository}:pull"
        answer = requests.get(self.tokens.realm, params={"service": SERVICE, "scope": scope},
                              auth=("auditor", self.password("auditor")), timeout=10)
        answer.raise_for_status()
        head = requests.head(f"http://{self.address}/v2/{repository}/manifests/{reference}", timeout=10,
                             headers={"Accept": MANIFEST_V2, "Authorization": f"Bearer {answer.json()['token']}"})
        assert head.status_code in (200, 404), (head.status_code, head.headers)
        return head.headers["Docker-Content-Digest"] if head.status_code == 200 else None

    def devops_scopes(self, user: str) -> list[list[str]]:
        """The scopes devops itself (not the Docker engine) asked for as `user`, each scope's
        actions in one order: devops asks for the scope a challenge names, and distribution
        names a manifest PUT's actions in either order (`pull,push` or `push,pull`)."""
        return [[normal_scope(scope) for scope in asked] for asked in self.tokens.scopes_asked(user, agent="devops/")]


def normal_scope(scope: str) -> str:
    """`repository:name:push,pull` as `repository:name:pull,push` (actions sorted)."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return f"{kind}:{name}:{','.join(sorted(actions.split(',')))}"


def start(where: Path) -> Iterator[StrictRegistry]:
    """Start the token server and the registry; stop both when the generator closes."""
    binary = shutil.which("docker-registry")
    if not binary:
        unavailable("docker-registry (the CNCF distribution registry, Debian package docker-registry) "
                    "not installed")
    signer = Signer.create()
    users = {
        "writer": User(f"dckr_pat_{secrets.token_urlsafe(24)}", {"*": frozenset({"pull", "push", "delete"})}),
        "reader": User(f"dckr_pat_{secrets.token_urlsafe(24)}", {"*": frozenset({"pull"})}),
        "auditor": User(f"dckr_pat_{secrets.token_urlsafe(24)}", {"*": frozenset({"pull"})}),
    }
    tokens = TokenServer(signer, users, service=SERVICE, issuer=ISSUER).start()
    (where / "storage").mkdir(parents=True, exist_ok=True)
    (where / "root.pem").write_bytes(signer.cert_pem)
    address = f"127.0.0.1:{free_port()}"
    config = string.Template(CONFIG_TEMPLATE.read_text()).substitute(
        storage=where / "storage", address=address, secret=secrets.token_hex(16), realm=tokens.realm,
        service=SERVICE, issuer=ISSUER, certbundle=where / "root.pem")
    (where / "config.yml").write_text(config)
    proc = Proc("strict registry", [str(binary), "serve", str(where / "config.yml")], where / "registry.log").start()
    try:
        _wait_for_challenge(proc, address)
        yield StrictRegistry(address, tokens, users, proc)
    finally:
        proc.stop()
        tokens.stop()


def _wait_for_challenge(proc: Proc, address: str, timeout: float = 30) -> None:
    """Ready when `/v2/` answers 401 with a Bearer challenge (200 would mean auth is off)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.popen is not None
        if proc.popen.poll() is not None:
            raise RuntimeError(f"the strict registry exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            answer = requests.get(f"http://{address}/v2/", timeout=2)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        challenge = answer.headers.get("WWW-Authenticate", "")
        if answer.status_code != 401 or not challenge.startswith("Bearer "):
            raise RuntimeError(f"the strict registry answered {answer.status_code} {challenge!r} without auth:\n"
                               f"{proc.tail()}")
        return
    raise TimeoutError(f"the strict registry did not answer on {address} within {timeout} s:\n{proc.tail()}")


@dataclass
class NthRule(Rule):
    """A fault rule that lets the first `after` matching requests through, then applies."""

    after: int = 0
    seen: int = 0
    at: list[float] = field(default_factory=list)  # monotonic time of each request it answered

    def matches(self, method: str, path: str) -> bool:
        if not super().matches(method, path):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        self.at.append(time.monotonic())
        return True


class TimedProxy(FaultProxy):
    """The fault proxy, with the monotonic time of every request it saw."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.times: list[float] = []

    def _record(self, method: str, path: str, what: str) -> None:
        with self._lock:
            self.log.append((method, path, what))
            self.times.append(time.monotonic())

    def timed(self) -> list[tuple[float, str, str, str]]:
        with self._lock:
            return [(t, *entry) for t, entry in zip(self.times, self.log, strict=True)]


@pytest.fixture(scope="session")
def strict_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrictRegistry]:
    """The token-auth registry and its token server (session wide; tests use unique namespaces)."""
    yield from start(tmp_path_factory.mktemp("strict-registry"))


@pytest.fixture
def strict_proxy(strict_registry: StrictRegistry) -> Iterator[TimedProxy]:
    """A fault proxy of this test alone in front of the strict registry; its address is the
    `registry.host` tests configure. Token requests are cleared so a test sees only its own."""
    strict_registry.tokens.clear()
    with TimedProxy(strict_registry.address) as proxy:
        yield proxy


def use_token_realm(root: Path, realm: str) -> None:
    """Add `registry.token_realms: [realm]` to the project's pipelines/devops.yaml."""
    config = root / "pipelines" / "devops.yaml"
    text = config.read_text()
    assert "  insecure: true\n" in text, "expected the registry block of tests/support/project.py"
    config.write_text(text.replace("  insecure: true\n", f'  insecure: true\n  token_realms: ["{realm}"]\n', 1))
