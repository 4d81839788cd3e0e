"""Nothing outside the repository: every path key of the config, and the GitOps repository's own
files, with `..`, absolute paths and symlinks pointing at the canary folder beside the project.

Config paths are refused when the file is read (exit 2 naming the key); GitOps paths are also
refused where the clone is read and written, when the repository itself holds a symlink (exit 2,
nothing pushed: the checks compare the remote's branch before and after). The harness checks that
the canary folder is byte for byte as it was after every case.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import COST, DIGEST, INFRA, base_config_text, config_with, remote_setup
from tests.support.cli import Outcome
from tests.support.project import git

BASE = base_config_text() + INFRA + COST
VALIDATE = ("config", "validate")
SET_IMAGE = ("gitops", "set-image", "--env", "dev", f"alpha=127.0.0.1:5000/test/alpha:v2@{DIGEST}")
DEV = "gitops/environments/dev"


def key(case_id: str, path: str, raw: str, *mentions: str, argv: tuple[str, ...] = VALIDATE) -> Case:
    return Case(f"paths-{case_id}", argv, 2, config=config_with((path, raw), base=BASE),
                mentions=("devops.yaml", path, *mentions))


def symlinked(case_id: str, link: str, target: str, *mentions: str, argv: tuple[str, ...] = VALIDATE,
              config: str = BASE) -> Case:
    """`link` in the project replaced by a symlink to `target` (`{canary}` substituted)."""

    def setup(ctx: CaseContext) -> None:
        path = ctx.root / link
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target.replace("{canary}", str(ctx.canary)))

    return Case(f"paths-{case_id}", argv, 2, config=config, setup=setup, mentions=("devops.yaml", *mentions))


# -- config keys: absolute, `..`, home, empty, control characters ------------------------------
KEYS = [
    key("service-root", "services.alpha.path", '"/"', "outside"),
    key("service-up", "services.alpha.path", '"../outside"', ".."),
    key("service-etc", "services.alpha.path", '"../../etc"', ".."),
    key("service-absolute", "services.alpha.path", '"/etc"'),
    key("service-home", "services.alpha.path", '"~/x"'),
    key("service-empty", "services.alpha.path", '""'),
    key("service-up-inside", "services.alpha.path", '"services/alpha/../../.."', ".."),
    key("service-backslash", "services.alpha.path", '"..\\\\..\\\\etc"'),
    key("service-nul", "services.alpha.path", '"services/alpha\\0"', "control"),
    key("service-drive", "services.alpha.path", '"C:/Windows"'),
    key("dockerfile-up", "services.alpha.dockerfile", '"../../../etc/passwd"', ".."),
    key("dockerfile-absolute", "services.alpha.dockerfile", '"/etc/passwd"'),
    key("ignore-file-up", "gates.scan.ignore_file", '"../.trivyignore"'),
    key("ignore-file-absolute", "gates.scan.ignore_file", '"/etc/passwd"'),
    key("service-ignore-file-up", "gates.services.alpha.scan.ignore_file", '"../../x"'),
    key("cache-dir-tmp", "gates.cache_dir", '"/tmp/devops-cache"'),
    key("cache-dir-up", "gates.cache_dir", '"../cache"'),
    key("trivy-cache-home", "gates.trivy.cache_dir", '"~/.cache/trivy"'),
    key("trivy-cache-up", "gates.trivy.cache_dir", '"../trivy"'),
    key("config-paths-root", "gates.config_paths", '["/"]'),
    key("config-paths-up", "gates.config_paths", '["charts", "../../etc"]'),
    key("bootstrap-etc", "infra.bootstrap.root", '"../../etc"', ".."),
    key("bootstrap-absolute", "infra.bootstrap.root", '"/etc"'),
    key("infra-env-etc", "infra.environments.dev.root", '"../../etc"', ".."),
    key("infra-work-dir-tmp", "infra.work_dir", '"/tmp/devops-infra"'),
    key("gitops-path-up", "environments.dev.gitops.path", '"../x"', ".."),
    key("gitops-path-absolute", "environments.dev.gitops.path", '"/srv/gitops"'),
    key("gitops-path-git", "environments.dev.gitops.path", '".git/hooks"', ".git"),
    key("gitops-path-up-inside", "environments.dev.gitops.path", '"gitops/../../.."'),
    key("gitops-path-option", "environments.dev.gitops.path", '"-x"'),
    key("gitops-path-pathspec", "environments.dev.gitops.path", '":(top)gitops"'),
    key("gitops-path-newline", "environments.dev.gitops.path", '"gitops/environments/dev\\n"'),
    key("values-file-up", "environments.dev.gitops.values_file", '"../{service}.yaml"'),
    key("values-file-absolute", "environments.dev.gitops.values_file", '"/{service}.yaml"'),
    key("values-file-git", "environments.dev.gitops.values_file", '".git/{service}"'),
    key("values-file-deep-up", "environments.dev.gitops.values_file", '"values/../../../{service}.yaml"'),
    key("record-file-up", "environments.dev.gitops.record_file", '"../release.json"', ".."),
    key("record-file-absolute", "environments.dev.gitops.record_file", '"/etc/passwd"'),
    key("record-file-git-config", "environments.dev.gitops.record_file", '".git/config"', ".git"),
    key("record-file-git-upper", "environments.dev.gitops.record_file", '".GIT/config"', ".git"),
    key("record-file-canary", "environments.prod.gitops.record_file", '"../../../../canary/release.json"'),
    key("service-root-with-build", "services.alpha.path", '"/"', argv=("build", "alpha")),
    key("record-up-with-status", "environments.dev.gitops.record_file", '"../../../x.json"', argv=("status",)),
    key("infra-etc-with-plan", "infra.environments.dev.root", '"../../etc"', argv=("infra", "plan", "--env", "dev")),
]

# -- symlinks inside the project pointing outside it -----------------------------------------------
SYMLINKS = [
    symlinked("service-folder-to-canary", "services/alpha", "{canary}", "services.alpha.path", "outside"),
    symlinked("service-folder-to-root", "services/alpha", "/", "services.alpha.path"),
    symlinked("dockerfile-to-canary", "services/alpha/Dockerfile", "{canary}/secret.txt",
              "services.alpha.dockerfile", "outside"),
    symlinked("ignore-file-to-canary", ".trivyignore", "{canary}/secret.txt", "gates.scan.ignore_file",
              config=config_with(("gates.scan.ignore_file", ".trivyignore"), base=BASE)),
    symlinked("cache-dir-to-canary", ".devops", "{canary}", "gates.cache_dir", "outside"),
    symlinked("config-path-to-etc", "charts", "/etc", "gates.config_paths"),
    symlinked("bootstrap-to-canary", "infra/bootstrap", "{canary}", "infra.bootstrap.root"),
    symlinked("infra-env-to-canary", "infra/environments/dev", "{canary}", "infra.environments.dev.root"),
    symlinked("infra-parent-to-canary", "infra", "{canary}", "outside"),
    symlinked("trivy-cache-relative-to-canary", "trivy-cache", "{canary}", "gates.trivy.cache_dir",
              config=config_with(("gates.trivy.cache_dir", "trivy-cache"), base=BASE)),
    symlinked("symlink-loop", "services/alpha", "alpha", "services.alpha.path"),
    symlinked("service-to-canary-with-plan", "services/alpha", "{canary}", "services.alpha.path",
              argv=("plan", "alpha")),
]


def inside_link(ctx: CaseContext) -> None:
    real = ctx.root / "services" / "alpha-real"
    (ctx.root / "services" / "alpha").rename(real)
    (ctx.root / "services" / "alpha").symlink_to("alpha-real")


CONTROLS = [
    Case("paths-control-valid", VALIDATE, 0, config=BASE),
    Case("paths-control-symlink-inside", VALIDATE, 0, config=BASE, setup=inside_link),
    Case("paths-control-absolute-inside", VALIDATE, 0, setup=lambda ctx: ctx.write(
        "pipelines/devops.yaml", config_with(("services.alpha.path", f'"{ctx.root}/services/alpha"'), base=BASE))),
    Case("paths-control-trivy-cache-absolute", VALIDATE, 0,
         config=config_with(("gates.trivy.cache_dir", '"/var/cache/trivy"'), base=BASE)),
    Case("paths-control-service-at-root", VALIDATE, 0, config=config_with(("services.alpha.path", '"."'), base=BASE)),
    Case("paths-control-gitops-layout", VALIDATE, 0,
         config=config_with(("environments.dev.gitops.values_file", '"charts/{service}/values-dev.yaml"'),
                            ("environments.dev.gitops.record_file", '"records/dev.json"'), base=BASE)),
]


# -- the GitOps repository: symlinks committed to it ------------------------------------------------
def head_kept(ctx: CaseContext) -> None:
    """After a setup: remember the remote's branch, so the check can prove nothing was pushed."""
    remote = ctx.root.parent / "origin.git"
    (ctx.root.parent / "origin-head").write_text(git(remote, "rev-parse", "main").strip())


def nothing_pushed(ctx: CaseContext, _outcome: Outcome) -> None:
    remote = ctx.root.parent / "origin.git"
    before = (ctx.root.parent / "origin-head").read_text()
    assert git(remote, "rev-parse", "main").strip() == before, "the GitOps remote changed on a refused input"


def hostile_remote(case_id: str, argv: tuple[str, ...], *mentions: str, symlinks: dict[str, str] | None = None,
                   files: dict[str, str | bytes] | None = None, remove: tuple[str, ...] = (),
                   expect: int = 2, config: str | None = None) -> Case:
    base = remote_setup(symlinks=symlinks, files=files, remove=remove)

    def setup(ctx: CaseContext) -> None:
        base(ctx)
        head_kept(ctx)

    return Case(f"paths-gitops-{case_id}", argv, expect, config=config, setup=setup, check=nothing_pushed,
                mentions=mentions)


def _written(ctx: CaseContext, _outcome: Outcome) -> None:
    """The control really wrote, and only inside the remote."""
    remote = ctx.root.parent / "origin.git"
    text = git(remote, "show", f"main:{DEV}/values/alpha.yaml")
    assert DIGEST in text, text
    assert not any(Path(ctx.canary).rglob("alpha.yaml"))


GITOPS = [
    hostile_remote("values-to-canary-set-image", SET_IMAGE, "values/alpha.yaml", "symlink",
                   symlinks={f"{DEV}/values/alpha.yaml": "{canary}/secret.txt"}),
    hostile_remote("values-to-passwd-status", ("status", "--env", "dev"), "values/alpha.yaml", "symlink",
                   symlinks={f"{DEV}/values/alpha.yaml": "/etc/passwd"}),
    hostile_remote("values-to-dev-zero-status", ("status", "--env", "dev"), "values/alpha.yaml",
                   symlinks={f"{DEV}/values/alpha.yaml": "/dev/zero"}),
    hostile_remote("values-to-prod-set-image", SET_IMAGE, "values/alpha.yaml", "symlink",
                   symlinks={f"{DEV}/values/alpha.yaml": "../../prod/values/alpha.yaml"}),
    hostile_remote("values-folder-to-canary", SET_IMAGE, "values", "symlink",
                   remove=(f"{DEV}/values",), symlinks={f"{DEV}/values": "{canary}"}),
    hostile_remote("record-to-canary-status", ("status", "--env", "dev"), "release.json", "symlink",
                   symlinks={f"{DEV}/release.json": "{canary}/gitops/environments/dev/release.json"}),
    hostile_remote("record-to-canary-rollback", ("rollback", "--env", "dev", "--list"), "release.json",
                   symlinks={f"{DEV}/release.json": "{canary}/gitops/environments/dev/release.json"}),
    hostile_remote("env-folder-to-canary-status", ("status", "--env", "dev"), "symlink",
                   remove=(DEV,), symlinks={DEV: "{canary}/gitops/environments/dev"}),
    hostile_remote("env-folder-to-canary-set-image", SET_IMAGE, "symlink",
                   remove=(DEV,), symlinks={DEV: "{canary}/gitops/environments/dev"}),
    hostile_remote("gitops-folder-to-canary", SET_IMAGE, "symlink",
                   remove=("gitops",), symlinks={"gitops": "{canary}/gitops"}),
    hostile_remote("env-folder-relative-up", ("status", "--env", "dev"), "symlink",
                   remove=(DEV,), symlinks={DEV: "../../../.."}),
    hostile_remote("values-is-a-folder", ("status", "--env", "dev"), "values/alpha.yaml",
                   remove=(f"{DEV}/values/alpha.yaml",), files={f"{DEV}/values/alpha.yaml/x": "x\n"}),
    hostile_remote("source-record-to-canary-promote", ("release", "--env", "prod", "--dry-run"), "release.json",
                   symlinks={f"{DEV}/release.json": "{canary}/gitops/environments/dev/release.json"}),
    Case("paths-gitops-control-set-image", SET_IMAGE, 0, setup=remote_setup(), check=_written),
    Case("paths-gitops-control-status", ("status", "--env", "dev", "--json"), 0, setup=remote_setup()),
]


CASES = [*CONTROLS, *KEYS, *SYMLINKS, *GITOPS]
