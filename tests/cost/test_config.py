"""The `cost:` block: bad values exit 2 naming file, line, key and value; the shipped file is sane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devops.config import load_config
from tests.cost.conftest import Run

GOOD = """\
cost:
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]
  targets:
    dev:
      cluster: techitfactory-dev
      schedule: office-hours
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "timezone: Asia/Kolkata",
            "timezone: Asia/Mumbai",
            ":4: cost.schedules.office-hours.timezone: unknown IANA time zone 'Asia/Mumbai'",
        ),
        (
            'uptime: ["Mon-Fri 08:00-20:00"]',
            'uptime: ["Mon-Fri 8h-20h"]',
            ":5: cost.schedules.office-hours.uptime: uptime 'Mon-Fri 8h-20h': expected 'Mon-Fri 08:00-20:00'",
        ),
        (
            'uptime: ["Mon-Fri 08:00-20:00"]',
            'uptime: ["Mon-Fri 08:00-20:00"]\n      holidays: ["25.12.2026"]',
            ":6: cost.schedules.office-hours.holidays: holidays: expected a date (2026-12-25) or range",
        ),
        (
            "schedule: office-hours\n",
            "schedule: nights\n",
            ":1: cost: targets.dev.schedule: unknown schedule 'nights' (known: office-hours)",
        ),
        (
            "cluster: techitfactory-dev",
            "cluster: techitfactory-dev\n      region: mumbai",
            ':9: cost.targets.dev.region: "mumbai" does not match',
        ),
        (
            "cluster: techitfactory-dev",
            "cluster: techitfactory-dev\n      exclude_until: next week",
            ":9: cost.targets.dev.exclude_until: exclude_until: expected a date (2026-12-24) or date-time",
        ),
        (
            "cost:\n",
            "cost:\n  opt_out_tag: devops.cost/skip\n",
            ":2: cost.opt_out_tag: 'devops.cost/skip' is reserved for saved sizes",
        ),
        (
            'uptime: ["Mon-Fri 08:00-20:00"]',
            'uptime: ["Mon-Fri 08:00-20:00"]\n      overrides: [{from: "2026-12-24T20:00", to: "2026-12-24T18:00"}]',
            ":6: cost.schedules.office-hours.overrides.0: override 'to' '2026-12-24T18:00' must be after 'from'",
        ),
        (
            "      schedule: office-hours\n",
            "      schedule: office-hours\n      nodegroup: [a]\n",
            ":10: cost.targets.dev.nodegroup: unknown key; did you mean 'nodegroups'?",
        ),
    ],
)
def test_bad_cost_config_exits_2_naming_key_and_value(
    cli: Callable[..., Run], tmp_path: Path, old: str, new: str, message: str
) -> None:
    from tests.cost.conftest import BASE_CONFIG

    path = tmp_path / "devops.yaml"
    assert old in GOOD
    path.write_text(BASE_CONFIG + GOOD.replace(old, new, 1), encoding="utf-8")
    run = cli("config", "validate", config=path)
    assert run.code == 2
    line = run.err.strip()
    assert "\n" not in line
    assert line.startswith(f"devops: error: {path}")
    # Line numbers are counted in the whole file (BASE_CONFIG is 13 lines long).
    number, _, rest = message.partition(": ")
    expected_line = int(number.strip(":")) + BASE_CONFIG.count("\n")
    assert f"{path}:{expected_line}: {rest}" in line, line


def test_the_shipped_config_schedules_dev_and_never_prod(repo_root: Path) -> None:
    config = load_config(repo_root / "pipelines" / "devops.yaml")
    cost = config.cost
    targets = {t.cluster: t for t in cost.targets.values()}
    assert "techitfactory-dev" in targets
    dev = targets["techitfactory-dev"]
    assert dev.region == "ap-south-1"
    assert cost.schedules[dev.schedule].timezone == "Asia/Kolkata"
    prod_cluster = config.environments["prod"].cluster.name
    assert prod_cluster not in targets or targets[prod_cluster].allow_production is False
    assert not any(t.allow_production for t in cost.targets.values())


def test_unquoted_yaml_dates_and_timestamps_are_accepted(tmp_path: Path) -> None:
    from tests.cost.conftest import BASE_CONFIG

    path = tmp_path / "devops.yaml"
    path.write_text(
        BASE_CONFIG
        + """\
cost:
  schedules:
    office-hours:
      timezone: Europe/Berlin
      uptime: ["Mon-Fri 08:00-20:00"]
      holidays: [2026-12-25, 2026-12-31..2027-01-01]
      overrides:
        - {from: 2026-11-27T20:00:00, to: 2026-11-28 02:00:00, state: up}
  targets:
    dev: {cluster: techitfactory-dev, schedule: office-hours, exclude_until: 2026-12-01}
""",
        encoding="utf-8",
    )
    cost = load_config(path).cost
    schedule = cost.schedules["office-hours"]
    assert schedule.holidays == ("2026-12-25", "2026-12-31..2027-01-01")
    assert cost.targets["dev"].exclude_until == "2026-12-01"
    parsed = schedule.schedule("office-hours")
    # Naive timestamps are the schedule's local time (CET = UTC+1).
    assert parsed.overrides[0].start.isoformat() == "2026-11-27T19:00:00+00:00"
    assert parsed.overrides[0].end.isoformat() == "2026-11-28T01:00:00+00:00"
