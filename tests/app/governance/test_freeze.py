"""Freezes on the use cases: the freeze file `devops freeze` writes, calendar freezes, break-glass
(recorded in the record, the commit trailer and the notification), and `devops unfreeze`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from devops.app.freeze import freeze, unfreeze
from devops.app.status import environment_status
from devops.domain.calendars.model import Calendar, entry
from devops.domain.gitops.change import ConcurrentChange
from devops.domain.gitops.message import parse_trailers
from devops.domain.release.freeze import FreezePolicy
from devops.errors import BadInput, ExitCode, GateFailed
from tests.app.governance.conftest import NOW, World, verified_release
from tests.app.release.conftest import DIGEST_A, DIGEST_B, SERVICES
from tests.app.release.test_release import released

FREEZE = "env/{env}/freeze.json"


def frozen(world: World, env: str, until: str = "2026-11-27T18:00:00Z", reason: str = "payments incident",
           frozen: bool = True) -> None:
    """Someone froze `env` (the file as `devops freeze` writes it)."""
    document = {"schema": 1, "environment": env, "frozen": frozen, "until": until if frozen else None,
                "reason": reason if frozen else None, "by": {"actor": "bob", "via": "cli", "run_url": None},
                "at": "2026-11-26T08:00:00Z"}
    world.gitops.remote.land("main", {FREEZE.format(env=env): json.dumps(document, indent=2) + "\n"}, "freeze")


def last_message(world: World) -> str:
    remote = world.gitops.remote
    return remote.commits[remote.branches["main"]].message


# -- refusals and their controls -------------------------------------------------------------


def test_a_freeze_refuses_the_release_naming_it_and_when_it_ends_before_anything_is_built(world: World) -> None:
    frozen(world, "dev")
    commits = world.gitops.commits()
    with pytest.raises(GateFailed) as refused:
        world.release("dev")
    message = str(refused.value)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    assert "dev is frozen: devops freeze (the GitOps repository) until 2026-11-27T18:00:00Z (by bob): payments " \
           "incident; releases resume at 2026-11-27T18:00:00Z (in 1d 9h)" in message
    assert "--break-glass" in message
    assert world.steps.asked == ["open dev"] and world.gitops.commits() == commits  # nothing built, nothing written
    assert world.told.events == []


def test_a_freeze_that_has_ended_or_was_lifted_does_not_stop_a_release(world: World) -> None:
    frozen(world, "dev", until="2026-11-26T08:59:59Z")  # a second before NOW
    report, error = world.release("dev")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"
    frozen(world, "dev", frozen=False)
    again, error = world.release("dev")  # nothing new to release, but not refused
    assert error is None and [s.status for s in again.services] == ["unchanged"] * len(again.services)


def test_break_glass_passes_the_freeze_and_is_recorded_in_record_trailer_and_notification(world: World) -> None:
    frozen(world, "dev")
    report, error = world.release("dev", break_glass="hotfix for INC-42")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"
    release_commit = report.publish.commit
    block = world.gitops.record("dev")["break_glass"]
    assert block["reason"] == "hotfix for INC-42" and block["by"]["actor"] == "alice"
    assert block["at"] == "2026-11-26T09:00:00Z" and block["freezes"][0].startswith("devops freeze (the GitOps")
    message = world.gitops.remote.commits[release_commit].message  # type: ignore[index]
    assert parse_trailers(message)["Devops-Break-Glass"] == ["hotfix for INC-42"]
    assert world.told.kinds()[:2] == ["release", "break-glass"]
    glass = world.told.events[1]
    assert "hotfix for INC-42" in glass.summary and "alice" in glass.summary and glass.severity == "warning"
    assert glass.data["break_glass"]["reason"] == "hotfix for INC-42"
    assert "break-glass: hotfix for INC-42 (by alice)" in world.told.events[0].details
    assert report.break_glass == block


def test_break_glass_without_a_freeze_is_not_recorded_and_says_so(world: World) -> None:
    report, error = world.release("dev", break_glass="just in case")
    assert error is None and report.break_glass is None and "break_glass" not in world.gitops.record("dev")
    assert world.warnings == ["dev is not frozen: --break-glass is not needed and is not recorded"]
    assert "break-glass" not in world.told.kinds()
    assert report.publish is not None and report.publish.commit is not None
    assert "Devops-Break-Glass" not in parse_trailers(world.gitops.remote.commits[report.publish.commit].message)


def test_a_later_release_does_not_carry_an_earlier_break_glass(world: World) -> None:
    frozen(world, "dev")
    world.release("dev", services=("alpha",), break_glass="hotfix")
    frozen(world, "dev", frozen=False)
    world.release("dev", services=("beta",))
    assert "break_glass" not in world.gitops.record("dev")


def test_a_prod_freeze_does_not_stop_dev(world: World) -> None:
    frozen(world, "prod")
    report, error = world.release("dev")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"


def test_a_calendar_freeze_refuses_a_promotion_before_the_registry_is_asked(world: World) -> None:
    verified_release(world.gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    calendar = Calendar.build("releases", "Europe/Berlin", [
        entry("year end", "freeze", dt.date(2026, 11, 20), dt.date(2026, 11, 26), calendar_zone()),
        entry("team offsite", "freeze", dt.datetime(2026, 11, 27), dt.datetime(2026, 11, 28, 12), calendar_zone())])
    policy = FreezePolicy("prod", (calendar,))
    with pytest.raises(GateFailed) as refused:
        world.release("prod", freezes=policy)
    # The year end covers the 26th (Berlin); the offsite starts when it ends: one freeze until the 28th noon.
    assert "prod is frozen: year end (calendar releases, freeze) until 2026-11-28T11:00:00Z" in str(refused.value)
    assert world.steps.asked == ["open prod"]
    report, error = world.release("prod", freezes=policy, break_glass="security fix")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"
    assert world.gitops.record("prod")["break_glass"]["freezes"] == [
        "year end (calendar releases, freeze) until 2026-11-28T11:00:00Z"]


def test_calendar_holidays_freeze_unless_the_environment_says_holidays_false(world: World) -> None:
    calendar = Calendar.build("india", "Asia/Kolkata", [entry("Diwali", "holiday", dt.date(2026, 11, 26), None,
                                                              calendar_zone("Asia/Kolkata"))])
    with pytest.raises(GateFailed, match="Diwali .calendar india, holiday. until 2026-11-26T18:30:00Z"):
        world.release("dev", freezes=FreezePolicy("dev", (calendar,)))
    report, error = world.release("dev", freezes=FreezePolicy("dev", (calendar,), holidays=False))
    assert error is None and report.publish is not None


def calendar_zone(name: str = "Europe/Berlin"):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# -- devops freeze / unfreeze -----------------------------------------------------------------


def test_freeze_writes_the_file_in_one_commit_and_tells_the_channels(world: World) -> None:
    until = NOW + dt.timedelta(hours=4)
    result = freeze("prod", until, "release train paused", world.steps, FreezePolicy("prod"), now=NOW,
                    notifier=world.told)
    assert result.publish is not None and result.publish.outcome == "committed"
    written = json.loads(world.gitops.file(FREEZE.format(env="prod")) or "{}")
    assert written == {"schema": 1, "environment": "prod", "frozen": True, "until": "2026-11-26T13:00:00Z",
                       "reason": "release train paused", "by": {"actor": "alice", "via": "cli", "run_url": None},
                       "at": "2026-11-26T09:00:00Z"}
    message = last_message(world)
    assert message.startswith("freeze(prod): until 2026-11-26T13:00:00Z: release train paused")
    assert parse_trailers(message)["Devops-Freeze-Until"] == ["2026-11-26T13:00:00Z"]
    assert [f.name for f in result.active] == ["devops freeze"]
    assert world.told.kinds() == ["freeze"] and "prod frozen until 2026-11-26T13:00:00Z by alice" in \
        world.told.events[0].summary
    with pytest.raises(GateFailed, match="releases resume at 2026-11-26T13:00:00Z .in 4h."):
        world.release("prod")


def test_the_same_freeze_twice_is_one_commit(world: World) -> None:
    until = NOW + dt.timedelta(hours=4)
    freeze("prod", until, "paused", world.steps, FreezePolicy("prod"), now=NOW)
    commits = world.gitops.commits()
    again = freeze("prod", until, "paused", world.steps, FreezePolicy("prod"), now=NOW)
    assert again.publish is not None and again.publish.outcome == "noop" and world.gitops.commits() == commits


def test_unfreeze_lifts_it_and_an_unfrozen_environment_is_left_alone(world: World) -> None:
    lifted = unfreeze("prod", world.steps, FreezePolicy("prod"), now=NOW, notifier=world.told)
    assert lifted.publish is None and world.told.events == []  # nothing to lift, no commit
    frozen(world, "prod")
    lifted = unfreeze("prod", world.steps, FreezePolicy("prod"), now=NOW, notifier=world.told)
    assert lifted.publish is not None and lifted.publish.outcome == "committed" and lifted.active == []
    written = json.loads(world.gitops.file(FREEZE.format(env="prod")) or "{}")
    assert (written["frozen"], written["until"], written["reason"], written["by"]["actor"]) == (False, None, None,
                                                                                                "alice")
    assert last_message(world).startswith("unfreeze(prod): lifted")
    assert world.told.events[0].summary == "prod unfrozen by alice"


def test_a_freeze_in_the_past_is_bad_input(world: World) -> None:
    with pytest.raises(BadInput, match="not after now"):
        freeze("prod", NOW - dt.timedelta(minutes=1), "late", world.steps, FreezePolicy("prod"), now=NOW)
    assert world.gitops.opened == []


def test_a_freeze_landing_while_ours_is_pushed_is_not_overwritten(world: World) -> None:
    def someone_else_freezes(repo: object) -> None:
        repo.before_push.append(lambda: frozen(world, "prod", reason="their freeze"))  # type: ignore[attr-defined]

    world.gitops.on_open.append(someone_else_freezes)
    with pytest.raises(ConcurrentChange, match="another freeze or unfreeze landed first"):
        freeze("prod", NOW + dt.timedelta(hours=1), "ours", world.steps, FreezePolicy("prod"), now=NOW)
    assert json.loads(world.gitops.file(FREEZE.format(env="prod")) or "{}")["reason"] == "their freeze"


def test_a_release_landing_while_a_freeze_is_pushed_is_kept(world: World) -> None:
    def a_release_lands(repo: object) -> None:
        repo.before_push.append(lambda: released(world.gitops, "prod", alpha=DIGEST_A))  # type: ignore[attr-defined]

    world.gitops.on_open.append(a_release_lands)
    result = freeze("prod", NOW + dt.timedelta(hours=1), "ours", world.steps, FreezePolicy("prod"), now=NOW)
    assert result.publish is not None and result.publish.attempts == 2  # re-applied on the new tip
    assert world.gitops.record("prod")["services"]["alpha"]["digest"] == DIGEST_A
    assert json.loads(world.gitops.file(FREEZE.format(env="prod")) or "{}")["reason"] == "ours"


def test_a_malformed_freeze_file_stops_releases_as_bad_input(world: World) -> None:
    world.gitops.remote.land("main", {FREEZE.format(env="dev"): '{"schema": 1, "environment": "dev"}\n'})
    with pytest.raises(BadInput, match="env/dev/freeze.json: frozen: Field required"):
        world.release("dev")
    assert world.steps.asked == ["open dev"]


def test_status_shows_the_freezes_in_force(world: World) -> None:
    frozen(world, "prod")
    statuses = environment_status(["dev", "prod"], {"prod": "dev"}, list(SERVICES), world.steps, now=NOW,
                                  freezes={"dev": FreezePolicy("dev"), "prod": FreezePolicy("prod")})
    by_name = {s.environment: s for s in statuses}
    assert by_name["dev"].freezes == []
    assert [f.describe() for f in by_name["prod"].freezes] == [
        "devops freeze (the GitOps repository) until 2026-11-27T18:00:00Z (by bob): payments incident"]
