"""pipelines/devops.yaml: every kind of value, in every key that takes it.

Families (each with a control that passes): numbers (never booleans, always finite and in
range), flags (true/false only), strings that must be one line, names, templates (only the
documented placeholders), URLs (http(s) with a host, nothing else), time zones and dates
(2000..2100), and the document itself (not UTF-8, YAML aliases that expand, deep nesting,
unknown tags, huge numbers). Commands other than `config validate` show that the config is
refused before anything outside is asked (the harness blocks sockets and tools).
"""

from __future__ import annotations

from tests.security.badinput.harness import Case
from tests.security.badinput.project import COST, INFRA, VERIFY, base_config_text, config_with

VALIDATE = ("config", "validate")
VERIFY_DEV = base_config_text().replace("    gitops: {path: gitops/environments/dev}\n",
                                        "    gitops: {path: gitops/environments/dev}\n" + VERIFY)
OBSERVABILITY = """\
observability:
  slos:
    alpha: {availability: 99.5, latency: {threshold_seconds: 0.25, objective: 99.0}}
"""
ALL = VERIFY_DEV + COST + INFRA + OBSERVABILITY


def bad(case_id: str, key: str | tuple[str, ...], raw: str, *mentions: str, argv: tuple[str, ...] = VALIDATE,
        base: str = ALL, shown: str | None = None) -> Case:
    """`key` set to the raw YAML `raw`: exit 2 naming the file and the key (or `shown`, where the
    error is about the mapping that holds the key)."""
    shown = shown or (key if isinstance(key, str) else ".".join(key))
    return Case(f"config-{case_id}", argv, 2, config=config_with((key, raw), base=base),
                mentions=("devops.yaml", shown, *mentions))


CONTROLS = [
    Case("config-control-all-blocks", VALIDATE, 0, config=ALL),
    Case("config-control-numbers-as-quoted-strings", VALIDATE, 0,
         config=config_with(("services.alpha.port", '"8001"'), ("build.parallelism", "2"), base=ALL)),
    Case("config-control-float-from-int", VALIDATE, 0, config=config_with(("registry.push.backoff_seconds", "1"),
                                                                          base=ALL)),
    Case("config-control-anchors-without-expansion", VALIDATE, 0,
         config=ALL.replace("    port: 8000\n", "    port: &p 8000\n").replace("    port: 8001\n", "    port: *p\n")),
]

# -- numbers: booleans, NaN, infinities, out of range, not a number ----------------------------
NUMBER_KEYS = [
    ("services.alpha.port", "65536"),
    ("build.parallelism", "65"),
    ("build.timeout_seconds", "9999999999"),
    ("registry.push.attempts", "0"),
    ("registry.push.backoff_seconds", "-1"),
    ("registry.push.max_backoff_seconds", "1e12"),
    ("registry.push.deadline_seconds", "0"),
    ("registry.push.timeout_seconds", "1e308"),
    ("environments.dev.gitops.push.attempts", "21"),
    ("environments.dev.gitops.push.backoff_seconds", "-0.5"),
    ("environments.dev.gitops.push.max_backoff_seconds", "1e100"),
    ("environments.dev.gitops.push.timeout_seconds", "0"),
    ("environments.dev.evidence.scan_max_age_days", "0"),
    ("environments.dev.verify.min_requests", "0"),
    ("environments.dev.verify.settle_seconds", "3601"),
    ("environments.dev.verify.health_timeout_seconds", "-1"),
    ("environments.dev.verify.prometheus.timeout_seconds", "301"),
    ("observability.slos.alpha.availability", "100"),
    ("observability.slos.alpha.latency.objective", "0"),
    ("observability.slos.alpha.latency.threshold_seconds", "0.3"),
    ("gates.trivy.timeout_seconds", "0"),
    ("gates.sonar.timeout_seconds", "-5"),
    ("gates.sonar.http_retries", "11"),
    ("gates.sonar.poll_initial_seconds", "0"),
    ("gates.sonar.scanner_timeout_seconds", "1e300"),
    ("cost.concurrency", "0"),
    ("cost.readback_attempts", "21"),
    ("cost.readback_interval_seconds", "61"),
    ("cost.metrics.timeout_seconds", "121"),
    (("cost", "prices", "ap-south-1", "instances", "t3.medium"), "-0.01"),
    ("cost.prices.ap-south-1.eks_control_plane", "1e9"),
    ("cost.targets.dev.capacity.workers.count", "1001"),
    ("cost.targets.dev.fixed.nat_gateways", "-1"),
    ("infra.timeout_seconds", "5"),
]
NUMBERS = []
for key, out_of_range in NUMBER_KEYS:
    slug = (key if isinstance(key, str) else ".".join(key)).replace(".", "-")
    NUMBERS.append(bad(f"bool-{slug}", key, "true", "true"))
    NUMBERS.append(bad(f"range-{slug}", key, out_of_range))
# Non-finite numbers: every float key (a sample of each block) and a price in each form.
for key in ["registry.push.timeout_seconds", "environments.dev.gitops.push.backoff_seconds",
            "environments.dev.verify.settle_seconds", "observability.slos.alpha.availability",
            "gates.trivy.timeout_seconds", "gates.sonar.http_backoff_seconds", "cost.readback_interval_seconds",
            "cost.prices.ap-south-1.nat_gateway", "cost.prices.ap-south-1.alb"]:
    slug = key.replace(".", "-")
    NUMBERS.append(bad(f"nan-{slug}", key, ".nan", "finite"))
    NUMBERS.append(bad(f"inf-{slug}", key, ".inf"))
NUMBERS += [
    bad("inf-negative-price", ("cost", "prices", "ap-south-1", "instances", "t3.medium"), "-.inf"),
    bad("nan-price-instance", ("cost", "prices", "ap-south-1", "instances", "t3.medium"), ".NaN", "finite"),
    bad("nan-string-timeout", "gates.trivy.timeout_seconds", '"nan"', "finite"),
    bad("inf-string-timeout", "registry.push.deadline_seconds", '"Infinity"'),
    bad("float-overflow-port", "services.alpha.port", "1e999"),
    Case("config-huge-int-port", VALIDATE, 2, config=ALL.replace("    port: 8000\n", f"    port: {'9' * 5000}\n"),
         mentions=("devops.yaml",)),
    bad("fraction-port", "services.alpha.port", "80.5", "integer"),
    bad("text-port", "services.alpha.port", "eighty", "integer"),
    bad("list-port", "services.alpha.port", "[80]", "integer"),
    bad("bool-false-parallelism", "build.parallelism", "false", "false"),
    bad("nan-terraform-variable", "infra.environments.dev.variables.replicas", ".nan", "finite", "replicas",
        shown="infra.environments.dev.variables"),
    bad("inf-terraform-variable-nested", "infra.environments.dev.variables.sizes", "{min: 1, max: .inf}", "finite",
        "sizes.max", shown="infra.environments.dev.variables"),
    bad("bad-terraform-variable-name", "infra.environments.dev.variables", '{"a b": 1}', "terraform variable"),
    bad("bool-port-with-plan", "services.alpha.port", "true", argv=("plan",)),
    bad("nan-price-with-cost-report", "cost.prices.ap-south-1.eks_control_plane", ".nan",
        argv=("cost", "report", "--month", "2026-11")),
]
# An anchored `true` is a ruamel ScalarBoolean (an int): still refused where a number goes.
NUMBERS.append(Case("config-anchored-bool-alias-port", VALIDATE, 2,
                    config=ALL.replace("  parallelism: 2\n", "  parallelism: 2\n  registry_cache: &yes true\n", 1)
                    .replace("    port: 8001\n", "    port: *yes\n", 1),
                    mentions=("services.beta.port",)))

# -- flags: true/false only --------------------------------------------------------------------
FLAGS = [
    Case("config-control-flags", VALIDATE, 0, config=config_with(
        ("build.registry_cache", "false"), ("environments.dev.auto_sync", "false"),
        ("cost.targets.dev.force_up", "true"), ("environments.dev.evidence.require_verification", "null"), base=ALL)),
    bad("flag-yes-string", "build.registry_cache", "yes", "true or false"),
    bad("flag-one", "environments.dev.auto_sync", "1", "true or false"),
    bad("flag-quoted-true", "gates.scan.ignore_unfixed", '"true"', "true or false"),
    bad("flag-zero", "cost.targets.dev.allow_production", "0", "true or false"),
    bad("flag-no", "cost.targets.dev.force_up", "no", "true or false"),
    bad("flag-list", "infra.environments.dev.protected", "[true]", "true or false"),
    bad("flag-null-string", "environments.dev.evidence.require_sonar", "off", "true or false"),
    bad("flag-number", "gates.trivy.offline", "2", "true or false"),
]

# -- one-line strings, names, patterns ---------------------------------------------------------
STRINGS = [
    Case("config-control-strings", VALIDATE, 0, config=config_with(
        ("build.build_args.BASE", '"registry.example.com/base:1 # not a comment"'),
        ("environments.dev.gitops.author.name", '"Release Bot (CI)"'),
        ("environments.dev.gitops.branch", "release/2026.11"), ("services.alpha.health_path", '"/healthz?full=1"'),
        ("gates.trivy.db_repositories", '["ghcr.io/aquasecurity/trivy-db:2", "mirror.example.com:5000/trivy-db"]'),
        base=ALL)),
    bad("build-arg-newline", "build.build_args.BASE", '"a\\nb"', "one line"),
    bad("service-build-arg-control", "services.alpha.build_args.X", '"a\\u0007b"', "control"),
    bad("helm-set-newline", "gates.helm_set.charts", '{image.tag: "x\\ny"}', "one line"),
    bad("author-newline", "environments.dev.gitops.author.name", '"devops\\nSigned-off-by: evil"', "one line"),
    bad("author-email-spaces", "environments.dev.gitops.author.email", '"a b@c"'),
    bad("branch-option", "environments.dev.gitops.branch", '"--upload-pack=evil"'),
    bad("branch-newline", "environments.dev.gitops.branch", '"main\\nx"'),
    bad("branch-space", "environments.dev.gitops.branch", '"ma in"'),
    bad("cluster-name-newline", "environments.dev.cluster.name", '"test\\ndev"'),
    bad("cluster-region", "environments.dev.cluster.region", "mumbai"),
    bad("health-path-newline", "services.alpha.health_path", '"/health\\r\\nX-Evil: 1"'),
    bad("health-path-relative", "services.alpha.health_path", "health"),
    bad("service-name-upper", "services.Gamma", "{path: services/alpha, port: 1, language: other}", "Gamma",
        shown="services"),
    bad("environment-name-space", "environments.pre prod",
        "{url: 'http://x', cluster: {name: x}, gitops: {path: gitops/x}}", "pre prod", shown="environments"),
    bad("language-unknown", "services.alpha.language", "cobol", "expected one of"),
    bad("image-name-upper", "services.alpha.image", "Alpha"),
    bad("env-var-name", "gates.sonar.token_env", '"SONAR TOKEN"'),
    bad("trivy-binary-option", "gates.trivy.binary", '"--version"', "program"),
    bad("terraform-binary-empty", "infra.terraform", '""', "program"),
    bad("db-repository-url", "gates.trivy.db_repositories", '["https://ghcr.io/x"]'),
    bad("instance-type", "cost.targets.dev.capacity.workers.instance_type", '"t3 medium"'),
    bad("price-region", "cost.prices.mumbai", "{alb: 0.1}", "region", shown="cost.prices"),
    bad("price-instance-type", "cost.prices.ap-south-1.instances", "{'t3 medium': 0.1}", "instance type",
        shown="cost.prices"),
    bad("lock-timeout", "infra.lock_timeout", "99999999s"),
    bad("duration-huge", "observability.slo_period", "99999999999w"),
    bad("duration-window-huge", "environments.dev.verify.window", "999999d", "400 days"),
    bad("override-reason-newline", "cost.schedules.office.overrides",
        '[{from: "2026-11-27T20:00", to: "2026-11-28T02:00", reason: "a\\nb"}]', "one line"),
]

# -- templates: only the documented placeholders ------------------------------------------------
TEMPLATES = [
    bad("values-file-index", "environments.dev.gitops.values_file", '"values/{service}{0}.yaml"', "{0}"),
    bad("values-file-attribute", "environments.dev.gitops.values_file", '"values/{service.__class__}.yaml"',
        "__class__"),
    bad("values-file-conversion", "environments.dev.gitops.values_file", '"values/{service!r}.yaml"', "!r"),
    bad("values-file-spec", "environments.dev.gitops.values_file", '"values/{service:>999999999}.yaml"'),
    bad("values-file-unknown", "environments.dev.gitops.values_file", '"values/{env}/{service}.yaml"', "{env}"),
    bad("values-file-missing-service", "environments.dev.gitops.values_file", '"values/alpha.yaml"', "{service}"),
    bad("values-file-lone-brace", "environments.dev.gitops.values_file", '"values/{service}}.yaml"'),
    bad("values-file-open-brace", "environments.dev.gitops.values_file", '"values/{.yaml"'),
    bad("bucket-index", "infra.state.bucket", '"{project}{0}"', "{0}"),
    bad("bucket-attribute", "infra.state.bucket", '"{project.__init__.__globals__}"'),
    bad("bucket-environment", "infra.state.bucket", '"{project}-{environment}"', "{environment}"),
    bad("lock-table-conversion", "infra.state.lock_table", '"{project!s}"'),
    bad("kms-alias-brace", "infra.state.kms_alias", '"alias/{project"'),
    bad("state-key-spec", "infra.state.key", '"{environment:>9}/tf.tfstate"'),
    bad("state-key-account-index", "infra.state.key", '"{environment}/{account_id[0]}"'),
    bad("health-url-index", "environments.dev.verify.health_urls.alpha", '"{url}{0}"', "{0}", "alpha",
        shown="environments.dev.verify.health_urls"),
    bad("health-url-attribute", "environments.dev.verify.health_urls.alpha", '"{url.__class__}"', "alpha",
        shown="environments.dev.verify.health_urls"),
    bad("health-url-literal-brace", "environments.dev.verify.health_urls.alpha", '"https://x/{y}"', "alpha",
        shown="environments.dev.verify.health_urls"),
    Case("config-control-templates", VALIDATE, 0,
         config=config_with(("environments.dev.gitops.values_file", '"helm/{service}/values.yaml"'),
                            ("infra.state.bucket", '"{project}-{region}-{account_id}"'),
                            ("environments.dev.verify.health_urls.alpha", '"{url}/alpha"'), base=ALL)),
]

# -- URLs: http(s) with a host, no credentials ----------------------------------------------------
URLS = [
    bad("url-ftp", "environments.dev.url", '"ftp://x"', "ftp://"),
    bad("url-file", "environments.dev.url", '"file:///etc/passwd"', "file://"),
    bad("url-no-host", "environments.dev.url", '"http://"', "host"),
    bad("url-javascript", "environments.dev.url", '"javascript:alert(1)"'),
    bad("url-bad-port", "environments.dev.url", '"http://host:99999/"'),
    bad("url-userinfo", "environments.dev.url", '"https://user:secret@shop.example.com"', "credentials"),
    bad("url-space", "environments.dev.url", '"http://a b"'),
    bad("prometheus-gopher", "environments.dev.verify.prometheus.url", '"gopher://x:70/"', "gopher://"),
    bad("prometheus-userinfo", "environments.dev.verify.prometheus.url", '"http://u:p@127.0.0.1:9"', "credentials"),
    bad("pushgateway-ftp", "cost.metrics.pushgateway_url", '"ftp://x"', "ftp://"),
    bad("pushgateway-schemeless", "cost.metrics.pushgateway_url", '"pushgateway:9091"'),
    bad("health-url-file", "environments.dev.verify.health_urls.alpha", '"file:///etc/passwd"', "file://",
        shown="environments.dev.verify.health_urls"),
    bad("sonar-host-ftp", "gates.sonar.host_url", '"ftp://sonar"'),
    bad("github-api-ftp", "environments.dev.gitops.pull_request.api_url", '"ftp://api.github.com"'),
    Case("config-control-urls", VALIDATE, 0,
         config=config_with(("environments.dev.url", '"https://shop.example.com:8443/base"'),
                            ("cost.metrics.pushgateway_url", '"http://127.0.0.1:9091"'), base=ALL)),
]

# -- time zones and dates ---------------------------------------------------------------------------
SCHEDULE = "cost.schedules.office"
DATES = [
    bad("zone-partial", f"{SCHEDULE}.timezone", "Asia", "Asia"),
    bad("zone-region-only", f"{SCHEDULE}.timezone", "Europe", "Europe"),
    bad("zone-typo", f"{SCHEDULE}.timezone", "Asia/Kolkatta", "Asia/Kolkatta"),
    bad("zone-path", f"{SCHEDULE}.timezone", '"../../../../etc/passwd"'),
    bad("zone-absolute", f"{SCHEDULE}.timezone", '"/etc/localtime"'),
    bad("zone-localtime", f"{SCHEDULE}.timezone", "localtime"),
    bad("zone-empty", f"{SCHEDULE}.timezone", '""'),
    bad("zone-number", f"{SCHEDULE}.timezone", "5"),
    bad("holiday-year-1", f"{SCHEDULE}.holidays", '["0001-01-01"]', "2000..2100"),
    bad("holiday-year-9999", f"{SCHEDULE}.holidays", '["9999-12-31"]', "2000..2100"),
    bad("holiday-unquoted-year-9999", f"{SCHEDULE}.holidays", "[9999-12-31]", "2000..2100"),
    bad("holiday-range-to-9999", f"{SCHEDULE}.holidays", '["2026-12-24..9999-12-31"]', "2000..2100"),
    bad("holiday-not-a-day", f"{SCHEDULE}.holidays", '["2026-02-30"]'),
    bad("override-year-1", f"{SCHEDULE}.overrides", '[{from: "0001-01-01T00:00", to: "2026-01-01"}]', "2000..2100"),
    bad("override-year-9999", f"{SCHEDULE}.overrides", '[{from: "2026-01-01", to: "9999-12-31T23:59"}]',
        "2000..2100"),
    bad("exclude-until-9999", "cost.targets.dev.exclude_until", '"9999-12-31T23:59"', "2000..2100"),
    bad("exclude-until-garbage", "cost.targets.dev.exclude_until", '"next week"'),
    bad("uptime-garbage", f"{SCHEDULE}.uptime", '["Mon-Fri 8-20"]'),
    bad("zone-with-cost-report", f"{SCHEDULE}.timezone", "Asia", argv=("cost", "report", "--month", "2026-11")),
    # An unquoted impossible date is a YAML timestamp Python cannot build: a value error, not a bug.
    Case("config-holiday-unquoted-not-a-day", VALIDATE, 2,
         config=ALL.replace('holidays: ["2026-12-25"]', "holidays: [2026-02-30]"), mentions=("devops.yaml",)),
    Case("config-control-dates", VALIDATE, 0,
         config=config_with((f"{SCHEDULE}.holidays", '["2000-01-01", "2100-12-24..2100-12-31"]'),
                            (f"{SCHEDULE}.timezone", "Etc/UTC"), base=ALL)),
]

# -- the document itself ------------------------------------------------------------------------------
LAUGHS = ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
          "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
          "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n")
DOCUMENT = [
    Case("config-binary", VALIDATE, 2, config=b"\xff\xfe\x00\x01project: \x80\x81\n", mentions=("devops.yaml", "UTF-8")),
    Case("config-latin1", VALIDATE, 2, config=base_config_text().replace("project: testshop", "project: caf\xe9")
         .encode("latin-1"), mentions=("devops.yaml", "UTF-8")),
    Case("config-nul-byte", VALIDATE, 2, config=base_config_text() + "x: \x00\n", mentions=("devops.yaml",)),
    Case("config-billion-laughs", VALIDATE, 2, config=LAUGHS, mentions=("devops.yaml", "alias")),
    Case("config-billion-laughs-with-plan", ("plan",), 2, config=LAUGHS, mentions=("devops.yaml", "alias")),
    Case("config-billion-laughs-in-a-key", VALIDATE, 2,
         config=LAUGHS.replace("g: &g", "build:\n  build_args:\n    X: &g") + base_config_text().replace(
             "build:\n  parallelism: 2\n", ""), mentions=("devops.yaml", "alias")),
    Case("config-laughs-in-mappings", VALIDATE, 2, mentions=("devops.yaml", "alias"),
         config="l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n" + "".join(
             f"l{i}: &l{i} {{{', '.join(f'{k}: *l{i - 1}' for k in 'abcdefghij')}}}\n" for i in range(1, 7))),
    Case("config-recursive-alias", VALIDATE, 2, config="project: &p [*p]\n", mentions=("devops.yaml", "recursive")),
    Case("config-deep-flow", VALIDATE, 2, config="project: " + "[" * 20000 + "]" * 20000 + "\n",
         mentions=("devops.yaml", "nested")),
    Case("config-deep-block", VALIDATE, 2, mentions=("devops.yaml", "nested"),
         config="".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n"),
    Case("config-too-large", VALIDATE, 2, config=base_config_text() + "#" * (3 * 1024 * 1024) + "\n",
         mentions=("devops.yaml", "KiB")),
    Case("config-python-tag", VALIDATE, 2, config=base_config_text().replace(
        "project: testshop", "project: !!python/object/apply:os.system [touch /tmp/pwned]"), mentions=("devops.yaml",)),
    Case("config-unknown-tag", VALIDATE, 2, config=base_config_text().replace(
        "project: testshop", "project: !shell testshop"), mentions=("devops.yaml", "project")),
    Case("config-binary-tag", VALIDATE, 2, config=base_config_text().replace(
        "project: testshop", "project: !!binary dGVzdHNob3A="), mentions=("devops.yaml", "project")),
    Case("config-set-tag", VALIDATE, 2, config=base_config_text().replace(
        "  parallelism: 2\n", "  platforms: !!set {linux/amd64}\n"), mentions=("devops.yaml", "platforms")),
    Case("config-duplicate-key", VALIDATE, 2, config=base_config_text() + "project: other\n",
         mentions=("devops.yaml", "project")),
    Case("config-tab-indent", VALIDATE, 2, config=base_config_text().replace("  parallelism: 2", "\tparallelism: 2"),
         mentions=("devops.yaml",)),
    Case("config-scalar-document", VALIDATE, 2, config="just text\n", mentions=("devops.yaml", "mapping")),
    Case("config-only-comments", VALIDATE, 2, config="# nothing\n", mentions=("devops.yaml", "empty")),
    Case("config-complex-key", VALIDATE, 2, config=base_config_text() + "? [a, b]\n: c\n", mentions=("devops.yaml",)),
    Case("config-null-service", VALIDATE, 2, config=config_with(("services.alpha", "null")),
         mentions=("devops.yaml", "services.alpha")),
    Case("config-no-services", VALIDATE, 2, config=config_with(("services", "{}")), mentions=("services",)),
    Case("config-directory", ("--config", "{root}/pipelines", "config", "validate"), 2, mentions=("pipelines",)),
    Case("config-control-utf8-bom", VALIDATE, 0, config="\ufeff" + base_config_text()),
]

# -- environment variables that override the config -------------------------------------------------
ENVIRONMENT = [
    Case("config-env-registry-host-url", VALIDATE, 2, env={"DEVOPS_REGISTRY_HOST": "ftp://evil"},
         mentions=("registry.host",)),
    Case("config-env-registry-host-empty-keeps-file", VALIDATE, 0, env={"DEVOPS_REGISTRY_HOST": ""}),
    Case("config-env-namespace", VALIDATE, 2, env={"DEVOPS_REGISTRY_NAMESPACE": "Bad Name"},
         mentions=("registry.namespace",)),
    Case("config-env-devops-config-missing", VALIDATE, 2, env={"DEVOPS_CONFIG": "/nonexistent/devops.yaml"},
         mentions=("/nonexistent/devops.yaml",)),
    Case("config-env-build-args", ("plan",), 2, env={"DEVOPS_BUILD_ARGS": "=x"}, mentions=("DEVOPS_BUILD_ARGS",)),
    Case("config-env-build-args-key", ("plan",), 2, env={"DEVOPS_BUILD_ARGS": "1X=y"},
         mentions=("DEVOPS_BUILD_ARGS", "1X=y")),
]

CASES = [*CONTROLS, *NUMBERS, *FLAGS, *STRINGS, *TEMPLATES, *URLS, *DATES, *DOCUMENT, *ENVIRONMENT]
