"""`devops infra` end to end: the real terraform binary, the real S3 backend with DynamoDB
locking on a moto server, fixture roots made of built-in `terraform_data` resources."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.infra.conftest import BUCKET, REGION, TABLE, InfraProject, lock_item

REPO = Path(__file__).resolve().parents[2]


def test_plan_summarises_saves_and_hides_sensitive_values(project: InfraProject, backend: object) -> None:
    run, data = project.devops_json("infra", "plan", "--env", "dev")
    assert run.code == 0, run.err
    assert data["summary"]["counts"] == {"create": 4, "update": 0, "delete": 0, "replace": 0}
    assert data["has_changes"] is True
    assert {c["address"] for c in data["summary"]["changes"]} == {
        "terraform_data.network", "terraform_data.nodes", "terraform_data.cluster", "terraform_data.credentials"}
    outputs = {o["name"]: o["value"] for o in data["summary"]["outputs"]}
    assert outputs["db_password"] == "(sensitive)"
    assert "fixture-password-not-a-secret" not in run.out + run.err
    # The plan and its record are saved; the backend file was generated from the config.
    work = project.work("dev")
    assert (work / "plan.tfplan").is_file() and (work / "plan.tfplan.meta.json").is_file()
    backend_hcl = (work / "backend.hcl").read_text()
    assert f'bucket = "{BUCKET}"' in backend_hcl and 'key = "dev/terraform.tfstate"' in backend_hcl
    assert f'dynamodb_table = "{TABLE}"' in backend_hcl
    # The sensitive value is not in the saved JSON summary either.
    assert "fixture-password-not-a-secret" not in json.dumps(data)


def test_plan_apply_output_and_a_replacement_called_out(project: InfraProject, backend: object) -> None:
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    run = project.devops("infra", "apply", "--env", "dev")
    assert run.code == 0, run.err
    assert "applied 4 change(s)" in run.out
    # State really is in the S3 bucket on the moto server.
    import boto3

    body = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key="dev/terraform.tfstate")["Body"]
    assert len(json.loads(body.read())["resources"]) == 4
    # The used plan is gone: applying again needs a new plan (exit 2, says what to run).
    again = project.devops("infra", "apply", "--env", "dev")
    assert again.code == 2
    assert "run `devops infra plan --env dev` first" in again.error_line

    run, data = project.devops_json("infra", "output", "--env", "dev")
    assert run.code == 0
    assert data["outputs"]["db_password"] == "(sensitive)"
    assert len(data["outputs"]["network_id"]) == 36

    project.set_vars("dev", generation=2, size=3)
    run, data = project.devops_json("infra", "plan", "--env", "dev")
    assert run.code == 0, run.err
    counts = data["summary"]["counts"]
    assert counts == {"create": 0, "update": 1, "delete": 0, "replace": 1}
    replaced = [c for c in data["summary"]["changes"] if c["action"] == "replace"]
    assert replaced[0]["address"] == "terraform_data.cluster"
    human = project.devops("infra", "plan", "--env", "dev")
    assert "1 to REPLACE" in human.out and "REPLACE" in human.out


def test_no_changes_is_success(project: InfraProject, backend: object) -> None:
    project.devops("infra", "plan", "--env", "dev")
    project.devops("infra", "apply", "--env", "dev")
    run, data = project.devops_json("infra", "plan", "--env", "dev")
    assert run.code == 0
    assert data["has_changes"] is False
    assert data["summary"]["headline"] == "no infrastructure changes"


def test_stale_plan_is_refused(project: InfraProject, backend: object) -> None:
    project.devops("infra", "plan", "--env", "dev")
    project.devops("infra", "apply", "--env", "dev")
    project.set_vars("dev", size=2)
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    stale = project.work("dev") / "plan.tfplan"
    kept = stale.read_bytes(), (stale.parent / "plan.tfplan.meta.json").read_bytes()
    # Someone else changes the state after our plan: plan + apply another change.
    project.set_vars("dev", size=5)
    project.devops("infra", "plan", "--env", "dev")
    assert project.devops("infra", "apply", "--env", "dev").code == 0
    stale.write_bytes(kept[0])
    (stale.parent / "plan.tfplan.meta.json").write_bytes(kept[1])
    run = project.devops("infra", "apply", "--env", "dev")
    assert run.code == 1
    assert "refusing to apply a stale plan: it was made against serial 1" in run.error_line
    assert "the state is now serial 2" in run.error_line
    assert "devops infra plan --env dev" in run.error_line


def test_plan_for_another_environment_is_refused(project: InfraProject, backend: object) -> None:
    assert project.devops("infra", "plan", "--env", "prod").code == 0
    prod_plan = project.work("prod") / "plan.tfplan"
    run = project.devops("infra", "apply", "--env", "dev", "--plan", str(prod_plan))
    assert run.code == 1
    assert "the plan was made for environment 'prod', not 'dev'" in run.error_line
    # Copying the record along does not help: the plan itself says prod.
    meta = json.loads((prod_plan.parent / "plan.tfplan.meta.json").read_text())
    meta.update(environment="dev", key="dev/terraform.tfstate")
    (prod_plan.parent / "plan.tfplan.meta.json").write_text(json.dumps(meta))
    run = project.devops("infra", "apply", "--env", "dev", "--plan", str(prod_plan))
    assert run.code == 1
    assert "the plan's environment variable is 'prod', not 'dev'" in run.error_line


def test_altered_plan_file_is_refused(project: InfraProject, backend: object) -> None:
    project.devops("infra", "plan", "--env", "dev")
    plan = project.work("dev") / "plan.tfplan"
    with plan.open("ab") as handle:
        handle.write(b"\0")
    run = project.devops("infra", "apply", "--env", "dev")
    assert run.code == 1
    assert "the plan file changed after it was made" in run.error_line


def test_apply_dry_run_checks_but_changes_nothing(project: InfraProject, backend: object) -> None:
    project.devops("infra", "plan", "--env", "dev")
    run, data = project.devops_json("infra", "apply", "--env", "dev", "--dry-run")
    assert run.code == 0, run.err
    assert data["dry_run"] is True and data["counts"]["create"] == 4
    import boto3

    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix="dev/")
    assert listed.get("KeyCount", 0) == 0
    assert (project.work("dev") / "plan.tfplan").is_file()


def test_held_lock_makes_plan_fail_with_a_clear_message(project: InfraProject, backend: object) -> None:
    import boto3

    info = {"ID": "4f6d1c2a-0000-4000-8000-00000000beef", "Operation": "OperationTypeApply", "Info": "",
            "Who": "alice@laptop", "Version": "1.11.4", "Created": "2026-11-25T10:00:00Z",
            "Path": f"{BUCKET}/dev/terraform.tfstate"}
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=TABLE, Item={"LockID": {"S": f"{BUCKET}/dev/terraform.tfstate"}, "Info": {"S": json.dumps(info)}})
    run = project.devops("infra", "plan", "--env", "dev")
    assert run.code == 3
    line = run.error_line
    assert "the state lock is held by alice@laptop" in line
    assert "lock ID 4f6d1c2a-0000-4000-8000-00000000beef" in line
    assert "devops infra unlock --env dev --lock-id 4f6d1c2a-0000-4000-8000-00000000beef" in line
    # The lock of another environment does not block this one.
    assert project.devops("infra", "plan", "--env", "prod").code == 0
    # A wrong ID is refused (exit 2) and releases nothing.
    wrong = project.devops("infra", "unlock", "--env", "dev", "--lock-id", "00000000-0000-0000-0000-000000000000")
    assert wrong.code == 2
    assert ("the state lock of dev is 4f6d1c2a-0000-4000-8000-00000000beef (held by alice@laptop since "
            "2026-11-25T10:00:00Z), not 00000000-0000-0000-0000-000000000000") in wrong.error_line
    assert lock_item("dev") is not None
    dry = project.devops("infra", "unlock", "--env", "dev", "--lock-id", info["ID"], "--dry-run")
    assert dry.code == 0 and f"dry run: would release state lock {info['ID']} of dev" in dry.out
    assert lock_item("dev") is not None
    # `unlock` releases it through terraform force-unlock, then plans work again.
    released = project.devops("infra", "unlock", "--env", "dev", "--lock-id", info["ID"])
    assert released.code == 0, released.err
    assert lock_item("dev") is None
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    nothing = project.devops("infra", "unlock", "--env", "dev", "--lock-id", info["ID"])
    assert nothing.code == 0 and "no state lock is held; nothing to release" in nothing.out
    run, data = project.devops_json("infra", "unlock", "--env", "dev", "--lock-id", info["ID"])
    assert run.code == 0 and data == {"environment": "dev", "released": None, "dry_run": False}


def test_backend_bucket_missing_says_run_bootstrap(project: InfraProject, aws_env: str) -> None:
    run = project.devops("infra", "plan", "--env", "dev")
    assert run.code == 3
    assert f"the state bucket {BUCKET} does not exist" in run.error_line
    assert "run `devops infra bootstrap`" in run.error_line


def test_unknown_environment_is_exit_2(project: InfraProject, aws_env: str) -> None:
    run = project.devops("infra", "plan", "--env", "staging")
    assert run.code == 2
    assert "unknown environment 'staging'; known: dev, prod" in run.error_line


def test_environment_without_terraform_root_is_exit_2(project: InfraProject, aws_env: str) -> None:
    project.roots = {"dev": "app"}
    project.write_config()
    run = project.devops("infra", "plan", "--env", "prod")
    assert run.code == 2
    assert "environment 'prod' has no Terraform root under infra.environments (configured: dev)" in run.error_line


def test_terraform_missing_is_a_clear_error(project: InfraProject, aws_env: str) -> None:
    project.terraform = "terraform-not-installed-here"
    project.write_config()
    run = project.devops("infra", "plan", "--env", "dev")
    assert run.code == 3
    assert "terraform-not-installed-here: Terraform is not installed" in run.error_line
    assert "install Terraform" in run.error_line


def test_failure_mid_apply_reports_what_was_applied(project: InfraProject, backend: object) -> None:
    project.set_vars("dev", fail=True)
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    run = project.devops("infra", "apply", "--env", "dev")
    assert run.code == 3
    line = run.error_line
    assert "terraform_data.step[0]: local-exec provisioner error" in line
    assert "applied before the failure:" in line
    for address in ("terraform_data.network", "terraform_data.nodes", "terraform_data.cluster"):
        assert f"create {address}" in line
    # Terraform released the lock after the failure.
    assert lock_item("dev") is None


def test_interrupted_apply_says_how_to_release_the_lock(project: InfraProject, backend: object,
                                                         aws_env: str) -> None:
    project.set_vars("dev", sleep_seconds=60)
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "devops", "--config", str(project.config),
                             "infra", "apply", "--env", "dev"],
                            cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        held = None
        while time.monotonic() < deadline and held is None:
            time.sleep(0.5)
            held = lock_item("dev")
        assert held is not None, "terraform never took the lock"
        time.sleep(2)  # let it reach the sleeping provisioner
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    line = [x for x in err.splitlines() if x.startswith("devops: error:")][-1]
    assert "terraform apply for dev interrupted" in line
    still = lock_item("dev")
    if still is None:
        assert "the state lock was released" in line
    else:
        assert f"devops infra unlock --env dev --lock-id {still['ID']}" in line
        assert f"force-unlock {still['ID']}" in line
        assert project.devops("infra", "unlock", "--env", "dev", "--lock-id", still["ID"]).code == 0
        assert lock_item("dev") is None


def test_destroy_asks_for_the_name_and_protects_prod(project: InfraProject, backend: object) -> None:
    project.devops("infra", "plan", "--env", "dev")
    project.devops("infra", "apply", "--env", "dev")
    wrong = project.devops("infra", "destroy", "--env", "dev", stdin="prod\n")
    assert wrong.code == 1
    assert "confirmation did not match; nothing destroyed" in wrong.error_line
    nobody = project.devops("infra", "destroy", "--env", "dev", stdin="")
    assert nobody.code == 2
    assert "pass --yes" in nobody.error_line
    dry = project.devops("infra", "destroy", "--env", "dev", "--dry-run")
    assert dry.code == 0 and "4 resource(s) would be" in dry.out
    dry, data = project.devops_json("infra", "destroy", "--env", "dev", "--dry-run")
    assert dry.code == 0 and data["dry_run"] is True and data["destroy"] is True
    assert data["summary"]["counts"]["delete"] == 4 and data["cost"]["monthly_delta_usd"] == 0
    done = project.devops("infra", "destroy", "--env", "dev", stdin="dev\n")
    assert done.code == 0, done.err
    assert "delete terraform_data.network" in done.out

    prod = project.devops("infra", "destroy", "--env", "prod", "--yes")
    assert prod.code == 1
    assert "refusing to destroy prod: it is protected" in prod.error_line
    assert "--allow-prod" in prod.error_line
    ok, data = project.devops_json("infra", "destroy", "--env", "prod", "--yes", "--allow-prod")
    assert ok.code == 0, ok.err
    assert data == {"environment": "prod", "dry_run": False, "applied": [], "counts": data["counts"], "outputs": {}}


def test_bootstrap_creates_backend_then_moves_its_state_into_it(project: InfraProject, aws_env: str) -> None:
    dry, data = project.devops_json("infra", "bootstrap", "--dry-run")
    assert dry.code == 0 and data["created"] is False and data["dry_run"] is True
    assert data["bucket"] == BUCKET
    run = project.devops("infra", "bootstrap")
    assert run.code == 0, run.err
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    state = json.loads(s3.get_object(Bucket=BUCKET, Key="bootstrap/terraform.tfstate")["Body"].read())
    assert state["resources"][0]["type"] == "terraform_data"
    assert not (project.root / "infra" / "bootstrap" / "devops_backend_override.tf").exists()
    # Idempotent: a second run has nothing to do, and environments can now plan.
    again, data = project.devops_json("infra", "bootstrap")
    assert again.code == 0 and data["created"] is False
    assert "nothing to do" in data["steps"][0]
    assert project.devops("infra", "plan", "--env", "dev").code == 0


def test_github_actions_summary_and_outputs(project: InfraProject, backend: object, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert project.devops("infra", "plan", "--env", "dev").code == 0
    text = summary.read_text()
    assert "### Terraform plan: dev" in text and "| create | terraform_data.network |" in text
    assert "has_changes=true" in output.read_text()
    assert project.devops("infra", "apply", "--env", "dev").code == 0
    assert "### Terraform apply: dev" in summary.read_text() and "- `create terraform_data.network`" in summary.read_text()


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_lock_orphaned_by_a_lost_answer_is_recovered(project: InfraProject, backend: object, aws_env: str,
                                                       monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    from tests.infra.lossy_proxy import LossyProxy

    with LossyProxy(aws_env, drop=0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        if command == "apply":
            # A saved plan carries its backend configuration: plan through the proxy too.
            assert project.devops("infra", "plan", "--env", "dev").code == 0
        proxy.remaining = 1
        run = project.devops("infra", command, "--env", "dev")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_env)
    assert proxy.dropped == 1, run.err  # the fault really happened
    assert run.code == 0, run.err
    assert lock_item("dev") is None


def test_a_lock_held_by_someone_else_is_never_released_by_the_retry(project: InfraProject, backend: object) -> None:
    import boto3

    info = {"ID": "99999999-0000-4000-8000-000000000001", "Operation": "OperationTypePlan", "Who": "bob@ci",
            "Version": "1.11.4", "Created": "2026-11-25T10:00:00Z", "Info": "", "Path": ""}
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=TABLE, Item={"LockID": {"S": f"{BUCKET}/dev/terraform.tfstate"}, "Info": {"S": json.dumps(info)}})
    assert project.devops("infra", "plan", "--env", "dev").code == 3
    assert lock_item("dev")["ID"] == info["ID"]
