"""Tags, labels and what builds and pushes report."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.images.identity import BuildInputs
from devops.domain.images.plan import Plan, ServicePlan
from devops.domain.images.results import (
    BuildResult,
    ImagesReport,
    PushFailed,
    PushResult,
    Revision,
    ServiceOutcome,
    Status,
    image_tags,
    oci_labels,
)

INPUTS = BuildInputs(Path("/src/alpha"), Path("/src/alpha/Dockerfile"), {}, ("debian",), 3, "ab" * 32)
PLAN = ServicePlan("alpha", "services/alpha", "registry/ns/alpha", INPUTS, True, "new")


@pytest.mark.parametrize(("revision", "tags"), [
    (Revision("", dirty=True, version_tag=None), ["in-abababababababab"]),
    (Revision("0123456789" * 4, dirty=False, version_tag=None), ["in-abababababababab", "sha-0123456"]),
    (Revision("0123456789" * 4, dirty=False, version_tag="v1.2.3"),
     ["in-abababababababab", "sha-0123456", "1.2.3", "1.2", "1"]),
])
def test_image_tags(revision: Revision, tags: list[str]) -> None:
    assert image_tags(PLAN, revision) == tags


def test_labels_name_the_source_revision_and_inputs() -> None:
    labels = oci_labels(PLAN, Revision("f" * 40, False, "v2.0.0"), source_url="https://github.com/o/r",
                        created="2026-01-01T00:00:00Z")
    assert labels["org.opencontainers.image.version"] == "2.0.0"
    assert labels["org.opencontainers.image.revision"] == "f" * 40
    assert labels["dev.techitfactory.devops.inputs"] == INPUTS.digest
    untagged = oci_labels(PLAN, Revision("", True, None), source_url="x", created="t")
    assert untagged["org.opencontainers.image.version"] == "sha-nogit"
    assert untagged["org.opencontainers.image.revision"] == "unknown"


def test_plan_lists_the_changed_services_as_a_matrix() -> None:
    same = ServicePlan("beta", "services/beta", "registry/ns/beta", INPUTS, False, "unchanged")
    plan = Plan([PLAN, same], base="main")
    assert plan.changed == [PLAN]
    assert plan.matrix() == {"include": [{"service": "alpha", "path": "services/alpha", "tag": INPUTS.tag}]}
    assert PLAN.image == f"registry/ns/alpha:{INPUTS.tag}"


def test_outcomes_fail_on_a_failed_build_or_push_and_say_why() -> None:
    built = ServiceOutcome(PLAN, BuildResult("alpha", Status.BUILT, PLAN.image, [PLAN.image]))
    failed_build = ServiceOutcome(PLAN, BuildResult("alpha", Status.FAILED, PLAN.image, [], error="boom"))
    pushed = ServiceOutcome(PLAN, built.build, PushResult("alpha", "registry/ns/alpha", ["t"], digest="sha256:1"))
    failed_push = ServiceOutcome(PLAN, built.build, PushResult("alpha", "registry/ns/alpha", ["t"], error="denied"))
    assert [o.failed for o in (built, failed_build, pushed, failed_push)] == [False, True, False, True]
    assert (failed_build.error, failed_push.error, built.error, ServiceOutcome(PLAN).error) == ("boom", "denied", "", "")
    report = ImagesReport([built, failed_build, pushed, failed_push, ServiceOutcome(PLAN)])
    assert report.failed == [failed_build, failed_push]
    assert report.counts() == {"built": 3, "failed": 1}
    assert report.digests() == {"alpha": "registry/ns/alpha@sha256:1"}
    assert pushed.push is not None and pushed.push.ok and pushed.push.reference == "registry/ns/alpha@sha256:1"
    assert failed_push.push is not None and not failed_push.push.ok and failed_push.push.reference == ""


def test_a_push_failure_says_whether_to_retry() -> None:
    error = PushFailed("docker push x: toomanyrequests", retryable=True, output="429")
    assert error.retryable and error.output == "429" and error.exit_code == 3
