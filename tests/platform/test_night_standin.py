"""The night-and-morning simulation (tests/support/nightsim.py) with the Kubernetes objects on the
API stand-in (tests/support/kubeapi.py): every cost run reaches it over HTTPS through the real
adapter (the official client), the simulated Argo CD, Karpenter and scheduler act on it between
and during the runs. Per mode the night comes out exactly as on the in-memory API of the unit
tier (tests/app/cost/test_night_simulation.py asserts the properties there), and the cost runs
did talk to the stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.kubeapi import KubeAPI
from tests.support.nightsim import MODES, NIGHT_EDGE, RUN_EVERY, STANDIN_TOKEN, TERMINATE, simulate


@pytest.fixture
def api() -> Iterator[KubeAPI]:
    server = KubeAPI(token=STANDIN_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("mode", MODES)
def test_the_night_on_the_api_stand_in_is_the_night_in_memory(mode: str, api: KubeAPI) -> None:
    real = simulate(mode, standin=api)
    assert real == simulate(mode)
    assert real.zero_from is not None and real.zero_from <= TERMINATE and real.drift == [] and real.failed_rows == 0
    patches = [r for r in api.requests if r.method == "PATCH"]
    assert any("/appprojects/" in r.path for r in patches)  # the sync window, through the client
    assert any("/deployments/" in r.path for r in patches)
    if mode == "karpenter":
        assert any("/nodepools/" in r.path for r in patches)
        assert any(r.method == "DELETE" and "/nodeclaims/" in r.path for r in api.requests)


def test_a_run_killed_after_the_window_is_finished_by_the_next_on_the_stand_in(api: KubeAPI) -> None:
    real = simulate("karpenter", standin=api, kill=(NIGHT_EDGE, "after-window"))
    assert real.killed == ["20:00 after-window"] and real.drift == []
    assert real.zero_from is not None and real.zero_from <= RUN_EVERY + TERMINATE
