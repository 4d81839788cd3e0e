"""Release, promotion and rollback against a registry as strict as Docker Hub (token auth, JWTs
for exactly the scopes granted: tests/support/strictregistry.py), and the rule that a record
cannot point them at another repository: promotion and rollback accept only the repository
configured for each service, refuse anything else (exit 1) before asking any registry, and write
nothing. A recording server on another loopback host stands for the attacker's registry.

Real components: Docker engine and CLI, the CNCF distribution registry, Trivy with a small real
DB, git with a bare GitOps remote. Everything is read back from the registry, the remote and the
recording servers, never only from devops' output.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.release.conftest import SERVICES, Shop, make_gitops_remote
from tests.support.cli import Outcome, run_cli
from tests.support.project import commit_all, git, make_project
from tests.support.recording_http import RecordingServer
from tests.support.strictregistry import StrictRegistry, TimedProxy, use_token_realm
from tests.support.tokenserver import address, json_answer

pytestmark = pytest.mark.docker


class StrictShop(Shop):
    """The release tests' shop, with `registry.token_realms` naming the strict registry's realm."""

    realm: str = ""

    def config(self, *, trivy_cache: Path | None = None, extra: str = "") -> None:
        super().config(trivy_cache=trivy_cache, extra=extra)
        use_token_realm(self.root, self.realm)


@pytest.fixture
def shop(tmp_path: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy,
         standin_build_args: dict[str, str], clean_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StrictShop]:
    namespace = f"s{uuid.uuid4().hex[:10]}"
    registry = strict_proxy.address
    root = make_project(tmp_path / "shop", namespace=namespace, registry=registry, services=SERVICES, commit=False)
    remote = make_gitops_remote(tmp_path, registry, namespace)
    shop = StrictShop(root, remote, namespace, registry, clean_db)
    shop.realm = strict_registry.tokens.realm
    shop.config()
    (root / ".gitignore").write_text(".devops/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    monkeypatch.setenv("DEVOPS_BUILD_ARGS", f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "t")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.com")
    as_user(monkeypatch, strict_registry, "writer")
    yield shop
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    mine = [image for image in images if f"/{namespace}/" in image]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)


@pytest.fixture
def attacker() -> Iterator[RecordingServer]:
    """The registry a tampered record points at: another loopback host, recording everything."""
    with RecordingServer("127.0.0.2", lambda request: json_answer({"errors": [{"code": "UNAUTHORIZED"}]}, 401)) as server:
        yield server


def as_user(monkeypatch: pytest.MonkeyPatch, registry: StrictRegistry, user: str) -> None:
    for name, value in registry.env(user).items():
        monkeypatch.setenv(name, value)


def cli(shop: Shop, *args: str) -> Outcome:
    return run_cli("--json", *args, cwd=shop.root)


def digest_in(shop: Shop, env: str, service: str) -> str:
    entry = shop.record(env)["services"].get(service) or {}
    return str(entry.get("digest") or "")


def tamper(shop: Shop, service: str, repository: str) -> str:
    """Rewrite dev's record so `service` names `repository` (as anyone with push access could)."""
    record = shop.record("dev")
    record["services"][service]["repository"] = repository
    shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"}, "tamper")
    return shop.commits()[0]


def test_release_promotion_and_rollback_through_token_auth_with_a_read_only_token_where_reading_is_enough(
        shop: StrictShop, strict_registry: StrictRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    released = cli(shop, "release", "--env", "dev")
    assert released.code == 0, released.err
    first = {s: digest_in(shop, "dev", s) for s in SERVICES}
    for service in SERVICES:
        assert strict_registry.digest(f"{shop.namespace}/{service}", first[service]) == first[service]

    # Promotion only reads the registry: the reader's pull-only token is enough.
    as_user(monkeypatch, strict_registry, "reader")
    strict_registry.tokens.clear()
    promoted = cli(shop, "release", "--env", "prod")
    assert promoted.code == 0, promoted.err
    assert {s: digest_in(shop, "prod", s) for s in SERVICES} == first
    asked = strict_registry.devops_scopes("reader")
    assert sorted(asked) == sorted([f"repository:{shop.namespace}/{s}:pull"] for s in SERVICES)
    assert all(a["actions"] == ["pull"] for c in strict_registry.tokens.issued for a in c["access"])

    # Rollback checks that the digests it restores still exist, with a pull token too.
    as_user(monkeypatch, strict_registry, "writer")
    shop.change_service("alpha", "alpha v2\n")
    assert cli(shop, "release", "--env", "dev").code == 0
    assert digest_in(shop, "dev", "alpha") != first["alpha"]
    as_user(monkeypatch, strict_registry, "reader")
    strict_registry.tokens.clear()
    back = cli(shop, "rollback", "--env", "dev", "--to", "previous")
    assert back.code == 0, back.err
    assert digest_in(shop, "dev", "alpha") == first["alpha"]
    assert strict_registry.devops_scopes("reader") == [[f"repository:{shop.namespace}/alpha:pull"]]


@pytest.mark.parametrize("where", ["other-host", "other-namespace", "other-image"])
def test_promotion_refuses_a_record_naming_another_repository_before_asking_any_registry(
        shop: StrictShop, strict_registry: StrictRegistry, attacker: RecordingServer, where: str) -> None:
    assert cli(shop, "release", "--env", "dev").code == 0
    foreign = {"other-host": f"{address(attacker)}/{shop.namespace}/alpha",
               "other-namespace": f"{shop.registry}/someone-else/alpha",
               "other-image": f"{shop.registry}/{shop.namespace}/beta"}[where]
    tamper(shop, "alpha", foreign)
    before = shop.commits()
    strict_registry.tokens.clear()
    outcome = cli(shop, "release", "--env", "prod")
    assert outcome.code == 1, outcome.err
    assert "alpha" in outcome.err and foreign in outcome.err and "not the configured" in outcome.err
    assert shop.commits() == before and shop.record("prod")["services"] == {}, "nothing written"
    assert attacker.requests == [], "the foreign registry was never asked"
    scopes = strict_registry.devops_scopes("writer")
    assert [f"repository:{shop.namespace}/alpha:pull"] not in scopes, "not even the configured one, for alpha"


def test_rollback_refuses_a_record_naming_another_registry(
        shop: StrictShop, strict_registry: StrictRegistry, attacker: RecordingServer) -> None:
    assert cli(shop, "release", "--env", "dev").code == 0
    tampered = tamper(shop, "beta", f"{address(attacker)}/{shop.namespace}/beta")
    # The tampered record is now history; rolling back to it must not deploy it.
    record = shop.record("dev")
    record["services"]["beta"]["repository"] = f"{shop.registry}/{shop.namespace}/beta"
    shop.push_to_remote({"gitops/environments/dev/release.json": json.dumps(record, indent=2) + "\n"}, "repair")
    before = shop.commits()
    values = shop.remote_file("gitops/environments/dev/values/beta.yaml")
    outcome = cli(shop, "rollback", "--env", "dev", "--to", tampered[:12])
    assert outcome.code == 1, outcome.err
    assert "beta" in outcome.err and address(attacker) in outcome.err and "refused" in outcome.err
    assert shop.commits() == before
    assert shop.remote_file("gitops/environments/dev/values/beta.yaml") == values
    assert attacker.requests == []


def test_rollback_refuses_a_digest_that_no_longer_exists_in_the_registry(
        shop: StrictShop, strict_registry: StrictRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    from devops.config import load_config
    from devops.wiring import adapters as wiring

    assert cli(shop, "release", "--env", "dev").code == 0
    old = digest_in(shop, "dev", "alpha")
    shop.change_service("alpha", "alpha v2\n")
    assert cli(shop, "release", "--env", "dev").code == 0
    wiring.registry_client(load_config(start=shop.root)).delete(f"{shop.namespace}/alpha", old)
    assert strict_registry.digest(f"{shop.namespace}/alpha", old) is None
    before = shop.commits()
    outcome = cli(shop, "rollback", "--env", "dev", "--to", "previous")
    assert outcome.code == 1, outcome.err
    assert "alpha" in outcome.err and "no longer exists in the registry" in outcome.err
    assert shop.commits() == before
