"""Every command's options: each kind of value (seconds, instants, months, URLs, commits, ids,
names, refs, build arguments, image references, paths) refused with exit 2 and one line naming
the option, before the configuration is read and before anything outside is asked (the harness
blocks sockets and tools). Each family has a control that passes, without reaching outside.
"""

from __future__ import annotations

from tests.security.badinput.harness import Case
from tests.security.badinput.project import COST, DIGEST, INFRA, base_config_text, remote_setup

WITH_COST = base_config_text() + COST
WITH_INFRA = base_config_text() + INFRA
IMAGE = f"alpha=127.0.0.1:5000/test/alpha:v1@{DIGEST}"


def opt(case_id: str, argv: tuple[str, ...], option: str, *mentions: str, config: str | None = None,
        expect: int = 2) -> Case:
    return Case(f"option-{case_id}", argv, expect, config=config, mentions=(option, *mentions))


# -- seconds: finite, positive, at most a week ------------------------------------------------------
SECONDS = []
for command in (("scan",), ("gate", "sonar"), ("quality",)):
    for value in ("nan", "inf", "-inf", "NaN", "0", "-5", "1e309", "604801", "ten", ""):
        slug = "-".join(command) + "-" + (value.replace(".", "p") or "empty")
        SECONDS.append(opt(f"timeout-{slug}", (*command, "--timeout", value), "--timeout"))
SECONDS.append(opt("timeout-scan-infinity-word", ("scan", "--timeout", "Infinity"), "--timeout"))
# The control: a valid timeout; without a token or report Sonar is SKIPPED (exit 0, no network asked).
SECONDS.append(Case("option-control-timeout-gate-sonar", ("gate", "sonar", "--timeout", "604800"), 0))

# -- instants, times of day, months: ISO 8601 in 2000..2100 ---------------------------------------
DATES = [
    opt("at-year-1", ("cost", "schedule", "--at", "0001-01-01T00:00"), "--at", "2000..2100"),
    opt("at-year-9999", ("cost", "schedule", "--at", "9999-12-31T23:59"), "--at", "2000..2100"),
    opt("at-year-1999", ("cost", "schedule", "--at", "1999-12-31T23:59:59Z"), "--at", "2000..2100"),
    opt("at-words", ("cost", "schedule", "--at", "tonight"), "--at"),
    opt("at-empty", ("cost", "schedule", "--at", ""), "--at"),
    opt("at-not-a-day", ("cost", "schedule", "--at", "2026-02-30T10:00"), "--at"),
    opt("at-bad-offset", ("cost", "schedule", "--at", "2026-11-25T20:00+25:00"), "--at"),
    opt("at-hidden-down", ("cost", "down", "--cluster", "test-dev", "--at", "9999-01-01T00:00"), "--at"),
    opt("until-year-9999", ("cost", "down", "--cluster", "test-dev", "--until", "9999-12-31T00:00"), "--until",
        "2000..2100"),
    opt("until-year-1", ("cost", "up", "--cluster", "test-dev", "--until", "0001-01-01T00:00"), "--until"),
    opt("until-25h", ("cost", "down", "--cluster", "test-dev", "--until", "25:00"), "--until"),
    opt("until-61m", ("cost", "down", "--cluster", "test-dev", "--until", "10:61"), "--until"),
    opt("until-words", ("cost", "up", "--cluster", "test-dev", "--until", "later"), "--until"),
    opt("until-empty", ("cost", "up", "--cluster", "test-dev", "--until", ""), "--until"),
    opt("month-year-1", ("cost", "report", "--month", "0001-01"), "--month", "2000..2100"),
    opt("month-year-9999", ("cost", "report", "--month", "9999-12"), "--month", "2000..2100"),
    opt("month-13", ("cost", "report", "--month", "2026-13"), "--month"),
    opt("month-00", ("cost", "report", "--month", "2026-00"), "--month"),
    opt("month-short", ("cost", "report", "--month", "2026-1"), "--month"),
    opt("month-empty", ("cost", "report", "--month", ""), "--month"),
    opt("month-newline", ("cost", "report", "--month", "2026-11\n"), "--month"),
    Case("option-control-month", ("cost", "report", "--month", "2100-12"), 0, config=WITH_COST),
    Case("option-control-month-2000", ("cost", "report", "--month", "2000-01", "--json"), 0, config=WITH_COST),
]

# -- URLs -----------------------------------------------------------------------------------------------
URLS = [
    opt("prometheus-url-ftp", ("verify", "--env", "dev", "--prometheus-url", "ftp://x"), "--prometheus-url", "ftp://"),
    opt("prometheus-url-file", ("verify", "--env", "dev", "--prometheus-url", "file:///etc/passwd"),
        "--prometheus-url"),
    opt("prometheus-url-no-host", ("verify", "--env", "dev", "--prometheus-url", "http://"), "--prometheus-url"),
    opt("prometheus-url-words", ("verify", "--env", "dev", "--prometheus-url", "prometheus"), "--prometheus-url"),
    opt("prometheus-url-userinfo", ("verify", "--env", "dev", "--prometheus-url", "http://u:secret@127.0.0.1:9"),
        "--prometheus-url", "credentials"),
    opt("prometheus-url-port", ("verify", "--env", "dev", "--prometheus-url", "http://x:70000"), "--prometheus-url"),
    opt("prometheus-url-newline", ("verify", "--env", "dev", "--prometheus-url", "http://x/\nHost: y"),
        "--prometheus-url"),
    opt("prometheus-url-empty", ("verify", "--env", "dev", "--prometheus-url", ""), "--prometheus-url"),
    # Control: a valid URL is accepted; the unknown service is then the bad input (no network asked).
    Case("option-control-prometheus-url", ("verify", "--env", "dev", "--prometheus-url", "http://127.0.0.1:9",
                                           "--service", "gamma"), 2, mentions=("gamma",)),
]

# -- durations ----------------------------------------------------------------------------------------
DURATIONS = [
    Case("option-control-window", ("verify", "--env", "dev", "--window", "400d", "--prometheus-url",
                                   "http://127.0.0.1:9", "--service", "gamma"), 2, mentions=("gamma",)),
    opt("window-words", ("verify", "--env", "dev", "--window", "ten"), "--window"),
    opt("window-huge", ("verify", "--env", "dev", "--window", "99999999999w"), "--window"),
    opt("window-zero", ("verify", "--env", "dev", "--window", "0m"), "--window"),
    opt("window-two-units", ("verify", "--env", "dev", "--window", "1h30m"), "--window"),
    opt("window-negative", ("verify", "--env", "dev", "--window", "-5m"), "--window"),
]

# -- commit ids: 7 to 64 hex digits -------------------------------------------------------------------
SET_IMAGE = ("gitops", "set-image", "--env", "dev", IMAGE)
COMMITS = [
    opt("source-commit-trailer", (*SET_IMAGE, "--source-commit", "abc1234\nSigned-off-by: Evil <e@x>"),
        "--source-commit"),
    opt("source-commit-trailing-newline", (*SET_IMAGE, "--source-commit", "abc1234\n"), "--source-commit"),
    opt("source-commit-not-hex", (*SET_IMAGE, "--source-commit", "xyz1234"), "--source-commit"),
    opt("source-commit-short", (*SET_IMAGE, "--source-commit", "abc12"), "--source-commit"),
    opt("source-commit-long", (*SET_IMAGE, "--source-commit", "a" * 65), "--source-commit"),
    opt("source-commit-empty", (*SET_IMAGE, "--source-commit", ""), "--source-commit"),
    opt("source-commit-option", (*SET_IMAGE, "--source-commit", "--amend"), "--source-commit"),
    Case("option-control-source-commit", (*SET_IMAGE, "--source-commit", "ABCDEF1234567", "--dry-run"), 0,
         setup=remote_setup()),
]

# -- ids and names: not empty, no spaces or control characters, never option-like ---------------------
IDS = [
    opt("lock-id-empty", ("infra", "unlock", "--env", "dev", "--lock-id", ""), "--lock-id", "non-empty"),
    opt("lock-id-space", ("infra", "unlock", "--env", "dev", "--lock-id", " "), "--lock-id"),
    opt("lock-id-option", ("infra", "unlock", "--env", "dev", "--lock-id", "-force"), "--lock-id"),
    opt("lock-id-newline", ("infra", "unlock", "--env", "dev", "--lock-id", "a\nb"), "--lock-id"),
    opt("lock-id-huge", ("infra", "unlock", "--env", "dev", "--lock-id", "a" * 500), "--lock-id"),
    opt("env-empty-release", ("release", "--env", ""), "--env"),
    opt("env-empty-status", ("status", "--env", ""), "--env"),
    opt("env-empty-verify", ("verify", "--env", ""), "--env"),
    opt("env-empty-infra", ("infra", "plan", "--env", ""), "--env"),
    opt("env-empty-rollback", ("rollback", "--env", "", "--list"), "--env"),
    opt("env-empty-set-image", ("gitops", "set-image", "--env", "", IMAGE), "--env"),
    opt("env-newline-config-show", ("config", "show", "--env", "dev\nprod"), "--env"),
    opt("service-empty-verify", ("verify", "--env", "dev", "--service", ""), "--service"),
    opt("service-empty-gate", ("gate", "sonar", "--service", ""), "--service"),
    opt("service-arg-empty-build", ("build", ""), "SERVICES"),
    opt("service-arg-empty-plan", ("plan", ""), "SERVICES"),
    opt("service-arg-space-scan", ("scan", "al pha"), "SERVICES"),
    opt("service-arg-empty-quality", ("quality", ""), "SERVICE"),
    opt("services-csv-space", ("release", "--env", "dev", "--services", "alpha,be ta"), "--services"),
    opt("cluster-empty", ("cost", "down", "--cluster", ""), "--cluster"),
    opt("cluster-option", ("cost", "up", "--cluster", "--all"), "--cluster"),
    opt("nodegroup-space", ("cost", "down", "--cluster", "test-dev", "--nodegroup", "a b"), "--nodegroup"),
    opt("target-empty", ("cost", "schedule", "--target", ""), "--target"),
    opt("schedule-newline", ("cost", "report", "--schedule", "office\n"), "--schedule"),
    # Valid shape, unknown name: still exit 2, from the config, with a did-you-mean.
    Case("option-env-unknown", ("status", "--env", "dve"), 2, mentions=("dve", "dev")),
    Case("option-service-unknown-build", ("build", "gamma"), 2, mentions=("gamma",)),
    Case("option-cluster-unknown", ("cost", "down", "--cluster", "prod-cluster"), 2, config=WITH_COST,
         mentions=("prod-cluster",)),
    Case("option-infra-env-unknown", ("infra", "plan", "--env", "prod"), 2, config=WITH_INFRA, mentions=("prod",)),
    Case("option-control-names", ("config", "show", "--env", "dev", "--json"), 0),
]

# -- git refs: never an option, a refspec or a pathspec -------------------------------------------------
REFS = [
    opt("base-option", ("plan", "--base", "--upload-pack=touch /tmp/x"), "--base"),
    opt("base-dash", ("plan", "--base", "-x"), "--base"),
    opt("base-refspec", ("plan", "--base", "main:evil"), "--base"),
    opt("base-space", ("plan", "--base", "main evil"), "--base"),
    opt("base-empty", ("plan", "--base", ""), "--base"),
    opt("to-option", ("rollback", "--env", "dev", "--to", "--output=/tmp/x"), "--to"),
    opt("to-newline", ("rollback", "--env", "dev", "--to", "HEAD\nx"), "--to"),
    opt("to-pathspec", ("rollback", "--env", "dev", "--to", ":(top)x"), "--to"),
    Case("option-control-to-unknown-commit", ("rollback", "--env", "dev", "--to", "abc1234", "--dry-run"), 2,
         setup=remote_setup(), mentions=("abc1234",)),
]

# -- build arguments -----------------------------------------------------------------------------------
BUILD_ARGS = [
    opt("build-arg-no-equals", ("build", "--build-arg", "NOEQUALS"), "--build-arg"),
    opt("build-arg-empty-key", ("plan", "--build-arg", "=value"), "--build-arg"),
    opt("build-arg-digit-key", ("push", "--build-arg", "1X=y"), "--build-arg"),
    opt("build-arg-newline", ("release", "--env", "dev", "--build-arg", "X=a\nb"), "--build-arg"),
    opt("build-arg-space-key", ("scan", "--build-arg", "A B=c"), "--build-arg"),
    opt("build-arg-empty", ("build", "--build-arg", ""), "--build-arg"),
    # A base pinned by digest: the build identity takes it as it is, without asking a registry.
    Case("option-control-build-arg", ("plan", "--build-arg", "DEBIAN_IMAGE=x:1@sha256:" + "a" * 64, "--base", "HEAD",
                                      "--json"), 0),
]

# -- image references and specs ------------------------------------------------------------------------
IMAGES = [
    opt("image-empty", ("scan", "--image", ""), "--image"),
    opt("image-option", ("scan", "--image", "--help"), "--image"),
    opt("image-space", ("scan", "--image", "alpine latest"), "--image"),
    opt("image-newline", ("scan", "--image", "alpine\n"), "--image"),
    opt("db-repository-url", ("scan", "--db-repository", "https://evil/db"), "--db-repository"),
    opt("db-repository-space", ("scan", "--db-repository", "ghcr.io/a b"), "--db-repository"),
    Case("option-set-image-no-digest", ("gitops", "set-image", "--env", "dev", "alpha=repo:v1"), 2,
         mentions=("digest",)),
    Case("option-set-image-short-digest", ("gitops", "set-image", "--env", "dev", "alpha=repo@sha256:abc"), 2,
         mentions=("64",)),
    Case("option-set-image-no-service", ("gitops", "set-image", "--env", "dev", f"=repo@{DIGEST}"), 2,
         mentions=("SERVICE=",)),
    Case("option-set-image-unknown-service", ("gitops", "set-image", "--env", "dev", f"gamma=repo@{DIGEST}"), 2,
         mentions=("gamma",)),
    Case("option-set-image-bad-tag", ("gitops", "set-image", "--env", "dev", f"alpha=repo:a b@{DIGEST}"), 2,
         mentions=("tag",)),
    Case("option-set-image-upper-repo", ("gitops", "set-image", "--env", "dev", f"alpha=Repo@{DIGEST}"), 2,
         mentions=("repository",)),
    Case("option-set-image-newline-repo", ("gitops", "set-image", "--env", "dev", f"alpha=repo\nx@{DIGEST}"), 2,
         mentions=("repository",)),
    Case("option-set-image-digest-newline", ("gitops", "set-image", "--env", "dev", f"alpha=repo@{DIGEST}\n"), 2,
         mentions=("digest",)),
    Case("option-set-image-tag-newline", ("gitops", "set-image", "--env", "dev", f"alpha=repo:v1\n@{DIGEST}"), 2,
         mentions=("tag",)),
    Case("option-set-image-repository-newline", ("gitops", "set-image", "--env", "dev", f"alpha=repo\n:v1@{DIGEST}"),
         2, mentions=("repository",)),
    Case("option-set-image-mode", ("gitops", "set-image", "--env", "dev", "--mode", "force", IMAGE), 2,
         mentions=("--mode",)),
    Case("option-control-set-image", ("gitops", "set-image", "--env", "dev", IMAGE, "--dry-run"), 0,
         setup=remote_setup()),
]

# -- severities and scanners (parsed by the scan command before Trivy or Docker) --------------------
POLICY = [
    Case("option-control-policy", ("scan", "--severity", "high,CRITICAL", "--scanners", "vuln,secret", "gamma"), 2,
         mentions=("gamma",)),
    Case("option-severity-unknown", ("scan", "--severity", "BOGUS"), 2, mentions=("--severity", "BOGUS")),
    Case("option-severity-empty", ("scan", "--severity", ","), 2, mentions=("--severity",)),
    Case("option-severity-trailing-space", ("scan", "--severity", "HIGH ,CRITICAL ,NOPE"), 2,
         mentions=("--severity", "NOPE")),
    Case("option-scanners-unknown", ("scan", "--scanners", "vuln,rootkit"), 2, mentions=("--scanners", "rootkit")),
    Case("option-scan-config-and-image", ("scan", "--config", "--image", "alpine:3"), 2, mentions=("--image",)),
]

# -- paths given as options -------------------------------------------------------------------------------
PATHS = [
    Case("option-control-output", ("observability", "rules", "--output", "{root}/out/slo.yaml"), 0),
    opt("config-empty", ("--config", "", "config", "validate"), "--config"),
    opt("ignore-file-empty", ("scan", "--ignore-file", ""), "--ignore-file"),
    opt("sarif-newline", ("scan", "--sarif", "a\nb.sarif"), "--sarif"),
    opt("sbom-empty", ("scan", "--sbom", ""), "--sbom"),
    opt("cache-dir-newline", ("scan", "--cache-dir", "x\ny"), "--cache-dir"),
    opt("trivy-cache-dir-empty", ("scan", "--trivy-cache-dir", ""), "--trivy-cache-dir"),
    opt("report-task-empty", ("gate", "sonar", "--report-task", ""), "--report-task"),
    opt("plan-empty", ("infra", "apply", "--env", "dev", "--plan", ""), "--plan"),
    opt("output-empty", ("observability", "rules", "--output", ""), "--output"),
    opt("output-directory", ("observability", "rules", "--output", "{root}/pipelines"), "--output"),
    opt("workdir-empty", ("demo", "--workdir", ""), "--workdir"),
    opt("sarif-directory", ("scan", "--sarif", "{root}/services"), "--sarif"),
]

# -- everything else ------------------------------------------------------------------------------------
OTHER = [
    opt("registry-url", ("demo", "--registry", "ftp://x"), "--registry"),
    opt("registry-space", ("demo", "--registry", "a b:5000"), "--registry"),
    opt("settle-nan", ("demo", "--settle-seconds", "nan"), "--settle-seconds"),
    opt("settle-zero", ("demo", "--settle-seconds", "0"), "--settle-seconds"),
    opt("mode-release", ("release", "--env", "dev", "--mode", "push"), "--mode"),
    opt("mode-rollback", ("rollback", "--env", "dev", "--to", "previous", "--mode", ""), "--mode"),
    Case("option-unknown-command", ("deploy",), 2, mentions=("deploy",)),
    Case("option-rollback-needs-to", ("rollback", "--env", "dev"), 2, mentions=("--to",)),
]

CASES = [*SECONDS, *DATES, *URLS, *DURATIONS, *COMMITS, *IDS, *REFS, *BUILD_ARGS, *IMAGES, *POLICY, *PATHS, *OTHER]
