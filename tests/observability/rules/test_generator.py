"""`devops observability rules`: the SLO rule file generated from pipelines/devops.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from devops.config import load_config
from devops.config.observability import ObservabilityConfig
from devops.domain.observability.rules import (
    BURN_WINDOWS,
    DEFAULT_PATH,
    HEADER,
    WINDOWS,
    render_slo_rules,
    slo_rule_groups,
    thresholds,
)
from devops.domain.observability.slo import SloDefinitions, objectives
from devops.errors import ConfigError
from tests.observability.rules.conftest import REPO_ROOT, Promtool
from tests.support.cli import run_cli

CONFIG = REPO_ROOT / "pipelines" / "devops.yaml"
COMMITTED = REPO_ROOT / DEFAULT_PATH


@pytest.fixture(scope="module")
def slos() -> SloDefinitions:
    """The repository's objectives, as the configuration builds them for the domain."""
    return load_config(CONFIG).slo_definitions()


def with_slos(**observability: Any) -> SloDefinitions:
    """Another, validated, `observability` block, as the repository's file would give it."""
    return ObservabilityConfig.model_validate(observability).definitions("pipelines/devops.yaml")


def alerts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def test_committed_rule_file_is_what_the_config_generates(slos: SloDefinitions) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_slo_rules(slos), (
        f"{DEFAULT_PATH} is stale: run `devops observability rules` and commit it"
    )


def test_cli_check_passes_on_the_committed_file() -> None:
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--check")
    assert outcome.code == 0, outcome.err
    assert f"{DEFAULT_PATH}: up to date" in outcome.out


def test_cli_check_fails_on_a_modified_copy(tmp_path: Path) -> None:
    copy = tmp_path / "slo.yaml"
    copy.write_text(COMMITTED.read_text(encoding="utf-8").replace("(14.4 * 0.005)", "(20 * 0.005)", 1))
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--check", "--output", str(copy))
    assert outcome.code == 1
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"devops: error: {copy}: differs from what pipelines/devops.yaml (observability.slos) generates; "
        "run `devops observability rules` and commit it"
    )
    # --check writes nothing.
    assert "(20 * 0.005)" in copy.read_text()


def test_cli_check_fails_on_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "rules" / "slo.yaml"
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--check", "--output", str(missing))
    assert outcome.code == 1
    assert outcome.err.strip() == (
        f"devops: error: {missing}: missing; run `devops observability rules` and commit it"
    )
    assert not missing.exists()


def test_cli_writes_the_file_and_reports_json(tmp_path: Path, slos: SloDefinitions) -> None:
    out = tmp_path / "rules" / "slo.yaml"
    first = run_cli("--config", str(CONFIG), "observability", "rules", "--output", str(out), "--json")
    assert first.code == 0, first.err
    assert first.json() == {"path": str(out), "changed": True, "objectives": 6}
    assert out.read_text(encoding="utf-8") == render_slo_rules(slos)
    again = run_cli("--config", str(CONFIG), "observability", "rules", "--output", str(out))
    assert again.code == 0
    assert again.out.startswith(f"unchanged {out} (6 objectives, 3 services)")
    check = run_cli("--config", str(CONFIG), "observability", "rules", "--output", str(out), "--check")
    assert check.code == 0


def test_cli_reports_an_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    target = blocker / "slo.yaml"
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--output", str(target))
    assert outcome.code == 2
    assert outcome.err.startswith(f"devops: error: {target}: cannot write: ")
    assert len(outcome.err.strip().splitlines()) == 1


def _config_file(tmp_path: Path, old: str, new: str) -> Path:
    text = CONFIG.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "pipelines" / "devops.yaml"
    path.parent.mkdir()
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("slo_period: 30d", "slo_period: 2d",
         "pipelines/devops.yaml: observability.slo_period: 2d is shorter than the longest alert window (3d) "
         "(use a period of at least 3d; 30d is the usual one)"),
        ("product: {availability: 99.5,", "product: {availability: 90,",
         "pipelines/devops.yaml: observability.slos.product.availability: 90 leaves an error budget of 10%; "
         "a 14.4x burn would need more than 100 % bad requests, so the 1h/5m alert could never fire "
         "(raise the objective)"),
    ],
    ids=["period-too-short", "objective-too-loose"],
)
def test_cli_refuses_targets_no_alert_can_honour(tmp_path: Path, old: str, new: str, message: str) -> None:
    config_path = _config_file(tmp_path, old, new)
    out = tmp_path / "slo.yaml"
    outcome = run_cli("--config", str(config_path), "observability", "rules", "--output", str(out))
    assert outcome.code == 2
    assert outcome.err.strip() == f"devops: error: {message}"
    assert not out.exists()


def test_cli_rejects_a_bad_period_when_loading_the_config(tmp_path: Path) -> None:
    config_path = _config_file(tmp_path, "slo_period: 30d", "slo_period: 30 days")
    outcome = run_cli("--config", str(config_path), "observability", "rules", "--output", str(tmp_path / "x.yaml"))
    assert outcome.code == 2
    assert "observability.slo_period" in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


def test_output_is_deterministic_with_the_header(slos: SloDefinitions) -> None:
    first, second = render_slo_rules(slos), render_slo_rules(slos)
    assert first == second
    assert first.startswith(f"# {HEADER}\n")
    assert "# source: pipelines/devops.yaml observability (slo_period 30d)" in first
    # Valid YAML whose data is exactly the generator's.
    assert YAML(typ="safe", pure=True).load(first) == slo_rule_groups(slos)


def test_one_group_per_service_recording_rules_before_alerts(slos: SloDefinitions) -> None:
    data = slo_rule_groups(slos)
    assert [g["name"] for g in data["groups"]] == ["slo-product", "slo-cart", "slo-order"]
    for group in data["groups"]:
        kinds = ["record" if "record" in rule else "alert" for rule in group["rules"]]
        assert kinds == ["record"] * 14 + ["alert"] * 4
        records = [(r["record"], r["labels"]["slo"]) for r in group["rules"] if "record" in r]
        expected = [(f"slo:sli_error:ratio_rate{w}", slo) for slo in ("availability", "latency") for w in WINDOWS]
        assert records == expected
        service = group["name"].removeprefix("slo-")
        assert {r["labels"]["service"] for r in group["rules"]} == {service}


def test_recording_rules_use_the_shared_slo_queries(slos: SloDefinitions) -> None:
    data = slo_rule_groups(slos)
    by_key = {
        (r["labels"]["service"], r["labels"]["slo"], r["record"]): r["expr"]
        for g in data["groups"] for r in g["rules"] if "record" in r
    }
    for objective in objectives(slos):
        for window in WINDOWS:
            assert by_key[(objective.service, objective.kind, f"slo:sli_error:ratio_rate{window}")] == objective.ratio(
                window
            )
    order_latency = by_key[("order", "latency", "slo:sli_error:ratio_rate5m")]
    assert 'job="order"' in order_latency and 'le=~"0[.]50*"' in order_latency


def test_targets_become_burn_thresholds(slos: SloDefinitions) -> None:
    """99.5 % -> budget 0.005: page at 14.4 x 0.005 (1h) and 6 x 0.005 (6h), ticket 3x and 1x."""
    product = next(o for o in objectives(slos) if o.name == "product-availability")
    found = [(w.severity, w.long, w.short, factor, round(limit, 6)) for w, factor, limit in thresholds(product, "30d")]
    assert found == [
        ("critical", "1h", "5m", 14.4, 0.072),
        ("critical", "6h", "30m", 6.0, 0.03),
        ("warning", "1d", "2h", 3.0, 0.015),
        ("warning", "3d", "6h", 1.0, 0.005),
    ]
    page = next(a for a in alerts(slo_rule_groups(slos))
                if a["labels"] == {"severity": "critical", "service": "product", "slo": "availability"})
    assert 'slo:sli_error:ratio_rate1h{service="product",slo="availability"} > (14.4 * 0.005)' in page["expr"]
    assert 'slo:sli_error:ratio_rate5m{service="product",slo="availability"} > (14.4 * 0.005)' in page["expr"]
    assert 'slo:sli_error:ratio_rate6h{service="product",slo="availability"} > (6 * 0.005)' in page["expr"]
    latency = next(a for a in alerts(slo_rule_groups(slos))
                   if a["labels"] == {"severity": "warning", "service": "order", "slo": "latency"})
    assert "> (3 * 0.01)" in latency["expr"] and "> (1 * 0.01)" in latency["expr"]


def test_other_targets_and_services(slos: SloDefinitions) -> None:
    variant = with_slos(slo_period="30d", slos={"cart": {"availability": 99.9}})
    data = slo_rule_groups(variant)
    assert [g["name"] for g in data["groups"]] == ["slo-cart"]
    found = alerts(data)
    # No latency objective: no latency rules at all.
    assert {a["alert"] for a in found} == {"ApiAvailabilityBudgetBurn"}
    assert "> (14.4 * 0.001)" in found[0]["expr"]
    assert "budget 0.1%" in found[0]["annotations"]["description"]


def test_other_periods_scale_the_burn_factors(slos: SloDefinitions) -> None:
    """28d: the same share of the budget per window, so 14.4 x 28/30 = 13.44 and so on."""
    variant = with_slos(slo_period="28d", slos={"product": {"availability": 99.5}})
    assert [w.factor("28d") for w in BURN_WINDOWS] == [13.44, 5.6, 2.8, 0.9333]
    assert [w.factor("30d") for w in BURN_WINDOWS] == [14.4, 6.0, 3.0, 1.0]
    page = alerts(slo_rule_groups(variant))[0]
    assert "> (13.44 * 0.005)" in page["expr"] and "> (5.6 * 0.005)" in page["expr"]
    assert "over 28d" in page["annotations"]["description"]


def test_no_slos_gives_an_empty_valid_rule_file(slos: SloDefinitions, promtool: Promtool, tmp_path: Path) -> None:
    variant = with_slos(slos={})
    path = tmp_path / "slo.yaml"
    path.write_text(render_slo_rules(variant))
    assert slo_rule_groups(variant) == {"groups": []}
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_threshold_errors_name_the_key(slos: SloDefinitions) -> None:
    loose = objectives(with_slos(slos={"order": {"availability": 93}}))[0]
    with pytest.raises(ConfigError, match=r"observability\.slos\.order\.availability: 93 leaves an error budget of 7%"):
        thresholds(loose, "30d")
    slow = objectives(with_slos(slos={"order": {"availability": 99.9,
                                                        "latency": {"threshold_seconds": 0.5, "objective": 90}}}))
    with pytest.raises(ConfigError, match=r"observability\.slos\.order\.latency\.objective: 90 "):
        thresholds(slow[1], "30d")


def test_generated_variant_passes_promtool_and_fires(slos: SloDefinitions, promtool: Promtool, tmp_path: Path) -> None:
    """A stricter target (99.9 %) lowers the thresholds: 2 % errors now page (> 14.4 x 0.1 %)."""
    variant = with_slos(slos={"order": {"availability": 99.9}})
    rules = tmp_path / "slo.yaml"
    rules.write_text(render_slo_rules(variant))
    assert promtool("check", "rules", str(rules)).returncode == 0
    described = {a["labels"]["severity"]: a["annotations"] for a in alerts(slo_rule_groups(variant))}
    expected = []
    for severity in ("critical", "warning"):
        annotations = dict(described[severity])
        annotations["description"] = annotations["description"].replace("{{ $value | humanizePercentage }}", "2%")
        expected.append({"exp_labels": {"severity": severity, "service": "order", "slo": "availability"},
                         "exp_annotations": annotations})
    series = 'http_requests_total{{job="order",namespace="shop",method="POST",route="/api/orders",status="{}"}}'
    test = {
        "rule_files": ["slo.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": series.format("201"), "values": "0+98x30"},
                             {"series": series.format("500"), "values": "0+2x30"}],
            "alert_rule_test": [{"eval_time": "20m", "alertname": "ApiAvailabilityBudgetBurn",
                                 "exp_alerts": expected}],
        }],
    }
    yaml = YAML()
    with (tmp_path / "variant_test.yaml").open("w") as handle:
        yaml.dump(test, handle)
    result = promtool("test", "rules", "variant_test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_refuses_a_folder_as_output(tmp_path: Path) -> None:
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--check", "--output", str(tmp_path))
    assert outcome.code == 2
    assert f"Invalid value for '--output': File '{tmp_path}' is a directory." in outcome.err


def test_cli_check_reports_an_unreadable_file(tmp_path: Path) -> None:
    binary = tmp_path / "slo.yaml"
    binary.write_bytes(b"\xff\xfe not utf-8")
    outcome = run_cli("--config", str(CONFIG), "observability", "rules", "--check", "--output", str(binary))
    assert outcome.code == 2
    assert outcome.err.startswith(f"devops: error: {binary}: cannot read: ")
    assert len(outcome.err.strip().splitlines()) == 1
