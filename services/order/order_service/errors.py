"""The contract's error body: {"error": {"code", "message", "field"}}."""

from __future__ import annotations


class ApiError(Exception):
    """A failure answered with `status` and the contract's JSON error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


def bad_input(message: str, field: str | None) -> ApiError:
    """400 validation_failed naming the field."""
    return ApiError(400, "validation_failed", message, field)
