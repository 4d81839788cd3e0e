"""Every case of `cases_*.py`: the expected exit code, no traceback, one clear error line that
names what is wrong, a time bound, and a canary folder outside the project left untouched."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from tests.security import badinput
from tests.security.badinput.conftest import RAN, SLOWEST
from tests.security.badinput.harness import Case, run_case

MINIMUM_CASES = 250


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for module in pkgutil.iter_modules(badinput.__path__):
        if module.name.startswith("cases_"):
            cases.extend(importlib.import_module(f"{badinput.__name__}.{module.name}").CASES)
    return cases


CASES = all_cases()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, badinput_base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, elapsed = run_case(case, badinput_base, tmp_path, monkeypatch)
    RAN.append(case.id)
    SLOWEST.append((elapsed, case.id))
