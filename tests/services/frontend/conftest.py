"""Fixtures of the frontend image tests (see docker_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def trusted_build_args(standin_build_args: dict[str, str]) -> dict[str, str]:
    """The stand-in base images; they already trust this machine's extra TLS roots
    (tests/support/standins/build.sh), so `npm ci` works behind an intercepting proxy."""
    return dict(standin_build_args)


@pytest.fixture(scope="session")
def frontend_image(shop_images: dict[str, str]) -> str:
    return shop_images["frontend"]
