"""Release governance: `calendars:` (dates, ranges, rules, zones, iCalendar files in the
repository), `environments.<env>.freeze|evidence.min_soak|auto_rollback`, `notifications:`,
the options of `devops freeze|unfreeze` and `--break-glass`, and the freeze file in the GitOps
repository as anyone with push access could write it.

Each family has a control that passes. A bad key is exit 2 naming the file and the key; a bad
option exit 2 naming the option; a malformed freeze file exit 2 naming freeze.json and the key,
with nothing pushed (a release never guesses whether a broken stop sign meant stop).
"""

from __future__ import annotations

import json
from typing import Any

from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import COST, VERIFY, base_config_text, config_with, remote_setup
from tests.support.cli import Outcome
from tests.support.project import git

VALIDATE = ("config", "validate")
FREEZE_FILE = "gitops/environments/prod/freeze.json"

CALENDARS = """\
calendars:
  company:
    timezone: Europe/Berlin
    holidays: ["2026-12-25", "2026-12-31..2027-01-01", {name: May Day, from: "2027-05-01", rrule: "FREQ=YEARLY"}]
    freezes:
      - {name: year end, from: "2026-12-18T18:00", to: "2027-01-04T09:00"}
"""
NOTIFICATIONS = """\
notifications:
  channels:
    team: {kind: slack, url_env: SLACK_WEBHOOK_URL, events: [release, freeze], environments: [prod]}
    audit: {kind: webhook, url_env: AUDIT_URL, secret_env: AUDIT_SECRET}
"""
VERIFY_DEV = base_config_text().replace("    gitops: {path: gitops/environments/dev}\n",
                                        "    gitops: {path: gitops/environments/dev}\n" + VERIFY)
ALL = VERIFY_DEV + COST + CALENDARS + NOTIFICATIONS


def governed(*changes: tuple[Any, str | None]) -> str:
    return config_with(*changes, base=ALL)


def bad(case_id: str, key: str | tuple[str, ...], raw: str, *mentions: str, shown: str | None = None) -> Case:
    """`key` set to `raw`: exit 2 naming the file and the key (or `shown`: the error names the
    mapping holding the key and the entry, e.g. `calendars.company: holidays[0]`)."""
    shown = shown or (key if isinstance(key, str) else ".".join(key))
    return Case(f"governance-{case_id}", VALIDATE, 2, config=governed((key, raw)),
                mentions=("devops.yaml", shown, *mentions))


def _head(ctx: CaseContext) -> str:
    return git(ctx.root.parent / "origin.git", "rev-parse", "main").strip()


def remembered(files: dict[str, str | bytes] | None = None) -> Any:
    base = remote_setup(files=files or {})

    def setup(ctx: CaseContext) -> None:
        base(ctx)
        (ctx.root.parent / "origin-head").write_text(_head(ctx))

    return setup


def nothing_pushed(ctx: CaseContext, _outcome: Outcome) -> None:
    assert _head(ctx) == (ctx.root.parent / "origin-head").read_text(), "the GitOps remote changed"


def freeze_written(ctx: CaseContext, outcome: Outcome) -> None:
    text = git(ctx.root.parent / "origin.git", "show", f"main:{FREEZE_FILE}")
    assert json.loads(text)["frozen"] is True and json.loads(text)["reason"] == "incident"


def freeze_file(**changes: Any) -> str:
    data = {"schema": 1, "environment": "prod", "frozen": True, "until": "2099-01-01T00:00:00Z",
            "reason": "incident", "by": {"actor": "alice", "via": "cli", "run_url": None},
            "at": "2026-12-01T00:00:00Z", **changes}
    return json.dumps({k: v for k, v in data.items() if v != "DROP"})


def on_remote(case_id: str, argv: tuple[str, ...], expect: int, *mentions: str,
              files: dict[str, str | bytes] | None = None, check: Any = None) -> Case:
    return Case(f"governance-{case_id}", argv, expect, config=ALL, mentions=mentions,
                setup=remembered(files), check=check or nothing_pushed)


FREEZE = ("freeze", "--env", "prod", "--until", "4h", "--reason", "incident")

CASES = [
    # -- controls ----------------------------------------------------------------------------------
    Case("governance-control-all-blocks", VALIDATE, 0, config=ALL),
    Case("governance-control-cost-uses-a-calendar", VALIDATE, 0,
         config=governed(("cost.schedules.office.calendars", "[company]"))),
    on_remote("control-freeze-written", FREEZE, 0, check=freeze_written),
    # -- calendars ---------------------------------------------------------------------------------
    bad("calendar-zone-unknown", "calendars.company.timezone", "Mars/Olympus", "Mars/Olympus"),
    bad("calendar-date-not-a-date", "calendars.company.holidays", '["2026-13-45"]', "2026-13-45",
        shown="calendars.company: holidays[0]"),
    bad("calendar-range-backwards", "calendars.company.holidays", '["2027-01-02..2026-12-30"]', "2027-01-02",
        shown="calendars.company: holidays[0]"),
    bad("calendar-rrule-unknown-freq", "calendars.company.freezes",
        '[{name: x, from: "2026-12-18T18:00", to: "2026-12-19T09:00", rrule: "FREQ=SOMETIMES"}]', "FREQ",
        shown="calendars.company: freezes[0]"),
    bad("calendar-freeze-ends-before-start", "calendars.company.freezes",
        '[{name: x, from: "2026-12-18T18:00", to: "2026-12-17T09:00"}]', "2026-12-17",
        shown="calendars.company: freezes[0]"),
    bad("calendar-name-not-a-name", ("calendars", "Company Wide"), "{timezone: UTC}", "Company Wide", shown="calendars"),
    bad("calendar-ics-outside", "calendars.company.ics", "{holidays: ../outside.ics}", "outside.ics"),
    Case("governance-calendar-ics-malformed", VALIDATE, 2, config=governed(
        ("calendars.company.ics", "{holidays: calendars/company.ics}")),
        files={"calendars/company.ics": "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026-99-99\n"
                                        "END:VEVENT\nEND:VCALENDAR\n"},
        mentions=("company.ics",)),
    Case("governance-calendar-ics-missing", VALIDATE, 2, config=governed(
        ("calendars.company.ics", "{holidays: calendars/nowhere.ics}")), mentions=("nowhere.ics",)),
    bad("cost-calendar-unknown", "cost.schedules.office.calendars", "[nowhere]", "nowhere"),
    bad("freeze-calendar-unknown", "environments.prod.freeze", "{calendars: [nowhere]}", "nowhere"),
    bad("freeze-holidays-not-a-flag", "environments.prod.freeze", "{calendars: [company], holidays: maybe}",
        "holidays"),
    # -- soak and automatic rollback -------------------------------------------------------------------
    bad("min-soak-words", "environments.prod.evidence", '{min_soak: "two hours"}', "min_soak"),
    bad("min-soak-too-long", "environments.prod.evidence", "{min_soak: 9999d}", "min_soak"),
    bad("min-soak-without-promote-from", "environments.dev.evidence", "{min_soak: 2h}", "promote_from"),
    bad("auto-rollback-not-a-flag", "environments.dev.auto_rollback", '"yes please"', "auto_rollback"),
    bad("auto-rollback-without-verify", "environments.prod.auto_rollback", "true", "verify"),
    # -- notifications -----------------------------------------------------------------------------------
    bad("notify-event-unknown", "notifications.channels.team.events", "[deploy]", "deploy"),
    bad("notify-webhook-unsigned", "notifications.channels.audit", "{kind: webhook, url_env: AUDIT_URL}",
        "secret_env"),
    bad("notify-slack-with-secret", "notifications.channels.team",
        "{kind: slack, url_env: SLACK_WEBHOOK_URL, secret_env: S}", "secret_env"),
    bad("notify-url-not-a-variable", "notifications.channels.team.url_env", '"https://hooks.slack.com/x"',
        "url_env"),
    bad("notify-kind-unknown", "notifications.channels.team.kind", "teams", "kind"),
    bad("notify-environment-unknown", "notifications.channels.team.environments", "[staging]", "staging"),
    bad("notify-timeout-zero", "notifications.timeout_seconds", "0", "timeout_seconds"),
    bad("notify-attempts-too-many", "notifications.attempts", "50", "attempts"),
    bad("notify-channel-name", ("notifications", "channels", "Team Chat"),
        "{kind: slack, url_env: SLACK_WEBHOOK_URL}", "Team Chat", shown="notifications.channels"),
    # -- options -----------------------------------------------------------------------------------------
    on_remote("freeze-until-words", ("freeze", "--env", "prod", "--until", "tomorrow", "--reason", "x"), 2,
              "--until", "tomorrow"),
    on_remote("freeze-until-past", ("freeze", "--env", "prod", "--until", "2001-01-01T00:00Z", "--reason", "x"),
              2, "--until"),
    on_remote("freeze-until-too-far", ("freeze", "--env", "prod", "--until", "9999d", "--reason", "x"), 2,
              "--until"),
    on_remote("freeze-reason-empty", ("freeze", "--env", "prod", "--until", "4h", "--reason", " "), 2, "--reason"),
    on_remote("freeze-reason-newline", ("freeze", "--env", "prod", "--until", "4h", "--reason", "a\nb"), 2,
              "--reason"),
    on_remote("freeze-env-unknown", ("freeze", "--env", "staging", "--until", "4h", "--reason", "x"), 2, "staging"),
    on_remote("unfreeze-env-not-a-name", ("unfreeze", "--env", "../prod"), 2, "--env"),
    on_remote("break-glass-empty", ("release", "--env", "prod", "--break-glass", ""), 2, "--break-glass"),
    on_remote("break-glass-control-chars", ("release", "--env", "prod", "--break-glass", "fix\x1b[31m"), 2,
              "--break-glass"),
    # -- the freeze file in the GitOps repository -------------------------------------------------------
    on_remote("freeze-file-not-json", ("release", "--env", "prod"), 2, "freeze.json",
              files={FREEZE_FILE: "{frozen: yes\n"}),
    on_remote("freeze-file-frozen-not-a-flag", ("release", "--env", "prod"), 2, "freeze.json", "frozen",
              files={FREEZE_FILE: freeze_file(frozen="yes")}),
    on_remote("freeze-file-until-not-a-time", ("release", "--env", "prod"), 2, "freeze.json", "until",
              files={FREEZE_FILE: freeze_file(until="after lunch")}),
    on_remote("freeze-file-other-environment", ("release", "--env", "prod"), 2, "freeze.json", "dev",
              files={FREEZE_FILE: freeze_file(environment="dev")}),
    on_remote("freeze-file-unknown-key", ("release", "--env", "prod"), 2, "freeze.json", "override",
              files={FREEZE_FILE: freeze_file(override=True)}),
    on_remote("freeze-file-schema-2", ("status", "--env", "prod"), 2, "freeze.json", "schema",
              files={FREEZE_FILE: freeze_file(schema=2)}),
    on_remote("freeze-file-in-force-refuses", ("release", "--env", "prod"), 1, "frozen", "incident",
              files={FREEZE_FILE: freeze_file()}),
]
