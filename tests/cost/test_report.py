"""`devops cost report`: a real calendar month in the schedule's zone, 730 h/month, fixed costs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cost.conftest import BASE_CONFIG, Eks, Run

REPORT_COST = """\
cost:
  schedules:
    office-hours:
      timezone: {zone}
      uptime: ["Mon-Fri 08:00-20:00"]
      holidays: {holidays}
  targets:
    dev:
      cluster: techitfactory-dev
      schedule: office-hours
      capacity:
        general: {{instance_type: t3.medium, count: 2}}
        batch: {{instance_type: m5.large, count: 1}}
  prices:
    ap-south-1:
      instances: {{m5.large: 0.1}}
"""


def config(tmp_path: Path, zone: str = "Asia/Kolkata", holidays: str = "[]", extra: str = "") -> Path:
    path = tmp_path / "devops.yaml"
    path.write_text(BASE_CONFIG + REPORT_COST.format(zone=zone, holidays=holidays) + extra, encoding="utf-8")
    return path


def test_november_in_kolkata(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("cost", "report", "--month", "2026-11", config=config(tmp_path))
    assert run.code == 0, run.err
    data = run.json
    month = data["targets"]["dev"]
    assert (month["month_hours"], month["up_hours"]) == (720, 21 * 12)  # 21 weekdays
    general = next(n for n in data["nodegroups"] if n["nodegroup"] == "general")
    assert general["node_hours_always"] == 1440 and general["node_hours_scheduled"] == 504
    assert general["monthly_always"] == round(0.0416 * 2 * 730, 2) == 60.74
    assert general["monthly_scheduled"] == round(0.0416 * 2 * 730 * 252 / 720, 2)
    batch = next(n for n in data["nodegroups"] if n["nodegroup"] == "batch")
    assert batch["monthly_always"] == 73.0  # the price override from cost.prices
    fixed = {f["item"]: f["monthly"] for f in data["fixed"]}
    assert fixed == {"EKS control plane": 73.0, "NAT gateway": 32.85, "ALB": 16.43}
    totals = data["totals"]
    assert totals["always_on"] == round(60.74 + 73.0 + 73.0 + 32.85 + 16.43, 2)
    assert totals["saving"] == round(totals["always_on"] - totals["scheduled"], 2)
    assert totals["saving_percent"] == round(100 * totals["saving"] / totals["always_on"], 1)
    assert totals["compute_saving_percent"] == 65.0  # 1 - 252/720
    week = data["weeks"][0]
    assert week["start"] == "2026-11-02" and week["up_hours"] == 60
    assert week["days"][0]["runs"] == [
        ["down", "00:00", "08:00"],
        ["up", "08:00", "20:00"],
        ["down", "20:00", "24:00"],
    ]


def test_a_dst_month_and_holidays(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("cost", "report", "--month", "2026-03", config=config(tmp_path, "Europe/Berlin", '["2026-03-02"]'))
    month = run.json["targets"]["dev"]
    assert month["month_hours"] == 743  # March has a 23-hour day in Berlin
    assert month["up_hours"] == 21 * 12  # 22 weekdays, one a holiday
    run = cli("cost", "report", "--month", "2026-10", config=config(tmp_path, "America/New_York"))
    assert run.json["targets"]["dev"]["month_hours"] == 744  # New York falls back in November
    run = cli("cost", "report", "--month", "2026-11", config=config(tmp_path, "America/New_York"))
    assert run.json["targets"]["dev"]["month_hours"] == 721


def test_console_and_job_summary(cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("COLUMNS", "200")
    run = cli(
        "cost",
        "report",
        "--month",
        "2026-11",
        "--schedule",
        "office-hours",
        config=config(tmp_path),
        json_mode=False,
    )
    assert run.code == 0
    assert "saving" in run.out and "USD/month" in run.out
    text = summary.read_text()
    assert text.startswith("## Cost report 2026-11 (730 h/month)")
    assert "```mermaid\ngantt\n" in text
    assert "    section Mon 02\n    down :done, 00:00, 08:00\n    up :active, 08:00, 20:00\n" in text
    assert "| dev | general | 2 x t3.medium | 1440 | 504 | 60.74 |" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "devops: error: --month: expected YYYY-MM like 2026-11, got '2026-13'"),
        (["--schedule", "nights"], "unknown schedule 'nights'; known: office-hours"),
        (["--target", "qa"], "unknown cost target 'qa'; known: dev"),
    ],
)
def test_bad_report_arguments(cli: Callable[..., Run], tmp_path: Path, args: list[str], message: str) -> None:
    run = cli("cost", "report", *args, config=config(tmp_path))
    assert run.code == 2
    assert message in run.err and run.err.strip().count("\n") == 0


def test_unpriced_instance_type_is_a_config_error(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = config(tmp_path)
    path.write_text(path.read_text().replace("m5.large, count: 1", "c7g.large, count: 1"))
    run = cli("cost", "report", "--month", "2026-11", config=path)
    assert run.code == 2
    assert "no price for instance type 'c7g.large' in region ap-south-1" in run.err


def test_capacity_from_aws_uses_saved_sizes_while_down(eks: Eks, cli: Callable[..., Run], tmp_path: Path) -> None:
    """Without `capacity:` the report asks EKS; a node group scaled down counts its saved size."""
    eks.cluster("techitfactory-dev", {"general": (2, 3, 5), "spot": (1, 1, 2)})
    path = tmp_path / "devops.yaml"
    path.write_text(
        BASE_CONFIG
        + """\
cost:
  schedules:
    office-hours: {timezone: Asia/Kolkata, uptime: ["Mon-Fri 08:00-20:00"]}
  targets:
    dev: {cluster: techitfactory-dev, schedule: office-hours}
""",
        encoding="utf-8",
    )
    assert (
        cli(
            "cost",
            "down",
            "--cluster",
            "techitfactory-dev",
            "--nodegroup",
            "general",
            "--at",
            "2026-11-25T23:00:00+05:30",
            config=path,
        ).code
        == 0
    )
    run = cli("cost", "report", "--month", "2026-11", config=path)
    assert run.code == 0, run.err
    counts = {n["nodegroup"]: (n["count"], n["instance_type"], n["source"]) for n in run.json["nodegroups"]}
    assert counts == {"general": (3, "t3.medium", "aws"), "spot": (1, "t3.medium", "aws")}
