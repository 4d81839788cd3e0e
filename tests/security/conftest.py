"""Fixtures of the security tests: the real release fixtures of tests/release (a project, a bare
GitOps remote, the local registry, Trivy with a small DB) for tests/security/test_paths.py."""

from __future__ import annotations

from tests.release.conftest import clean_db, shop

__all__ = ["clean_db", "shop"]
