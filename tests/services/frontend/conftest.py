"""Fixtures of the frontend image tests (see docker_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services.frontend.docker_helpers import build_image


@pytest.fixture(scope="session")
def trusted_build_args(standin_build_args: dict[str, str]) -> dict[str, str]:
    """The stand-in base images; they already trust this machine's extra TLS roots
    (tests/support/standins/build.sh), so `npm ci` works behind an intercepting proxy."""
    return dict(standin_build_args)


@pytest.fixture(scope="session")
def frontend_image(repo_root: Path, trusted_build_args: dict[str, str]) -> str:
    return build_image("e2e-frontend:test", repo_root / "services" / "frontend", trusted_build_args)
