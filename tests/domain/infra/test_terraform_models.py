"""What Terraform reports, as the workflow reads it (pure)."""

from __future__ import annotations

from devops.domain.infra.terraform import Diagnostic, LockInfo, StateLocked, StateStamp, TerraformFailed
from devops.errors import ExitCode


def test_a_diagnostic_in_one_line() -> None:
    assert Diagnostic("error", "Invalid region value").one_line() == "Invalid region value"
    full = Diagnostic("error", "local-exec provisioner error", "\n  Error running command: exit 1\nmore\n",
                      "terraform_data.step[0]")
    assert full.one_line() == "terraform_data.step[0]: local-exec provisioner error: Error running command: exit 1"


def test_a_state_stamp_describes_itself() -> None:
    assert StateStamp("", 0).describe() == "serial 0"
    assert StateStamp("0123456789abcdef", 7).describe() == "serial 7 (lineage 01234567)"


def test_failures_carry_what_they_know_and_are_exit_3() -> None:
    failed = TerraformFailed("boom", diagnostics=[Diagnostic("error", "x")], applied=["create a"])
    assert failed.applied == ("create a",) and failed.diagnostics[0].summary == "x"
    assert failed.exit_code == ExitCode.EXTERNAL
    locked = StateLocked("held", lock=LockInfo("id"), hint="release it")
    assert locked.lock.id == "id" and str(locked) == "held (release it)"
