"""in-toto Statement v1 (devops.domain.attestation.statement): the signed bytes are canonical,
parsing trusts nothing, and a statement is only accepted for a digest it names. Every refusal
is a policy "no" (exit 1): evidence that cannot be read is missing evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devops.domain.attestation import (
    PAYLOAD_TYPE,
    Statement,
    StatementInvalid,
    Subject,
    SubjectMismatch,
    parse_statement,
    require_subject,
    signature_statement,
    sonar_statement,
)
from devops.domain.attestation.statement import MAX_PAYLOAD_BYTES, STATEMENT_V01, STATEMENT_V1
from devops.errors import ExitCode

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
NAME = "docker.io/techitfactory/cart"


def payload(**fields: Any) -> bytes:
    base: dict[str, Any] = {"_type": STATEMENT_V1, "subject": [{"name": NAME, "digest": {"sha256": "ab" * 32}}],
                            "predicateType": "https://example.com/p", "predicate": {"k": "v"}}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


def test_the_payload_is_canonical() -> None:
    statement = sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart")
    assert statement.to_json() == json.dumps(json.loads(statement.to_json()), sort_keys=True,
                                             separators=(",", ":")).encode()
    assert json.loads(statement.to_json())["_type"] == "https://in-toto.io/Statement/v1"


def test_the_payload_is_utf8_and_the_same_for_the_same_statement() -> None:
    a = Statement((Subject(DIGEST, NAME),), "https://example.com/p", {"z": 1, "a": "café ☕"})
    b = Statement((Subject(DIGEST, NAME),), "https://example.com/p", {"a": "café ☕", "z": 1})
    assert a.to_json() == b.to_json()
    assert "café ☕".encode() in a.to_json()  # not \u-escaped: the bytes are what is signed


def test_a_subject_is_written_as_in_toto_writes_it() -> None:
    assert Subject(DIGEST, NAME).to_dict() == {"digest": {"sha256": "ab" * 32}, "name": NAME}
    assert Subject(DIGEST).to_dict() == {"digest": {"sha256": "ab" * 32}}  # cosign writes no name


@pytest.mark.parametrize("digest", ["sha256:" + "z" * 64, "sha256:" + "AB" * 32, "sha256:" + "ab" * 31, "ab" * 32,
                                    "sha512:" + "ab" * 64, "latest", ""])
def test_a_subject_digest_must_be_sha256_hex(digest: str) -> None:
    with pytest.raises(StatementInvalid, match="expected sha256:<64 hex>") as refused:
        Subject(digest)
    assert repr(digest[:80]) in str(refused.value)
    with pytest.raises(StatementInvalid):
        signature_statement(digest, name=NAME)


def test_a_statement_needs_a_subject_and_a_predicate_type() -> None:
    with pytest.raises(StatementInvalid, match="at least one subject"):
        Statement((), "https://example.com/p")
    with pytest.raises(StatementInvalid, match="needs a predicateType"):
        Statement((Subject(DIGEST),), "")
    assert Statement((Subject(DIGEST),), "https://example.com/p").predicate == {}  # control


def test_a_statement_names_each_of_its_subjects() -> None:
    statement = Statement((Subject(DIGEST, "a"), Subject(OTHER, "b")), "https://example.com/p")
    assert statement.digests == (DIGEST, OTHER) and statement.names(OTHER) and not statement.names("sha256:" + "0" * 64)
    require_subject(statement, DIGEST)
    require_subject(statement, OTHER)


def test_a_statement_about_another_digest_is_refused() -> None:
    statement = sonar_statement(OTHER, name=NAME, verdict="PASSED", project_key="cart")
    with pytest.raises(SubjectMismatch, match=OTHER[:19]) as refused:
        require_subject(statement, DIGEST)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    assert str(refused.value).endswith(f"not {DIGEST}")
    require_subject(statement, OTHER)  # control


def test_a_statement_round_trips_through_its_payload() -> None:
    statement = Statement((Subject(DIGEST, NAME), Subject(OTHER)), "https://example.com/p", {"a": [1, {"b": None}]})
    assert parse_statement(statement.to_json()) == statement


def test_a_v01_statement_is_read_and_keeps_its_type() -> None:
    parsed = parse_statement(payload(_type=STATEMENT_V01))
    assert parsed.statement_type == STATEMENT_V01
    assert json.loads(parsed.to_json())["_type"] == STATEMENT_V01


def test_a_null_or_absent_predicate_is_empty_and_a_subject_name_that_is_not_text_is_dropped() -> None:
    assert parse_statement(payload(predicate=None)).predicate == {}
    assert parse_statement(payload(predicate=...)).predicate == {}
    parsed = parse_statement(payload(subject=[{"name": ["x"], "digest": {"sha256": "ab" * 32, "sha512": "00"}}]))
    assert parsed.subjects == (Subject(DIGEST, ""),)


@pytest.mark.parametrize("body,message", [
    (b"not json", "not JSON"),
    (b"\xff\xfe{}", "not JSON"),
    (b"[]", "expected a JSON object, got list"),
    (b'"statement"', "expected a JSON object, got str"),
    (payload(_type="https://example.com/Statement"), "_type 'https://example.com/Statement' is not one of"),
    (payload(_type=...), "_type 'None' is not one of"),
    (payload(predicateType=...), "statement has no predicateType"),
    (payload(predicateType=""), "statement has no predicateType"),
    (payload(predicateType=["x"]), "statement has no predicateType"),
    (payload(predicate=[]), "predicate: expected an object, got list"),
    (payload(predicate="x"), "predicate: expected an object, got str"),
    (payload(subject=[]), "statement has no subject"),
    (payload(subject=...), "statement has no subject"),
    (payload(subject={"digest": {"sha256": "ab" * 32}}), "statement has no subject"),
    (payload(subject=["sha256:" + "ab" * 32]), r"subject\[0\]: expected an object with a digest"),
    (payload(subject=[{"digest": "sha256:" + "ab" * 32}]), r"subject\[0\]: expected an object with a digest"),
    (payload(subject=[{"digest": {"sha256": "ab" * 32}}, {"digest": {"sha1": "ab" * 20}}]),
     r"subject\[1\]: no sha256 digest"),
    (payload(subject=[{"digest": {"sha256": "AB" * 32}}]), r"subject\[0\]: no sha256 digest of 64 lowercase hex"),
    (payload(subject=[{"digest": {"sha256": 7}}]), r"subject\[0\]: no sha256 digest"),
], ids=["garbage", "not-utf8", "array", "string", "unknown-type", "no-type", "no-predicate-type",
        "empty-predicate-type", "predicate-type-list", "predicate-array", "predicate-string", "no-subject",
        "subject-missing", "subject-object", "subject-string", "digest-string", "second-subject-sha1",
        "uppercase-hex", "digest-number"])
def test_malformed_statements_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(StatementInvalid, match=message) as refused:
        parse_statement(body)
    assert refused.value.exit_code == ExitCode.GATE_FAILED


def test_another_payload_type_is_refused() -> None:
    statement = signature_statement(DIGEST, name=NAME)
    with pytest.raises(StatementInvalid, match="payload type 'text/plain' is not an in-toto statement"):
        parse_statement(statement.to_json(), payload_type="text/plain")
    assert parse_statement(statement.to_json(), payload_type=PAYLOAD_TYPE) == statement  # control


def test_a_payload_over_the_limit_is_refused_before_parsing() -> None:
    body = payload()
    padded = body[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_PAYLOAD_BYTES
    assert parse_statement(padded).predicate == {"k": "v"}  # control: exactly the limit
    with pytest.raises(StatementInvalid, match=f"statement of {MAX_PAYLOAD_BYTES + 1} bytes is over the"):
        parse_statement(padded + b" ")
