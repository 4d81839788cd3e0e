"""Release governance end to end, on the real components with frozen clocks: the release to dev
is the real one (Docker build FROM the Debian stand-in, the local registry, Trivy with a small
real DB, a bare GitOps remote); notifications go to a local webhook receiver that checks the
HMAC signature (tests/support/receiver.py).

- soak: prod refuses a digest that has not run long enough in dev, naming the time left;
- freezes: `devops freeze` writes the freeze into the GitOps remote, prod refuses during it
  (naming the freeze and when it ends), `--break-glass` passes and is recorded in the release
  record, a commit trailer and the notification; a calendar freeze refuses the same way;
  `devops status` shows the freeze and `devops unfreeze` lifts it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.release.conftest import Shop
from tests.support.cli import run_cli
from tests.support.project import commit_all, git
from tests.support.receiver import Receiver, receiving

SECRET = "e2e-signing-key"
T0 = dt.datetime(2026, 12, 21, 9, 0, tzinfo=dt.UTC)  # a Monday: dev's release

GOVERNANCE = """\
calendars:
  company:
    timezone: Europe/Berlin
    freezes:
      - {name: year end, from: "2026-12-24T00:00", to: "2026-12-28T00:00"}
notifications:
  timeout_seconds: 2
  deadline_seconds: 4
  channels:
    audit: {kind: webhook, url_env: E2E_HOOK, secret_env: E2E_HOOK_SECRET}
"""


def at(moment: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: moment


def governed(shop: Shop) -> None:
    shop.config(extra=GOVERNANCE)
    path = shop.root / "pipelines" / "devops.yaml"
    text = path.read_text().replace(
        "    promote_from: dev\n",
        "    promote_from: dev\n    evidence: {min_soak: 2h}\n    freeze: {calendars: [company]}\n", 1)
    path.write_text(text)
    commit_all(shop.root, "governance")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with receiving() as running:
        monkeypatch.setenv("E2E_HOOK", running.url)
        monkeypatch.setenv("E2E_HOOK_SECRET", SECRET)
        yield running


def events(receiver: Receiver) -> list[str]:
    return [body["event"] for body in receiver.bodies()]


def test_soak_then_a_freeze_refuse_prod_and_break_glass_passes_recorded(shop: Shop, receiver: Receiver) -> None:
    governed(shop)
    released = run_cli("--json", "release", "--env", "dev", cwd=shop.root, clock=at(T0))
    assert released.code == 0, released.err
    dev = shop.record("dev")["services"]
    assert dev["alpha"]["built_at"] == "2026-12-21T09:00:00Z"
    assert events(receiver) == ["release"]

    # Soak: 30 minutes after dev's release, prod refuses with the time left; nothing written.
    before = shop.commits()
    early = run_cli("release", "--env", "prod", cwd=shop.root, clock=at(T0 + dt.timedelta(minutes=30)))
    assert early.code == 1, early.err
    assert "released in dev 30m ago (since 2026-12-21T09:00:00Z), min_soak is 2h: 1h 30m left " \
           "(promotable from 2026-12-21T11:00:00Z)" in early.err
    assert shop.commits() == before

    # Freeze at T0+1h for 4 hours, written into the GitOps remote (and told).
    frozen_at = T0 + dt.timedelta(hours=1)
    froze = run_cli("--json", "freeze", "--env", "prod", "--until", "4h", "--reason", "payment provider incident",
                    cwd=shop.root, clock=at(frozen_at))
    assert froze.code == 0, froze.err
    freeze_file = json.loads(shop.remote_file("gitops/environments/prod/freeze.json"))
    assert (freeze_file["frozen"], freeze_file["until"], freeze_file["reason"]) == (
        True, "2026-12-21T14:00:00Z", "payment provider incident")
    assert git(shop.remote, "log", "-1", "--format=%s", "main").startswith("freeze(prod): until 2026-12-21T14:00:00Z")
    assert events(receiver)[-1] == "freeze"

    # Soaked now (3h), but frozen: refused, naming the freeze and when releases resume.
    later = T0 + dt.timedelta(hours=3)
    before = shop.commits()
    refused = run_cli("release", "--env", "prod", cwd=shop.root, clock=at(later))
    assert refused.code == 1, refused.err
    assert "prod is frozen: devops freeze (the GitOps repository) until 2026-12-21T14:00:00Z" in refused.err
    assert "payment provider incident" in refused.err
    assert "releases resume at 2026-12-21T14:00:00Z (in 2h)" in refused.err and "--break-glass" in refused.err
    assert shop.commits() == before

    status = run_cli("--json", "status", "--env", "prod", cwd=shop.root, clock=at(later))
    assert status.code == 0, status.err
    assert "payment provider incident" in status.out

    # Break-glass: released through the freeze, recorded in the record, the trailer and the notification.
    passed = run_cli("--json", "release", "--env", "prod", "--break-glass", "hotfix for checkout 500s",
                     cwd=shop.root, clock=at(later))
    assert passed.code == 0, passed.err
    record = shop.record("prod")
    assert record["services"]["alpha"]["digest"] == dev["alpha"]["digest"]
    glass = record["break_glass"]
    assert glass["reason"] == "hotfix for checkout 500s" and glass["at"] == "2026-12-21T12:00:00Z"
    assert glass["freezes"][0].startswith("devops freeze (the GitOps repository) until 2026-12-21T14:00:00Z")
    message = git(shop.remote, "log", "-1", "--format=%B", "main")
    assert "Devops-Break-Glass: hotfix for checkout 500s" in message
    assert json.loads(passed.out)["break_glass"]["reason"] == "hotfix for checkout 500s"
    assert events(receiver)[-2:] == ["promotion", "break-glass"]
    told = receiver.bodies()[-1]
    assert told["environment"] == "prod" and "hotfix for checkout 500s" in told["summary"]
    # Every delivery signed; the receiver checks it against its own clock (the signature's
    # timestamp is the sender's wall clock at sending, whatever time the release ran as).
    assert all(receiver.verified(SECRET, now=time.time())) and len(receiver.requests) == 4
    assert not any(receiver.verified("another-key", now=time.time()))

    # Unfreeze lifts it; the calendar's year-end freeze still refuses, naming the calendar.
    lifted = run_cli("unfreeze", "--env", "prod", cwd=shop.root, clock=at(later))
    assert lifted.code == 0, lifted.err
    assert json.loads(shop.remote_file("gitops/environments/prod/freeze.json"))["frozen"] is False
    shop.change_service("alpha", "second version\n")
    christmas = dt.datetime(2026, 12, 25, 10, 0, tzinfo=dt.UTC)
    assert run_cli("release", "--env", "dev", cwd=shop.root, clock=at(christmas - dt.timedelta(hours=3))).code == 0
    before = shop.commits()
    calendar = run_cli("release", "--env", "prod", cwd=shop.root, clock=at(christmas))
    assert calendar.code == 1, calendar.err
    assert "prod is frozen: year end (calendar company, freeze) until 2026-12-27T23:00:00Z" in calendar.err
    assert shop.commits() == before


def test_break_glass_when_nothing_is_frozen_is_not_recorded(shop: Shop, receiver: Receiver) -> None:
    """Control: no freeze, --break-glass is a warning, and neither record nor commit carries it."""
    governed(shop)
    assert run_cli("release", "--env", "dev", cwd=shop.root, clock=at(T0)).code == 0
    passed = run_cli("release", "--env", "prod", "--break-glass", "not needed", cwd=shop.root,
                     clock=at(T0 + dt.timedelta(hours=2)))
    assert passed.code == 0, passed.err
    assert "prod is not frozen: --break-glass is not needed and is not recorded" in passed.err
    assert "break_glass" not in shop.record("prod")
    assert "Devops-Break-Glass" not in git(shop.remote, "log", "-1", "--format=%B", "main")
    assert "break-glass" not in events(receiver)


def test_a_receiver_that_fails_or_hangs_only_warns_within_the_bound(shop: Shop, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """The release's exit code is the release's: 5xx on every attempt, then a receiver that
    never answers in time, then a certificate nobody vouches for: warnings, exit 0, bounded."""
    from tests.support.receiver import self_signed

    governed(shop)
    monkeypatch.setenv("E2E_HOOK_SECRET", SECRET)
    cert, key = self_signed(tmp_path)
    with receiving([500] * 20) as failing, receiving(hold=30.0) as hanging, receiving(tls=(cert, key)) as bad_tls:
        monkeypatch.setenv("E2E_HOOK", failing.url)
        released = run_cli("release", "--env", "dev", cwd=shop.root, clock=at(T0))
        assert released.code == 0, released.err
        assert "notification release to channel audit not delivered (3 attempt(s))" in released.err
        assert "HTTP 500" in released.err and "secret-path" not in released.err  # the URL is a secret
        assert len(failing.requests) == 3

        monkeypatch.setenv("E2E_HOOK", hanging.url)
        started = time.monotonic()
        froze = run_cli("freeze", "--env", "prod", "--until", "1h", "--reason", "x", cwd=shop.root, clock=at(T0))
        waited = time.monotonic() - started
        assert froze.code == 0, froze.err
        assert "notification freeze to channel audit not delivered" in froze.err
        assert waited < 25  # deadline 4s + timeout 2s: far from the receiver's 30s hold (a bound, not a speed claim)

        monkeypatch.setenv("E2E_HOOK", bad_tls.url)
        lifted = run_cli("unfreeze", "--env", "prod", cwd=shop.root, clock=at(T0))
        assert lifted.code == 0, lifted.err
        assert "the TLS certificate could not be verified; not sent" in lifted.err and bad_tls.requests == []
    assert json.loads(shop.remote_file("gitops/environments/prod/freeze.json"))["frozen"] is False
