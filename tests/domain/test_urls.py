"""The URL rules (devops.domain.urls): https only except loopback, credentials split from git
URLs and hidden wherever a URL is shown, "the same server" as one comparison of origins."""

from __future__ import annotations

import pytest

from devops.domain.urls import (
    Origin,
    SplitUrl,
    git_url_problem,
    is_loopback_host,
    origin,
    parse,
    redact,
    service_url_problem,
    split_credentials,
)

SECRET = "s3cr3t-t0ken"

# -- origins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url,expected", [
    ("https://Sonar.Example.COM/api", Origin("https", "sonar.example.com", 443)),
    ("HTTPS://h.example.com", Origin("https", "h.example.com", 443)),
    ("http://127.0.0.1:5000/v2/", Origin("http", "127.0.0.1", 5000)),
    ("http://[::1]:9000", Origin("http", "::1", 9000)),
    ("https://user:pw@h.example.com:8443/x", Origin("https", "h.example.com", 8443)),
    ("ssh://git@h.example.com/r.git", Origin("ssh", "h.example.com", None)),
])
def test_an_origin_is_scheme_host_and_port_with_the_default_filled_in(url: str, expected: Origin) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize("a,b", [
    ("https://h.example.com/v2/", "https://H.EXAMPLE.com:443/token"),
    ("http://localhost/x", "http://localhost:80/y"),
    ("https://h.example.com", "https://u:p@h.example.com/z?q=1"),
])
def test_the_same_origin_ignores_case_default_ports_paths_and_credentials(a: str, b: str) -> None:
    assert origin(a) == origin(b)


@pytest.mark.parametrize("a,b", [
    ("https://h.example.com", "http://h.example.com"),        # scheme
    ("https://h.example.com", "https://h.example.com:8443"),  # port
    ("http://h.example.com", "http://h.example.com:443"),     # 443 is not http's default
    ("https://h.example.com", "https://h.example.com.evil.example"),
    ("https://h.example.com", "https://evil.example/h.example.com"),
    ("https://h.example.com", "https://h.example.com@evil.example"),  # the host is after the @
])
def test_control_another_scheme_port_or_host_is_another_origin(a: str, b: str) -> None:
    assert origin(a) != origin(b)


def test_port_zero_is_an_origin_of_its_own_not_the_default() -> None:
    # Callers refuse it (service_url_problem, checks.check_http_url); it must not pass as :443.
    assert origin("https://h.example.com:0/x") == Origin("https", "h.example.com", 0)
    assert origin("https://h.example.com:0") != origin("https://h.example.com")


@pytest.mark.parametrize("url,message", [
    ("http://[::1", "not a valid URL"),
    ("https://[not-ipv6]/", "not a valid URL"),
    ("https:///path", "no host"),
    ("h.example.com/path", "no host"),
    ("", "no host"),
    ("https://h.example.com:99999/", "the port is not a number from 0 to 65535"),
    ("https://h.example.com:https/", "the port is not a number from 0 to 65535"),
])
def test_a_url_without_an_origin_is_a_value_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        origin(url)


@pytest.mark.parametrize("where,shown", [
    (Origin("https", "h.example.com", 443), "https://h.example.com"),
    (Origin("http", "h.example.com", 80), "http://h.example.com"),
    (Origin("https", "h.example.com", 8443), "https://h.example.com:8443"),
    (Origin("http", "h.example.com", 443), "http://h.example.com:443"),
    (Origin("http", "::1", 5000), "http://[::1]:5000"),
    (Origin("ssh", "h.example.com", None), "ssh://h.example.com"),
])
def test_an_origin_is_shown_as_a_url_prefix(where: Origin, shown: str) -> None:
    assert str(where) == shown
    assert origin(shown) == (where if where.port is not None else where._replace(port=None))


def test_parse_is_none_for_what_urlsplit_cannot_split() -> None:
    assert parse("http://[::1") is None
    assert parse("https://h.example.com/x") is not None  # control


# -- loopback -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.4.5.6", "127.255.255.254", "::1",
                                  "[::1]", "0:0:0:0:0:0:0:1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "::ffff:127.0.0.1x", "localhost.example.com",
                                  "127.0.0.1.nip.io", "localhost.", "evil-localhost", ""])
def test_control_hosts_that_leave_the_machine_or_only_look_local(host: str) -> None:
    assert not is_loopback_host(host)


# -- URLs that receive a credential -----------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://sonarcloud.io", "https://sonar.example.com:8443/sonar", "https://h.example.com/",
                                 "http://127.0.0.1:9000", "http://localhost:8080/api/v3", "http://[::1]:3000",
                                 "HTTP://LOCALHOST/x", "https://[2001:db8::1]/"])
def test_control_https_anywhere_and_http_only_on_loopback_receive_credentials(url: str) -> None:
    assert service_url_problem(url) is None


@pytest.mark.parametrize("url", ["http://sonar.example.com", "http://10.0.0.5:9000/", "http://0.0.0.0:9000",
                                 "http://localhost.example.com/", "http://127.0.0.1.nip.io/"])
def test_plain_http_to_another_host_is_refused(url: str) -> None:
    problem = service_url_problem(url, what="host_url")
    assert problem is not None
    assert problem.startswith(f"host_url {url!r} is plain http: the token would travel unencrypted; use https")


@pytest.mark.parametrize("url", ["ftp://h.example.com/", "file:///etc/passwd", "ws://127.0.0.1/", "h.example.com",
                                 "//h.example.com/x", "javascript:alert(1)"])
def test_other_schemes_are_refused(url: str) -> None:
    assert service_url_problem(url, what="api_url") == f"api_url {url!r} must start with https://"


@pytest.mark.parametrize("url", ["", " https://h.example.com", "https://h.example.com ", "https://h.example.com\n",
                                 "https://h.example.com/a b", "https://h.example.com/\t", "https://h\x00.example.com",
                                 "https://h.example.com/\x7f"])
def test_empty_spaces_and_control_characters_are_refused(url: str) -> None:
    problem = service_url_problem(url)
    assert problem == f"URL {url!r} is empty or contains spaces or control characters"


@pytest.mark.parametrize("value", [None, 443, b"https://h.example.com", ["https://h.example.com"]])
def test_a_url_that_is_not_a_string_is_refused(value: object) -> None:
    assert service_url_problem(value, what="serverUrl") == "expected an serverUrl string"


@pytest.mark.parametrize("url,message", [
    ("https://[::1", "is not a valid URL"),
    ("https:///api", ": no host"),
    ("https://h.example.com:99999", ": the port is not a number from 0 to 65535"),
    ("https://h.example.com?x=1", "must not have a query or fragment"),
    ("https://h.example.com/api#frag", "must not have a query or fragment"),
    ("https://h.example.com/api?", "must not have a query or fragment"),
    ("https://h.example.com/api#", "must not have a query or fragment"),
])
def test_urls_without_a_usable_origin_or_with_extras_are_refused_naming_them(url: str, message: str) -> None:
    problem = service_url_problem(url)
    assert problem is not None and problem.startswith(f"URL {url!r}") and message in problem


def test_port_zero_cannot_receive_a_credential() -> None:
    # Nothing listens on port 0: a config that names it is a typo, refused as bad input (exit 2)
    # instead of failing to connect later (exit 3). Ports 1 and 65535 are the control.
    for what, url in (("host_url", "https://sonar.example.com:0"), ("api_url", "http://127.0.0.1:0/api")):
        assert service_url_problem(url, what=what) == f"{what} {url!r}: expected a port from 1 to 65535"
    assert service_url_problem("https://sonar.example.com:1") is None
    assert service_url_problem("https://sonar.example.com:65535") is None


@pytest.mark.parametrize("url", [f"https://ci:{SECRET}@h.example.com/", f"https://{SECRET}@h.example.com/",
                                 f"http://ci:{SECRET}@127.0.0.1:9000"])
def test_a_user_or_password_in_a_service_url_is_refused_without_repeating_it(url: str) -> None:
    problem = service_url_problem(url, what="host_url")
    assert problem == ("host_url must not contain a user or password; give the token through its environment "
                       "variable")


def test_every_refusal_of_a_url_with_credentials_hides_them() -> None:
    for url in (f"http://ci:{SECRET}@sonar.example.com/ x", f"ftp://ci:{SECRET}@h.example.com/",
                f"https://ci:{SECRET}@h.example.com:99999/", f"https://ci:{SECRET}@h.example.com/?q"):
        problem = service_url_problem(url)
        assert problem is not None and SECRET not in problem and "ci:" not in problem, problem


# -- credentials inside git URLs --------------------------------------------------------------------


@pytest.mark.parametrize("url,expected", [
    (f"https://ci:{SECRET}@git.example.com/shop/gitops.git",
     SplitUrl("https://git.example.com/shop/gitops.git", "ci", SECRET)),
    (f"https://{SECRET}@git.example.com/g.git", SplitUrl("https://git.example.com/g.git", SECRET, None)),
    ("https://ci:@git.example.com/g.git", SplitUrl("https://git.example.com/g.git", "ci", "")),
    ("https://x-access-token:p%40ss%3Aw%2Fd@github.com:443/o/r",
     SplitUrl("https://github.com:443/o/r", "x-access-token", "p@ss:w/d")),
    ("http://a%20b:c@127.0.0.1:8000/r.git?x=1#f", SplitUrl("http://127.0.0.1:8000/r.git?x=1#f", "a b", "c")),
    ("HTTPS://ci:tok@Git.Example.com/r", SplitUrl("https://Git.Example.com/r", "ci", "tok")),
])
def test_http_urls_are_split_from_their_decoded_credentials(url: str, expected: SplitUrl) -> None:
    split = split_credentials(url)
    assert split == expected and split.has_credentials


def test_the_host_is_what_follows_the_last_at_sign() -> None:
    split = split_credentials("https://user@corp:tok@git.example.com/r.git")
    assert split == SplitUrl("https://git.example.com/r.git", "user@corp", "tok")
    assert origin(split.url).host == "git.example.com"


@pytest.mark.parametrize("url", ["https://git.example.com/r.git", "ssh://git@git.example.com/r.git",
                                 "git@github.com:shop/gitops.git", "/srv/git/gitops.git", "file:///srv/git/r.git",
                                 "git://git.example.com/r.git", "."])
def test_control_urls_without_http_credentials_are_unchanged(url: str) -> None:
    # The user of an ssh URL is an account name, not a secret: it stays in the URL.
    split = split_credentials(url)
    assert split == SplitUrl(url, None, None) and not split.has_credentials


@pytest.mark.parametrize("url,shown", [
    (f"https://ci:{SECRET}@git.example.com/r.git", "https://***@git.example.com/r.git"),
    (f"https://{SECRET}@git.example.com:8443/r?x#y", "https://***@git.example.com:8443/r?x#y"),
    (f"ssh://git:{SECRET}@git.example.com/r", "ssh://***@git.example.com/r"),
    (f"https://ci:{SECRET}@[::1/r", "https://***@[::1/r"),           # unsplittable: hidden by pattern
    (f"https://a@b:{SECRET}@h.example.com/", "https://***@h.example.com/"),
])
def test_redact_hides_credentials_wherever_a_url_is_shown(url: str, shown: str) -> None:
    assert redact(url) == shown and SECRET not in redact(url)


@pytest.mark.parametrize("url", ["https://git.example.com/r.git", "ssh://git@git.example.com/r.git",
                                 "git@github.com:shop/r.git", "/srv/r.git", "https://[::1", "not a url"])
def test_control_redact_leaves_urls_without_secrets_alone(url: str) -> None:
    assert redact(url) == url


# -- GitOps repository URLs -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"https://ci:{SECRET}@git.example.com/r.git", f"http://ci:{SECRET}@127.0.0.1:8000/r",
                                 f"http://{SECRET}@localhost/r", "https://git.example.com/r.git",
                                 "http://git.example.com/r.git", "ssh://git@git.example.com/r.git",
                                 "git+ssh://git@h.example.com/r", "git@github.com:shop/r.git", "/srv/git/r.git",
                                 "file:///srv/r.git", "https://[::1"])
def test_control_git_urls_that_may_be_used(url: str) -> None:
    # Without credentials the scheme is git's business (http to a public mirror is allowed).
    assert git_url_problem(url) is None


def test_credentials_over_plain_http_to_another_host_are_refused_and_hidden() -> None:
    problem = git_url_problem(f"http://ci:{SECRET}@git.example.com/r.git")
    assert problem == ("http://***@git.example.com/r.git carries credentials over plain http: they would travel "
                       "unencrypted; use https (http is accepted only for 127.0.0.1, ::1 or localhost)")


@pytest.mark.parametrize("url,message", [
    (f"ssh://git:{SECRET}@h.example.com/r", "a password in a ssh:// URL is not supported; use https, or an SSH key"),
    (f"git://ci:{SECRET}@h.example.com/r", "a password in a git:// URL is not supported"),
    (f"ftp://ci:{SECRET}@h.example.com/r", "a password in a ftp:// URL is not supported"),
    (f"https://ci:{SECRET}@[::1/r", ": not a valid URL"),
    (f"https://ci:{SECRET}@h.example.com:99999/r", ": the port is not a number from 0 to 65535"),
    (f"https://ci:{SECRET}@/r", ": no host"),
    (f"https://ci:{SECRET}@h.example.com/r\n", ": contains control characters"),
    (f"https://ci:{SECRET}@h.example.com/r\x7f", ": contains control characters"),
])
def test_git_urls_whose_credentials_would_leak_or_mean_nothing_are_refused(url: str, message: str) -> None:
    problem = git_url_problem(url)
    assert problem is not None and message in problem
    assert SECRET not in problem and "***@" in problem
