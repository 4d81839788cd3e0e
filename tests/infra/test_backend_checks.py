"""The S3 backend against moto keeps what real AWS gets: the state is encrypted with the
configured KMS key and Terraform's own region check runs, although AWS_ENDPOINT_URL is set.
Real `terraform` 1.11, real S3 backend and DynamoDB locking on a moto server; the only
stand-in option is `use_path_style`, set in the project's configuration (tests/infra/conftest.py)."""

from __future__ import annotations

import json

from tests.infra.conftest import BUCKET, KMS_ALIAS, REGION, InfraProject


def test_state_is_written_with_the_configured_kms_key(project: InfraProject, backend: object) -> None:
    import boto3

    assert project.devops("infra", "plan", "--env", "dev").code == 0
    run = project.devops("infra", "apply", "--env", "dev")
    assert run.code == 0, run.err
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=BUCKET, Key="dev/terraform.tfstate")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS_ALIAS)
    backend_hcl = (project.work("dev") / "backend.hcl").read_text()
    assert f'kms_key_id = "{KMS_ALIAS}"' in backend_hcl and "skip_" not in backend_hcl


def test_terraforms_region_check_runs_with_an_endpoint_set(project: InfraProject, backend: object) -> None:
    # A region that matches the config pattern but does not exist: Terraform itself refuses it
    # (it used to be skipped whenever AWS_ENDPOINT_URL was set).
    data = json.loads(project.config.read_text())
    data["infra"]["state"]["region"] = "zz-nowhere-9"
    project.config.write_text(json.dumps(data))
    run = project.devops("infra", "plan", "--env", "dev")
    assert run.code == 3, run.err
    assert run.error_line.endswith("failed: Invalid region value")
    # Control: the same project in a real region plans (test_state_is_written_with_...).
