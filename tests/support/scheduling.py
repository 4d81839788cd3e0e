"""How the suite splits across pytest-xdist workers (`nox -s tests` runs `-n 4 --dist loadgroup`).

Each test gets an `xdist_group`: all tests of one group run on one worker, one after the other.

- Shared-state groups, the only ones correctness depends on: the demo (the shipped config's
  fixed registry namespace `techitfactory`), the shop's images (one tag set built once and run
  by four modules), the gates images (one
  session builds and removes `gates-test/app:secret`) and npm in the working tree (`npm ci`
  into `services/<svc>/node_modules`).
- Every other module is its own group, so module-scoped fixtures (a Prometheus, a rendered
  chart set, a terraform init) run once, as in a serial run.
- Pure, in-process folders (the unit tier and the bad-input table) are not grouped: xdist
  hands their tests out one at a time to whichever worker is free, which fills the gaps.

The heavy groups (FIRST) go first in the collection (xdist keeps that order with
`--no-loadscope-reorder`): the demo group is the critical path, so it starts at once while the
other workers take everything else. A serial run (`-p no:xdist`) only
sees the new order, never a different outcome.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Longest first: the order in which the heavy groups start.
SHARED_STATE_GROUPS: dict[str, tuple[str, ...]] = {
    # The demo: the shipped config's fixed registry namespace `techitfactory`.
    "demo": ("tests/demo/test_demo.py", "tests/demo/test_demo_faults.py"),
    # The shop's images: one tag set built once (a session fixture, so one worker) and run by four
    # modules. (They shared the demo's worker while the MongoDB stand-in's hello loop burned a
    # core per running shop and starved whatever ran beside it: tests/services/mongo-standin.)
    "shop": (
        "tests/services/test_images.py",
        "tests/observability/e2e/",
        "tests/services/test_e2e_shop.py",
        "tests/services/frontend/test_frontend_image.py",
    ),
    "npm-worktree": ("tests/services/test_service_suites.py", "tests/services/frontend/test_frontend_unit.py"),
    "gates-images": ("tests/gates/test_scan_images.py", "tests/gates/test_scan_faults.py"),
}
UNGROUPED_FOLDERS = ("tests/domain/", "tests/app/", "tests/contract/", "tests/architecture/",
                     "tests/security/badinput/")


def group_of(where: str) -> str | None:
    """The xdist group of a test file (a path relative to the repository root), None for none."""
    for group, prefixes in SHARED_STATE_GROUPS.items():
        if where.startswith(prefixes):
            return group
    if where.startswith(UNGROUPED_FOLDERS):
        return None
    return where


# The groups moved to the front, in this order. `npm-worktree` stays where the collection puts
# it (late): the services' own suites have timing-sensitive tests (a MongoDB stand-in that must
# start in 20 s, concurrent cart updates) that failed while the image builds loaded both cores.
FIRST = ("demo", "shop", "gates-images")


def assign_groups(items: list[pytest.Item], root: Path) -> None:
    """Mark every item with its group and move the heavy groups to the front, in order."""
    rank = {group: index for index, group in enumerate(FIRST)}
    ranked: list[tuple[int, int, pytest.Item]] = []
    for position, item in enumerate(items):
        where = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        group = group_of(where)
        if group is not None and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
        ranked.append((rank.get(group or "", len(rank)), position, item))
    items[:] = [item for _, _, item in sorted(ranked, key=lambda entry: entry[:2])]
