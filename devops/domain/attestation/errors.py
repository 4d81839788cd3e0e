"""Why an attestation is refused. Every refusal is a policy "no" (exit 1): an attestation that
cannot be read, names another digest or states a failing verdict is evidence that is missing,
and promotion fails closed on missing evidence."""

from __future__ import annotations

from devops.errors import GateFailed


class AttestationRefused(GateFailed):
    """An in-toto statement or its predicate does not support what is being checked."""


class StatementInvalid(AttestationRefused):
    """The payload is not an in-toto statement this code understands."""


class SubjectMismatch(AttestationRefused):
    """The statement is about another artifact (its subject digest is not the one checked)."""


class PredicateRefused(AttestationRefused):
    """The predicate is malformed, of another type, or states a verdict that is not a pass."""
