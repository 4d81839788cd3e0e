"""Ignore files read from disk (devops/adapters/ignore_files.py): the form by suffix, and a file
that cannot be read is bad input, never "nothing ignored"."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.adapters.ignore_files import load_ignore_file
from devops.errors import BadInput


def test_missing_ignore_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(
        BadInput, match=r"^nope/.trivyignore: ignore file not found \(fix gates.scan.ignore_file"
    ):
        load_ignore_file(tmp_path / "nope" / ".trivyignore", "nope/.trivyignore")


def test_an_ignore_file_that_cannot_be_read_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / ".trivyignore").mkdir()  # a folder: read_bytes fails as for any unreadable file
    with pytest.raises(BadInput, match=r"^\.trivyignore: cannot read the ignore file"):
        load_ignore_file(tmp_path / ".trivyignore", ".trivyignore")


def test_the_suffix_chooses_the_form_and_the_content_is_hashed(tmp_path: Path) -> None:
    plain, yaml = tmp_path / ".trivyignore", tmp_path / ".trivyignore.yml"
    plain.write_text("CVE-1\n")
    yaml.write_text("vulnerabilities:\n  - id: CVE-1\n")
    first, second = load_ignore_file(plain), load_ignore_file(yaml, "ignores")
    assert [e.kind for e in first.entries] == [None] and [e.kind for e in second.entries] == ["vulnerability"]
    assert second.path == "ignores" and first.digest != second.digest
