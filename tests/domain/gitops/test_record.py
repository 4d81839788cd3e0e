"""The release record: typed read (malformed -> exit 2 naming file and key), canonical write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devops.domain.gitops import record
from devops.errors import BadInput, ExitCode
from tests.gitops.conftest import DIGEST_A, SOURCE, empty_record


def full_record(**services: str) -> dict[str, Any]:
    return {
        "schema": 1, "environment": "dev", "released_at": "2026-11-25T18:40:00Z",
        "released_by": {"actor": "alice", "via": "cli", "run_url": None},
        "source_commit": SOURCE, "promoted_from": None,
        "services": {name: {
            "repository": f"docker.io/test/{name}", "tag": "sha-1234567", "digest": digest,
            "source_commit": SOURCE, "built_at": "2026-11-25T18:39:00Z",
            "scan": {"verdict": "PASSED", "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 3, "LOW": 1, "UNKNOWN": 0},
                     "checked_at": "2026-11-25T18:39:30Z", "trivy_version": "0.76.0",
                     "db_updated_at": "2026-11-25T12:00:00Z"},
            "sonar": {"verdict": "SKIPPED", "reason": "SONAR_TOKEN is not set", "checked_at": "2026-11-25T18:39:31Z"},
        } for name, digest in services.items()},
    }


def test_round_trip_is_canonical_and_keeps_key_order() -> None:
    data = full_record(product=DIGEST_A)
    text = record.validate(data, "release.json").to_json()
    assert text == json.dumps(data, indent=2) + "\n"
    assert list(json.loads(text)) == ["schema", "environment", "released_at", "released_by", "source_commit",
                                      "promoted_from", "services"]


def test_initial_file_reads_as_empty_record() -> None:
    parsed = record.parse(empty_record("dev"), "release.json", environment="dev")
    assert parsed.services == {} and parsed.released_at is None
    assert parsed.to_json() == empty_record("dev")


def test_unknown_keys_are_kept() -> None:
    data = full_record(product=DIGEST_A)
    data["services"]["product"]["sbom"] = "sha256:" + "e" * 64
    assert json.loads(record.validate(data, "r.json").to_json())["services"]["product"]["sbom"].startswith("sha256:")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["services"]["product"].update(digest="sha256:12"), "services.product.digest: String should match"),
    (lambda d: d["services"]["product"]["scan"].update(verdict="OK"), "services.product.scan.verdict: Input should be"),
    (lambda d: d.update(released_at="yesterday"), "released_at: expected an ISO 8601 time"),
    (lambda d: d.update(schema=2), "schema: schema 2 is not supported"),
    (lambda d: d["services"]["product"].pop("repository"), "services.product.repository: Field required"),
    (lambda d: d.update(services=[]), "services: Input should be a valid dictionary"),
])
def test_malformed_record_names_file_and_key(mutate: Any, message: str) -> None:
    data = full_record(product=DIGEST_A)
    mutate(data)
    with pytest.raises(BadInput) as caught:
        record.parse(json.dumps(data), "gitops/environments/dev/release.json")
    assert str(caught.value).startswith(f"gitops/environments/dev/release.json: {message}")
    assert caught.value.exit_code == ExitCode.BAD_INPUT


def test_not_json_names_the_line() -> None:
    with pytest.raises(BadInput, match=r"^release.json:3: not valid JSON"):
        record.parse('{\n  "schema": 1,\n  oops\n}', "release.json")


def test_record_of_another_environment_is_refused() -> None:
    with pytest.raises(BadInput, match=r"release.json: environment: the record says 'dev', expected 'prod'"):
        record.parse(json.dumps(full_record()), "release.json", environment="prod")


def test_an_entry_shows_its_image_and_a_record_must_be_an_object() -> None:
    entry = record.validate(full_record(alpha=DIGEST_A), "r").services["alpha"]
    assert entry.image == f"docker.io/test/alpha:sha-1234567@{DIGEST_A}"
    untagged = full_record(alpha=DIGEST_A)
    untagged["services"]["alpha"]["tag"] = ""
    assert record.validate(untagged, "r").services["alpha"].image == f"docker.io/test/alpha@{DIGEST_A}"
    with pytest.raises(BadInput, match="r: expected a JSON object, got list"):
        record.validate([], "r")
