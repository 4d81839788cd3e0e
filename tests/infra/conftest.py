"""Fixtures of the infra tests: a throw-away project whose Terraform roots are copies of
`tests/infra/fixtures/*`, run by the real `terraform` against the real S3 backend and
DynamoDB locking of a moto server."""

from __future__ import annotations

import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Outcome, check_json_output

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "ap-south-1"
ACCOUNT = "123456789012"  # moto's account id: the bucket template asks STS for it
BUCKET = f"shop-tfstate-{ACCOUNT}"
TABLE = "shop-tflock"
KMS_ALIAS = "alias/shop-tfstate"
# What the moto server needs on top of a real AWS backend, set in the project's config (the
# product never relaxes anything because an endpoint is set; docs/infra.md): path-style
# addressing only. KMS encryption, credential, account and region checks all run against moto.
STANDIN_BACKEND_OPTIONS = {"use_path_style": True}


def _yaml(data: Any) -> str:
    # JSON is YAML; it keeps the generated config exact without another dependency.
    return json.dumps(data, indent=2)


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        # A prompt without a newline (stdin is not a terminal) may precede it on the line.
        lines = [line[line.index("devops: error:"):] for line in self.err.splitlines() if "devops: error:" in line]
        return lines[-1] if lines else ""


@dataclass
class InfraProject:
    root: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    env_variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=lambda: {"dev": "app", "prod": "app"})
    terraform: str = "terraform"
    backend_options: dict[str, bool] = field(default_factory=lambda: dict(STANDIN_BACKEND_OPTIONS))

    @property
    def config(self) -> Path:
        return self.root / "pipelines" / "devops.yaml"

    def write_config(self) -> None:
        for env, fixture in self.roots.items():
            target = self.root / "infra" / env
            marker = target / ".fixture"
            if not marker.is_file() or marker.read_text() != fixture:
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(FIXTURES / fixture, target)
                marker.write_text(fixture)
        data = {
            "project": "shop",
            "services": {"cart": {"path": "services/cart", "port": 3002, "language": "javascript"}},
            "environments": {
                env: {"url": f"https://{env}.example.test", "cluster": {"name": f"shop-{env}"},
                      "gitops": {"path": f"gitops/environments/{env}"}}
                for env in ("dev", "prod")
            },
            "infra": {
                "terraform": self.terraform,
                "state": {"backend_options": self.backend_options},
                "bootstrap": {"root": "infra/bootstrap", "variables": {"python": sys.executable}},
                "environments": {
                    env: {"root": f"infra/{env}", "protected": env == "prod",
                          "variables": self.env_variables.get(env, {})}
                    for env in self.roots
                },
            },
        }
        bootstrap = self.root / "infra" / "bootstrap"
        if not bootstrap.exists():
            shutil.copytree(FIXTURES / "bootstrap", bootstrap)
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(_yaml(data), encoding="utf-8")

    def set_vars(self, env: str, **values: Any) -> None:
        self.env_variables[env] = values
        self.write_config()

    def devops(self, *args: str, stdin: str | None = None) -> Run:
        """Run the CLI in-process, exactly as the console script does."""
        from devops.cli.main import main

        self.capsys.readouterr()
        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--config", str(self.config), *args])
        captured = self.capsys.readouterr()
        # Every --json result is checked against its published schema (docs/schemas/infra-*.json).
        check_json_output(tuple(args), Outcome(code, captured.out, captured.err))
        return Run(code, captured.out, captured.err)

    def devops_json(self, *args: str) -> tuple[Run, Any]:
        run = self.devops("--json", *args)
        return run, (json.loads(run.out) if run.code == 0 and run.out.strip() else None)

    def work(self, env: str) -> Path:
        return self.root / ".devops" / "infra" / env


def create_backend(bucket: str = BUCKET, table: str = TABLE) -> None:
    """The state bucket, lock table and KMS key (with its alias) as `devops infra bootstrap` makes them."""
    import boto3

    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="Terraform state")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key)

    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=table, KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def lock_item(env: str = "dev") -> dict[str, Any] | None:
    import boto3

    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key={"LockID": {"S": f"{BUCKET}/{env}/terraform.tfstate"}}, ConsistentRead=True
    ).get("Item")
    return json.loads(item["Info"]["S"]) if item and "Info" in item else None


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.skip("terraform is not installed (the machine image ships 1.11 at /usr/local/bin/terraform)")
    return found


@pytest.fixture
def project(tmp_path: Path, aws_env: str, terraform_bin: str, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> InfraProject:
    # The machine's TF_CLI_CONFIG_FILE names a missing file; every command would warn.
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "empty.tfrc"))
    (tmp_path / "empty.tfrc").write_text("", encoding="utf-8")
    proj = InfraProject(tmp_path / "shop", capsys, monkeypatch)
    proj.root.mkdir()
    proj.write_config()
    return proj


@pytest.fixture
def backend(project: InfraProject) -> Callable[[], None]:
    create_backend()
    return create_backend
