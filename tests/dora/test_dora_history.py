"""`devops report dora` against a real bare GitOps repository whose history is written here, commit
by commit, with known committer dates (GIT_COMMITTER_DATE): 22 promotions to prod, 3 rollbacks,
`verify` and `rescan` evidence commits, a record broken by hand and fixed. The expected figures
are worked out by hand below, not by the code under test; the clock of the run is frozen.

Timeline (T0 = the frozen now minus 80 days; change k at day 1 + 3k, 12:00, changing cart when
k is even and shop when it is odd, its source commit made LEAD[k] hours before):
- day -20: a release before the 90-day window (the baseline: what ran when the window opened);
- k=0 carries no source_committed_at (written before the field existed): no lead time;
- k=3 is verified PASSED in prod (an evidence commit, not a deployment);
- k=5 is verified FAILED in prod 1 h later; k=6 fixes it forward 72 h after k=5;
- day 20: a rescan refreshes the evidence (not a deployment);
- k=10 is rolled back 3 h later to k=9's commit;
- k=14 and k=15 are rolled back together (to k=13's commit) 6 h after k=15, 78 h after k=14;
- day 52 00:00: the record is broken by hand (not JSON); k=17 at 12:00 writes a valid one;
- k=20 is verified FAILED 1 h later and rolled back 2 h after it was deployed.

Hand-computed:
- deployments: 22 changes + 3 rollbacks = 25 in 90 days: 25/90 per day, 25/90*7 = 1.944 per week;
- lead time: 21 samples (k=1..21) of LEAD, sorted 1,1,2,2,2,3,3,3,4,4,[5],5,6,6,7,8,8,9,10,11,12:
  median 5 h = 18000 s; 1 change without a source time;
- change failure rate: k=5, 10, 14, 15, 20 failed: 5/22 = 0.22727;
- time to restore: incidents of 72 h, 3 h, 78 h and 2 h: median (3 + 72) / 2 = 37.5 h = 135000 s.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.project import config_text, git, make_project

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
T0 = NOW - dt.timedelta(days=80)
LEAD = [0, 3, 5, 1, 8, 2, 6, 4, 10, 7, 9, 12, 2, 3, 5, 6, 1, 4, 2, 8, 3, 11]
RECORD = "gitops/environments/prod/release.json"


def moment(day: float, hour: float = 12) -> dt.datetime:
    return T0 + dt.timedelta(days=day, hours=hour)


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


class History:
    """A work clone of the bare GitOps repository, committing the prod record at given times."""

    def __init__(self, where: Path) -> None:
        self.bare = where / "gitops.git"
        self.work = where / "gitops-work"
        self.work.mkdir()
        git(self.work, "init", "-q", "-b", "main")
        self.services: dict[str, dict[str, Any]] = {}
        self.commits: dict[str, str] = {}  # label -> commit
        self.states: dict[str, dict[str, dict[str, Any]]] = {}  # label -> services at that commit

    def commit(self, label: str, when: dt.datetime, *, text: str | None = None,
               rolled_back_to: str | None = None) -> str:
        record = {"schema": 1, "environment": "prod", "released_at": stamp(when),
                  "released_by": {"actor": "alice", "via": "cli", "run_url": None}, "source_commit": None,
                  "promoted_from": None, "services": self.services}
        if rolled_back_to:
            record["rolled_back_to"] = rolled_back_to
        path = self.work / RECORD
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text is not None else json.dumps(record, indent=2) + "\n")
        env = {**os.environ, "GIT_COMMITTER_DATE": when.isoformat(), "GIT_AUTHOR_DATE": when.isoformat(),
               "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@example.com"}
        subprocess.run(["git", "add", "-A"], cwd=self.work, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", label], cwd=self.work, check=True, env=env)
        self.commits[label] = git(self.work, "rev-parse", "HEAD").strip()
        self.states[label] = copy.deepcopy(self.services)
        return self.commits[label]

    def change(self, k: int) -> None:
        service = "cart" if k % 2 == 0 else "shop"
        when = moment(1 + 3 * k)
        source = hashlib.sha1(f"source {k}".encode()).hexdigest()
        entry: dict[str, Any] = {"repository": f"127.0.0.1:5000/shop/{service}", "tag": f"v{k}",
                                 "digest": digest(f"change {k}"), "source_commit": source,
                                 "built_at": stamp(when - dt.timedelta(minutes=30)),
                                 "scan": {"verdict": "PASSED", "counts": {}, "checked_at": stamp(when)},
                                 "sonar": {"verdict": "SKIPPED"}}
        if k:
            entry["source_committed_at"] = stamp(when - dt.timedelta(hours=LEAD[k]))
        self.services[service] = entry
        self.commit(f"change {k}", when)

    def verify(self, k: int, verdict: str, when: dt.datetime) -> None:
        service = "cart" if k % 2 == 0 else "shop"
        entry = self.services[service]
        entry["verification"] = {"verdict": verdict, "verified_at": stamp(when), "window": "10m",
                                 "failing": [] if verdict == "PASSED" else ["cart: availability"],
                                 "environment": "prod", "digest": entry["digest"]}
        self.commit(f"verify {k}", when)

    def rollback(self, to: str, when: dt.datetime) -> None:
        self.services = copy.deepcopy(self.states[to])
        self.commit(f"rollback to {to}", when, rolled_back_to=self.commits[to])

    def publish(self) -> Path:
        git(self.work.parent, "clone", "-q", "--bare", str(self.work), str(self.bare))
        return self.bare


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    history = History(tmp_path)
    history.services = {
        "cart": {"repository": "127.0.0.1:5000/shop/cart", "digest": digest("base cart")},
        "shop": {"repository": "127.0.0.1:5000/shop/shop", "digest": digest("base shop")},
    }
    history.commit("before the window", moment(-20))
    for k in range(22):
        history.change(k)
        if k == 3:
            history.verify(3, "PASSED", moment(1 + 3 * k, 13))
        if k == 5:
            history.verify(5, "FAILED", moment(1 + 3 * k, 13))
        if k == 6:
            history.services["cart"]["scan"]["checked_at"] = stamp(moment(20, 3))
            history.commit("rescan", moment(20, 3))
        if k == 10:
            history.rollback("change 9", moment(31, 15))
        if k == 15:
            history.rollback("change 13", moment(46, 18))
        if k == 16:
            history.commit("broken by hand", moment(52, 0), text="{not json\n")
        if k == 20:
            history.verify(20, "FAILED", moment(61, 13))
            history.rollback("change 19", moment(61, 14))
    bare = history.publish()
    root = make_project(tmp_path / "shop", services=("cart", "shop"), commit=False,
                        namespace="shop")
    environments = textwrap.dedent(f"""\
        environments:
          dev:
            url: http://dev.localhost
            cluster: {{name: test-dev}}
            gitops: {{repo: "{bare}", branch: main, path: gitops/environments/dev}}
          prod:
            url: http://prod.localhost
            cluster: {{name: test-prod}}
            gitops: {{repo: "{bare}", branch: main, path: gitops/environments/prod, mode: commit}}
            promote_from: dev
        """)
    (root / "pipelines" / "devops.yaml").write_text(config_text(namespace="shop", services=("cart", "shop"),
                                                                environments=environments))
    monkeypatch.setattr("devops.domain.release.evidence.utc_now", lambda: NOW)  # the frozen clock
    return root


def test_the_four_keys_match_the_hand_computed_history(project: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    outcome = run_cli("--json", "report", "dora", "--env", "prod", "--since", "90d", "--chart",
                      str(project / "reports" / "dora.svg"), cwd=project)
    assert outcome.code == 0, outcome.err
    result: Any = outcome.json()
    frequency = result["deployment_frequency"]
    assert (frequency["deployments"], frequency["rollbacks"]) == (25, 3)
    assert frequency["per_day"] == pytest.approx(25 / 90) and frequency["per_week"] == pytest.approx(1.9444, abs=1e-4)
    assert result["lead_time"] == {"median_seconds": 18000.0, "samples": 21, "changes_without_source_time": 1}
    assert result["change_failure_rate"]["rate"] == pytest.approx(5 / 22)
    assert (result["change_failure_rate"]["failed"], result["change_failure_rate"]["changes"]) == (5, 22)
    assert result["time_to_restore"] == {"median_seconds": 135000.0, "restored": 4, "open": 0}
    assert [i["seconds"] / 3600 for i in result["incidents"]] == [72, 3, 78, 2]
    failed = [d for d in result["deployments"] if d["failed"]]
    assert [d["failed_by"].split(" (")[0].split(" by ")[0] for d in failed] == [
        "verification FAILED", "rolled back", "rolled back", "rolled back", "verification FAILED"]
    assert [s["reason"][:40] for s in result["skipped"]] != [] and len(result["skipped"]) == 1
    assert "not json" not in outcome.err  # the skipped commit is named, its content is not echoed
    assert result["since"] == "2026-09-01T09:00:00Z" and result["until"] == "2026-11-30T09:00:00Z"
    chart = Path(result["chart"])
    assert chart == project / "reports" / "dora.svg" and chart.read_text().lstrip().startswith(("<?xml", "<svg"))
    table = summary.read_text()
    assert "| Change failure rate | 22.7% |" in table and "| Lead time for changes | 5h 0m |" in table
    assert "| Time to restore | 1d 13h |" in table and "#### Failed deployments" in table


def test_a_narrower_window_counts_only_its_deployments_and_a_png_chart(project: Path) -> None:
    # The last 20 days: from day 60 09:00 on: k=20 (day 61, failed), its rollback, k=21 (day 64).
    outcome = run_cli("--json", "report", "dora", "--env", "prod", "--since", "20d", "--chart",
                      str(project / "dora.png"), cwd=project)
    assert outcome.code == 0, outcome.err
    result: Any = outcome.json()
    assert result["deployment_frequency"]["deployments"] == 3
    assert result["change_failure_rate"]["rate"] == pytest.approx(1 / 2)
    assert result["lead_time"]["median_seconds"] == pytest.approx((3 + 11) / 2 * 3600)
    assert result["skipped"] == []
    assert (project / "dora.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_json_the_table_is_printed_and_nothing_is_written_to_the_gitops_repository(project: Path,
                                                                                            tmp_path: Path) -> None:
    before = git(tmp_path / "gitops.git", "rev-parse", "main")
    outcome = run_cli("report", "dora", "--env", "prod", cwd=project)
    assert outcome.code == 0, outcome.err
    assert "Deployment frequency" in outcome.out and "1.94 / week" in outcome.out
    assert git(tmp_path / "gitops.git", "rev-parse", "main") == before
