"""The checks behind every value type (devops.domain.checks): each refusal says what was given
and what is expected, and the form next to it passes (the control)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from devops.domain import checks

# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,shown", [(True, "true"), (False, "false")])
def test_a_boolean_is_not_a_number(value: bool, shown: str) -> None:
    # `port: true` would otherwise be 1: the message names what YAML gave.
    with pytest.raises(ValueError, match=f"expected a number, got {shown}$"):
        checks.number_not_bool(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_value(value: float) -> None:
    with pytest.raises(ValueError, match=f"expected a finite number, got {value}"):
        checks.number_not_bool(value)
    with pytest.raises(ValueError, match=f"expected a finite number, got {value}"):
        checks.check_finite(value)


@pytest.mark.parametrize("value", [0, 1, -1, 2**70, 0.0, 1.5, -1e308, "8080", None])
def test_control_numbers_and_what_pydantic_judges_next_pass_unchanged(value: object) -> None:
    # Strings and None are left to the type that follows (it refuses or converts them).
    assert checks.number_not_bool(value) is value
    if isinstance(value, float):
        assert checks.check_finite(value) == value


def test_finite_tree_names_the_path_of_the_non_finite_number() -> None:
    with pytest.raises(ValueError, match=r"^node_groups\.ng\[1\]\.max: expected a finite number, got inf$"):
        checks.finite_tree({"node_groups": {"ng": [{"max": 1.0}, {"max": math.inf}]}})
    with pytest.raises(ValueError, match=r"^\[0\]\[1\]: expected a finite number, got nan$"):
        checks.finite_tree(([1, math.nan],))
    with pytest.raises(ValueError, match=r"^value: expected a finite number, got -inf$"):
        checks.finite_tree(-math.inf)
    with pytest.raises(ValueError, match=r"^cidr: expected a finite number"):
        checks.finite_tree(math.nan, "cidr")


def test_control_finite_tree_returns_finite_trees_unchanged() -> None:
    tree = {"a": [1, 2.5, {"b": (3, "x", None, True)}], "c": {}, "d": []}
    assert checks.finite_tree(tree) is tree
    assert checks.finite_tree("inf") == "inf"  # a string is a string, not a number


# -- text, names and ids --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\nb", "abc\n", "\rx", "tab\there", "nul\x00", "del\x7f", "\x1b[31mred"])
def test_one_line_refuses_newlines_and_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="must be one line without control characters") as refused:
        checks.check_line(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["", "plain text", "Ünïcödé — fine", "a=b; c"])
def test_control_one_line_text_passes(value: str) -> None:
    assert checks.check_line(value) == value


@pytest.mark.parametrize("value", ["Cart", "1cart", "-cart", "cart_x", "", "cart\n", "a" * 64, "car t"])
def test_names_are_lower_case_and_at_most_63_characters(value: str) -> None:
    with pytest.raises(ValueError, match="expected a lower-case name like 'cart'") as refused:
        checks.check_name(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["cart", "a", "product-catalog", "a" * 63, "v2-"])
def test_control_names(value: str) -> None:
    assert checks.check_name(value) == value


def test_an_empty_id_is_refused_naming_what_it_is() -> None:
    with pytest.raises(ValueError, match="^expected a non-empty lock id$"):
        checks.check_ident("", "lock id")
    with pytest.raises(ValueError, match="^expected a non-empty id$"):
        checks.check_ident("")


@pytest.mark.parametrize("value", ["-rf", "--force", ".hidden", "a b", "a\nb", "a" * 201, "x;y", "é"])
def test_ids_cannot_pass_for_options_or_hold_spaces(value: str) -> None:
    with pytest.raises(ValueError, match="expected a cluster name of letters, digits") as refused:
        checks.check_ident(value, "cluster name")
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["shop-dev", "a", "a" * 200, "arn:aws:eks:eu-west-1:1:cluster/x",
                                   "6d1b0e8a-4f3c-4d1e-9a7b-0c2f4e8d9a11", "user@example.com", "a+b=c"])
def test_control_ids(value: str) -> None:
    assert checks.check_ident(value) == value


@pytest.mark.parametrize("value", ["abc123", "a" * 65, "abc1234\n", "abc1234\nSigned-off-by: x", "g" * 40,
                                   " abc1234", "HEAD", ""])
def test_commit_ids_are_7_to_64_hex_digits(value: str) -> None:
    with pytest.raises(ValueError, match="expected a commit id of 7 to 64 hex digits") as refused:
        checks.check_commit(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value,expected", [("abc1234", "abc1234"), ("ABCDEF0", "abcdef0"),
                                            ("0" * 40, "0" * 40), ("f" * 64, "f" * 64)])
def test_control_commit_ids_are_lowered(value: str, expected: str) -> None:
    assert checks.check_commit(value) == expected


@pytest.mark.parametrize("value", ["NODE_IMAGE", "NODE_IMAGE:x", "=x", "1KEY=x", "KEY-1=x", " KEY=x"])
def test_a_build_arg_is_key_equals_value(value: str) -> None:
    with pytest.raises(ValueError, match="expected KEY=VALUE with KEY like NODE_IMAGE") as refused:
        checks.check_build_arg(value)
    assert repr(value) in str(refused.value)


def test_a_build_arg_value_is_one_line() -> None:
    with pytest.raises(ValueError, match="must be one line"):
        checks.check_build_arg("NODE_IMAGE=node:22\nRUN curl evil")


@pytest.mark.parametrize("value,expected", [("NODE_IMAGE=node:22", ("NODE_IMAGE", "node:22")),
                                            ("_x=", ("_x", "")), ("K=a=b", ("K", "a=b"))])
def test_control_build_args_split_at_the_first_equals(value: str, expected: tuple[str, str]) -> None:
    assert checks.check_build_arg(value) == expected


@pytest.mark.parametrize("value", ["", "1TOKEN", "SONAR-TOKEN", "SONAR TOKEN", "TOKEN\n", "$TOKEN"])
def test_environment_variable_names(value: str) -> None:
    with pytest.raises(ValueError, match="expected an environment variable name like SONAR_TOKEN") as refused:
        checks.check_env_var(value)
    assert repr(value) in str(refused.value)
    assert checks.check_env_var("SONAR_TOKEN") == "SONAR_TOKEN"  # control
    assert checks.check_env_var("_x9") == "_x9"


# -- http(s) URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["https://sonar.example.com/ x", "https://sonar.example.com\n",
                                   "https://a\x00b", "https://h/\x7f"])
def test_a_url_has_no_spaces_or_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="expected a URL without spaces or control characters") as refused:
        checks.check_http_url(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["https://h:99999/", "https://h:port/", "https://h:-1/", "http://[::1"])
def test_a_url_that_cannot_be_split_or_has_no_numeric_port_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected a URL like https://host\[:port\]/path") as refused:
        checks.check_http_url(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value,shown", [("ftp://h/x", "ftp://"), ("file:///etc/passwd", "file://"),
                                         ("gopher://h:70/", "gopher://"), ("sonar.example.com/x", "no scheme"),
                                         ("//h/x", "no scheme")])
def test_only_http_and_https_schemes(value: str, shown: str) -> None:
    with pytest.raises(ValueError, match=f"unsupported URL scheme \\({shown}\\)") as refused:
        checks.check_http_url(value)
    assert repr(value) in str(refused.value) and "expected http:// or https://" in str(refused.value)


@pytest.mark.parametrize("value", ["https:///path", "http://:8080/x", "https://"])
def test_a_url_needs_a_host(value: str) -> None:
    with pytest.raises(ValueError, match="expected a URL with a host") as refused:
        checks.check_http_url(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["https://admin:s3cret@h.example.com/x", "https://s3cret@h.example.com/x",
                                   "https://admin:@h.example.com/x", "https://:s3cret@h.example.com/x"])
def test_credentials_in_a_url_are_refused_and_not_repeated(value: str) -> None:
    with pytest.raises(ValueError, match="credentials in the URL are not allowed") as refused:
        checks.check_http_url(value)
    message = str(refused.value)
    assert "s3cret" not in message and "admin" not in message
    assert message.startswith("https://***@h.example.com/x:")


def test_port_zero_is_refused_and_the_edges_of_the_port_range_pass() -> None:
    with pytest.raises(ValueError, match=r"expected a port in 1\.\.65535, got 'https://h:0/'"):
        checks.check_http_url("https://h:0/")
    assert checks.check_http_url("https://h:1/") == "https://h:1/"
    assert checks.check_http_url("https://h:65535/") == "https://h:65535/"


@pytest.mark.parametrize("value", ["https://sonarcloud.io", "http://127.0.0.1:9000/api", "HTTPS://Example.COM/",
                                   "https://[::1]:8443/x?y=1#z", "http://prometheus.internal:9090"])
def test_control_http_urls(value: str) -> None:
    # Plain http to any host is fine here: the stricter rule for URLs that receive a credential
    # is devops.domain.urls.service_url_problem.
    assert checks.check_http_url(value) == value


# -- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,message", [
    ("", "expected a path, got an empty string"),
    ("   ", "expected a path, got an empty string"),
    ("a\nb", "contains control characters"),
    ("a\\b", "use / as the separator"),
    ("~/x", "must be relative to the project root"),
    ("~root", "must be relative to the project root"),
    ("C:/Windows", "must be relative to the project root"),
    ("c:x", "must be relative to the project root"),
    ("..", "must not contain '..'"),
    ("a/../../etc", "must not contain '..'"),
    ("/srv/../etc", "must not contain '..'"),
])
def test_project_paths_stay_inside_the_project(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        checks.check_project_path(value)
    if value.strip():
        assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["services/cart", "./Dockerfile", "a..b/c", "...", "/abs/olute", "a/b/"])
def test_control_project_paths(value: str) -> None:
    # An absolute path passes here; devops.config.paths checks where it resolves.
    assert checks.check_project_path(value) == value


def test_a_relative_path_is_not_absolute() -> None:
    with pytest.raises(ValueError, match="path '/etc' must be relative, not absolute"):
        checks.check_relative_path("/etc")
    with pytest.raises(ValueError, match="must not contain '..'"):
        checks.check_relative_path("a/..")
    assert checks.check_relative_path("a/b") == "a/b"  # control


@pytest.mark.parametrize("value,message", [
    ("-rf", "must not start with '-'"),
    ("-x/values.yaml", "must not start with '-'"),
    (":(glob)*", "use letters, digits and ._@+-/ only"),
    ("a b.yaml", "use letters, digits and ._@+-/ only"),
    ("values/*.yaml", "use letters, digits and ._@+-/ only"),
    (".git/config", "must not point into .git"),
    ("apps/.GIT/hooks/post-checkout", "must not point into .git"),
    ("/etc/passwd", "must be relative, not absolute"),
    ("apps/../../x", "must not contain '..'"),
])
def test_repo_paths_are_plain_relative_and_never_into_dot_git(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        checks.check_repo_path(value)
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", ["apps/dev/cart/values.yaml", ".gitignore", "a.git/x", "x/.github/y", "v1.2+b@c"])
def test_control_repo_paths(value: str) -> None:
    assert checks.check_repo_path(value) == value


@pytest.mark.parametrize("value,message", [("", "expected a program name or path"), ("  ", "expected a program"),
                                           ("-trivy", "must not start with '-'"), ("trivy\n--x", "one line")])
def test_a_program_is_one_line_and_not_an_option(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        checks.check_program(value)


@pytest.mark.parametrize("value", ["trivy", "/usr/local/bin/terraform", "./bin/trivy 0.76"])
def test_control_programs(value: str) -> None:
    assert checks.check_program(value) == value


# -- templates ------------------------------------------------------------------------------------

ALLOWED = ("service", "env")


@pytest.mark.parametrize("value,shown", [
    ("{service}{0}", "{0}"),
    ("{}", "{}"),
    ("{service.__class__}", "{service.__class__}"),
    ("{service[0]}", "{service[0]}"),
    ("{service!r}", "{service!r}"),
    ("{service:>10}", "{service:>10}"),
    ("{service!s:x}", "{service!s:x}"),
    ("apps/{region}/{service}", "{region}"),
])
def test_a_template_uses_only_plain_allowed_placeholders(value: str, shown: str) -> None:
    with pytest.raises(ValueError) as refused:
        checks.check_template(value, ALLOWED)
    assert str(refused.value) == f"unknown placeholder {shown} in {value!r}; allowed: {{env}}, {{service}}"


@pytest.mark.parametrize("value", ["apps/{service", "apps/}", "{service}}", "{"])
def test_a_template_str_format_cannot_parse_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not a valid template .*; allowed placeholders: {env}, {service}") as refused:
        checks.check_template(value, ALLOWED)
    assert repr(value) in str(refused.value)


def test_a_template_must_use_every_required_placeholder() -> None:
    with pytest.raises(ValueError, match=r"^'apps/\{env\}/values.yaml' must contain \{service\}$"):
        checks.check_template("apps/{env}/values.yaml", ALLOWED, required=("service",))
    with pytest.raises(ValueError, match=r"must contain \{service\}"):
        checks.check_template("apps/{{service}}", ALLOWED, required=("service",))  # escaped braces are text


@pytest.mark.parametrize("value", ["apps/{env}/{service}/values.yaml", "{service}-{service}", "{{literal}}/{service}",
                                   "{service}"])
def test_control_templates_render_with_str_format(value: str) -> None:
    assert checks.check_template(value, ALLOWED, required=("service",)) == value
    value.format(service="cart", env="dev")  # what the callers do with it: no KeyError, no attribute access


def test_a_template_without_placeholders_passes_when_none_is_required() -> None:
    assert checks.check_template("values.yaml", ALLOWED) == "values.yaml"


# -- dates and times ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [date(1999, 12, 31), date(2101, 1, 1), date(1, 1, 1), date(9999, 12, 31)])
def test_dates_outside_2000_to_2100_are_refused(value: date) -> None:
    with pytest.raises(ValueError, match=f"^expiry {value.isoformat()} is outside 2000..2100$"):
        checks.check_year(value, "expiry")


@pytest.mark.parametrize("value", [date(2000, 1, 1), date(2100, 12, 31), datetime(2026, 6, 1, 12, 0)])
def test_control_dates_at_the_edges_pass(value: date) -> None:
    assert checks.check_year(value) is value


@pytest.mark.parametrize("value,expected", [
    ("2026-11-25T18:40:00Z", datetime(2026, 11, 25, 18, 40, tzinfo=UTC)),
    ("2026-11-25T18:40:00+00:00", datetime(2026, 11, 25, 18, 40, tzinfo=UTC)),
    ("2026-11-25T20:40:00+02:00", datetime(2026, 11, 25, 18, 40, tzinfo=UTC)),
    ("2026-11-25T13:40:00-05:00", datetime(2026, 11, 25, 18, 40, tzinfo=UTC)),
    ("2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),
])
def test_timestamps_with_z_or_an_offset_are_the_same_instant(value: str, expected: datetime) -> None:
    parsed = checks.parse_timestamp(value)
    assert parsed == expected and parsed.utcoffset() is not None


def test_the_offset_of_a_timestamp_is_kept_and_a_naive_one_stays_naive() -> None:
    assert checks.parse_timestamp("2026-11-25T20:40:00+02:00").utcoffset() == timedelta(hours=2)
    assert checks.parse_timestamp("2026-11-25T18:40:00").tzinfo is None
    assert checks.parse_timestamp("2026-11-25") == datetime(2026, 11, 25)


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01T00:00:00Z", "2026-02-30", "18:40", "2026-11-25T25:00Z",
                                   "Z", "2026-11-25T18:40:00+25:00"])
def test_a_timestamp_that_is_not_iso_8601_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ValueError, match="^expected an ISO 8601 pause time like 2026-11-25T18:40:00Z") as refused:
        checks.parse_timestamp(value, "pause time")
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize("value", [None, 1764096000, b"2026-11-25"])
def test_a_timestamp_that_is_not_text_is_a_value_error_not_a_crash(value: object) -> None:
    with pytest.raises(ValueError, match="expected an ISO 8601 time"):
        checks.parse_timestamp(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "0001-01-01T00:00:00"])
def test_a_timestamp_outside_2000_to_2100_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^until .* is outside 2000\.\.2100$"):
        checks.parse_timestamp(value, "until")


def test_a_timestamp_near_the_edge_in_another_zone_is_judged_by_its_own_year() -> None:
    # 2100-12-31T23:00-05:00 is 2101-01-01 in UTC; the year written is what is checked.
    assert checks.parse_timestamp("2100-12-31T23:00:00-05:00").year == 2100
