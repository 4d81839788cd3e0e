"""Commit subjects and trailers (devops/domain/gitops/message.py): the rules git is not needed for
(tests/gitops/test_message.py checks the trailers with git itself)."""

from __future__ import annotations

from devops.domain.gitops.change import ChangeSet, ImageUpdate, ServiceChange
from devops.domain.gitops.message import commit_message, parse_trailers, subject
from tests.gitops.conftest import DIGEST_A

MANY = tuple(ImageUpdate(f"service-with-a-long-name-{i}", "r", f"v{i}.0.0-rc", DIGEST_A) for i in range(5))


def test_a_long_subject_counts_the_services_instead() -> None:
    change = ChangeSet("prod", MANY, action="promote")
    changes = tuple(ServiceChange(u.service, "", str(u.ref)) for u in MANY)
    assert subject(change, changes) == "promote(prod): 5 services"


def test_a_record_only_change_says_so() -> None:
    change = ChangeSet("dev", (), record={}, action="verify")
    assert subject(change, ()) == "verify(dev): release record"
    message = commit_message(change, (), record_changed=True)
    assert "release record of dev updated" in message and "Devops-Source-Commit" not in message
    untagged = ChangeSet("dev", (ImageUpdate("a", "r", "", DIGEST_A),))
    assert subject(untagged, (ServiceChange("a", "", "r@x"),)) == "set-image(dev): a aaaaaaaaaaaa"


def test_trailers_are_read_from_the_last_paragraph_only() -> None:
    assert parse_trailers("subject only") == {}
    assert parse_trailers("subject\n\nbody\n\nDevops-Action: release\nSigned-off-by: x\nno colon here\n") == {
        "Devops-Action": ["release"]}


def test_only_the_services_that_changed_get_an_image_trailer() -> None:
    change = ChangeSet("dev", (ImageUpdate("a", "r/a", "", DIGEST_A), ImageUpdate("b", "r/b", "", DIGEST_A)))
    trailers = parse_trailers(commit_message(change, (ServiceChange("b", "", "r/b@x"),)))
    assert trailers["Devops-Image"] == [f"b=r/b@{DIGEST_A}"]
