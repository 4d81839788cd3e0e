"""`devops infra bootstrap`: create the state bucket, lock table and KMS key once per account
with local state, then move that state into the bucket it created."""

from __future__ import annotations

import json

from devops.app.infra.ports import InfraPorts
from devops.app.infra.target import write_backend, write_json
from devops.config import Config
from devops.domain.infra import backend as backend_mod
from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.results import BootstrapReport
from devops.domain.infra.terraform import TerraformFailed
from devops.errors import ConfigError, ExternalError

OVERRIDE_FILE = "devops_backend_override.tf"


def _report(settings: BackendSettings, created: bool, dry_run: bool, steps: list[str],
            needed: bool = True) -> BootstrapReport:
    return BootstrapReport(settings.bucket, settings.lock_table, settings.kms_alias, settings.key, created, dry_run,
                           tuple(steps), needed)


def bootstrap(config: Config, ports: InfraPorts, *, dry_run: bool = False) -> BootstrapReport:
    """Create the state bucket, lock table and KMS key with local state, then move that state
    into the bucket it created. Nothing to do when both bucket and table exist."""
    infra = config.infra
    probe = ports.probe
    settings = backend_mod.settings(infra.state.templates(), project=config.project, environment=None,
                                    account_id=probe.account_id, endpoint=ports.endpoint)
    root = (config.root / infra.bootstrap.root).resolve()
    if not root.is_dir():
        raise ConfigError(f"{config.source}: infra.bootstrap.root: {root} is not a folder")

    have_bucket = probe.bucket_exists(settings.bucket)
    have_table = probe.table_exists(settings.lock_table)
    if have_bucket and have_table:
        return _report(settings, False, dry_run,
                       [f"s3://{settings.bucket} and table {settings.lock_table} exist: nothing to do"], needed=False)
    if have_bucket or have_table:
        # Creating the other half would fail on the existing one ("already exists"), and
        # deleting anything here could lose state: a person decides.
        present, absent = (
            (f"bucket {settings.bucket}", f"table {settings.lock_table}")
            if have_bucket
            else (f"table {settings.lock_table}", f"bucket {settings.bucket}")
        )
        raise ExternalError(
            f"partially bootstrapped: {present} exists but {absent} does not",
            hint="see docs/runbooks/aws-bootstrap.md, 'Partial bootstrap' (import the existing one, then rerun)",
        )
    steps = [
        f"terraform apply {root} with local state (bucket {settings.bucket}, table {settings.lock_table}, "
        f"key {settings.kms_alias})",
        f"move the bootstrap state to s3://{settings.bucket}/{settings.key}",
    ]
    if dry_run:
        return _report(settings, False, dry_run, steps)
    work = (config.root / infra.work_dir / "bootstrap").resolve()
    work.mkdir(parents=True, exist_ok=True)
    var_file = write_json(work / "variables.tfvars.json", {
        **infra.bootstrap.variables,
        "state_bucket": settings.bucket,
        "lock_table": settings.lock_table,
        "kms_alias": settings.kms_alias,
        "region": settings.region,
    })
    local_state = work / "bootstrap.tfstate"
    override = root / OVERRIDE_FILE
    # The root declares `backend "s3"`; until the bucket exists it must run on local state.
    override.write_text(
        "# Written by `devops infra bootstrap` for its first run; removed when it ends.\n"
        f'terraform {{\n  backend "local" {{\n    path = {json.dumps(str(local_state))}\n  }}\n}}\n',
        encoding="utf-8",
    )
    tf = ports.terraform(root)
    try:
        tf.init(None)
        out = work / "bootstrap.tfplan"
        tf.plan(out, var_file=var_file)
        tf.apply(out)
    finally:
        override.unlink(missing_ok=True)
    tf.init(write_backend(settings, work / "backend.hcl"), migrate_state=True)
    if not probe.object_exists(settings.bucket, settings.key):
        raise TerraformFailed(
            f"terraform init -migrate-state: the bootstrap state did not reach "
            f"s3://{settings.bucket}/{settings.key}; it is still in {local_state}"
        )
    local_state.unlink(missing_ok=True)
    return _report(settings, True, dry_run, steps)
