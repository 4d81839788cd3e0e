"""What the GitOps repository holds: release records and values files, as anyone with push access
to it could write them. Read by `status`, written by `gitops set-image`, and read as a
promotion's source by `release --env prod`: each refused with exit 2 naming the file, before any
registry or network call, and nothing pushed.
"""

from __future__ import annotations

from tests.security.badinput.harness import Case, CaseContext
from tests.security.badinput.project import DIGEST, RELEASE_RECORD, record_text, remote_setup, service_entry
from tests.support.cli import Outcome
from tests.support.project import git

DEV = "gitops/environments/dev"
RECORD = f"{DEV}/release.json"
VALUES = f"{DEV}/values/alpha.yaml"
STATUS = ("status", "--env", "dev")
PROMOTE = ("release", "--env", "prod", "--dry-run")
SET_IMAGE = ("gitops", "set-image", "--env", "dev", f"alpha=127.0.0.1:5000/test/alpha:v2@{DIGEST}")


def _head(ctx: CaseContext) -> str:
    return git(ctx.root.parent / "origin.git", "rev-parse", "main").strip()


def remote_with(files: dict[str, str | bytes]) -> object:
    base = remote_setup(files=files)

    def setup(ctx: CaseContext) -> None:
        base(ctx)  # type: ignore[operator]
        (ctx.root.parent / "origin-head").write_text(_head(ctx))

    return setup


def nothing_pushed(ctx: CaseContext, _outcome: Outcome) -> None:
    assert _head(ctx) == (ctx.root.parent / "origin-head").read_text(), "the GitOps remote changed"


def record_case(case_id: str, text: str | bytes, *mentions: str, argv: tuple[str, ...] = STATUS,
                expect: int = 2) -> Case:
    return Case(f"record-{case_id}", argv, expect, setup=remote_with({RECORD: text}),  # type: ignore[arg-type]
                check=nothing_pushed if expect else None, mentions=("release.json", *mentions) if expect else ())


def with_alpha(**changes: object) -> str:
    return record_text(services={"alpha": service_entry(**changes)})


def deep(levels: int) -> str:
    return record_text(services={"alpha": service_entry()}).replace(
        '"sonar"', '"extra": ' + "[" * levels + "]" * levels + ', "sonar"', 1)


RECORDS = [
    record_case("control-valid", with_alpha(), expect=0),
    record_case("control-unknown-keys-kept", record_text(services={"alpha": service_entry(note="hand edit")},
                                                         x_team="shop"), expect=0),
    record_case("deep-nesting", deep(100_000), "nested"),
    record_case("deep-nesting-17", deep(17), "nested"),
    record_case("deep-nesting-promote", deep(100_000), "nested", argv=PROMOTE),
    record_case("nan", with_alpha(scan={"verdict": "PASSED", "counts": {"HIGH": 1}}).replace(
        '"HIGH": 1', '"HIGH": NaN'), "NaN"),
    record_case("infinity-schema", RELEASE_RECORD.replace('"schema": 1', '"schema": Infinity'), "Infinity"),
    record_case("negative-infinity", with_alpha().replace('"counts": {}', '"counts": {"LOW": -Infinity}')),
    record_case("float-overflow", with_alpha().replace('"counts": {}', '"counts": {"LOW": 1e400}'), "finite"),
    record_case("huge-int", with_alpha().replace('"counts": {}', '"counts": {"LOW": ' + "9" * 5000 + "}")),
    record_case("schema-bool", RELEASE_RECORD.replace('"schema": 1', '"schema": true'), "schema"),
    record_case("schema-2", RELEASE_RECORD.replace('"schema": 1', '"schema": 2'), "schema"),
    record_case("counts-bool", with_alpha(scan={"verdict": "PASSED", "counts": {"HIGH": True}}), "counts"),
    record_case("counts-negative", with_alpha(scan={"verdict": "PASSED", "counts": {"HIGH": -1}}), "counts"),
    record_case("counts-fraction", with_alpha(scan={"verdict": "PASSED", "counts": {"HIGH": 1.5}}), "counts"),
    record_case("released-at-year-1", record_text(released_at="0001-01-01T00:00:00Z"), "released_at", "2000..2100"),
    record_case("released-at-year-9999", record_text(released_at="9999-12-31T23:59:59Z"), "released_at"),
    record_case("checked-at-year-1", with_alpha(scan={"verdict": "PASSED", "checked_at": "0001-01-01T00:00:00Z"}),
                "checked_at"),
    record_case("built-at-garbage", with_alpha(built_at="yesterday"), "built_at"),
    record_case("digest-bad", with_alpha(digest="sha256:xyz"), "digest"),
    record_case("digest-bad-promote", with_alpha(digest="sha256:" + "A" * 64), "digest", argv=PROMOTE),
    record_case("source-commit-trailer", with_alpha(source_commit="abc1234\nSigned-off-by: evil"), "source_commit"),
    record_case("top-source-commit-not-hex", record_text(source_commit="release-1"), "source_commit"),
    record_case("service-name-path", record_text(services={"../../x": service_entry()}), "../../x"),
    record_case("service-name-upper", record_text(services={"Alpha": service_entry()}), "Alpha"),
    record_case("repository-newline", with_alpha(repository="127.0.0.1:5000/test/alpha\nx"), "repository"),
    record_case("repository-empty", with_alpha(repository=""), "repository"),
    record_case("actor-newline", record_text(released_by={"actor": "a\nb", "via": "cli"}), "actor"),
    record_case("verdict-unknown", with_alpha(scan={"verdict": "MAYBE"}), "verdict"),
    record_case("top-level-list", "[]\n", "object"),
    record_case("not-json", "{schema: 1}\n", "JSON"),
    record_case("empty", "", "JSON"),
    record_case("binary", b"\xff\xfe{\x00\x80}", "UTF-8"),
    record_case("bom", "\ufeff" + RELEASE_RECORD, "JSON"),
    record_case("too-large", RELEASE_RECORD.replace('"services": {}', '"pad": "' + "x" * (3 * 1024 * 1024) + '",'
                                                    ' "services": {}'), "KiB"),
    record_case("environment-mismatch", RELEASE_RECORD.replace('"environment": "dev"', '"environment": "prod"'),
                "environment"),
    record_case("services-list", record_text(services=[]), "services"),
    record_case("nan-promote", with_alpha().replace('"counts": {}', '"counts": {"HIGH": NaN}'), argv=PROMOTE),
]

# -- values files -------------------------------------------------------------------------------
VALUES_BASE = "image:\n  repository: 127.0.0.1:5000/test/alpha\n  tag: ''\n  digest: ''\n"
LAUGHS = ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
          "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
          "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n")


def values_case(case_id: str, text: str | bytes, *mentions: str, argv: tuple[str, ...] = STATUS,
                expect: int = 2) -> Case:
    return Case(f"values-{case_id}", argv, expect, setup=remote_with({VALUES: text}),  # type: ignore[arg-type]
                check=nothing_pushed if expect else pushed, mentions=("alpha.yaml", *mentions) if expect else ())


def pushed(ctx: CaseContext, _outcome: Outcome) -> None:
    """The control wrote the digest, and kept every other byte the person wrote."""
    text = git(ctx.root.parent / "origin.git", "show", f"main:{VALUES}")
    assert DIGEST in text and text.startswith("# mine\nresources: &r {cpu: 1}\nother: *r\n"), text


VALUES_CASES = [
    values_case("control-comments-and-anchors", "# mine\nresources: &r {cpu: 1}\nother: *r\n" + VALUES_BASE,
                argv=SET_IMAGE, expect=0),
    values_case("billion-laughs-status", VALUES_BASE + LAUGHS, "alias"),
    values_case("billion-laughs-set-image", VALUES_BASE + LAUGHS, "alias", argv=SET_IMAGE),
    values_case("recursive-alias", VALUES_BASE + "loop: &l [*l]\n", "recursive"),
    values_case("deep-flow", VALUES_BASE + "deep: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested"),
    values_case("deep-flow-set-image", VALUES_BASE + "deep: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "nested",
                argv=SET_IMAGE),
    values_case("binary", b"image:\n  repository: \xff\xfe\n", "UTF-8"),
    values_case("too-large", VALUES_BASE + "# " + "x" * (3 * 1024 * 1024) + "\n", "KiB"),
    values_case("digest-bool", VALUES_BASE.replace("digest: ''", "digest: true"), "image.digest"),
    values_case("repository-number", VALUES_BASE.replace("repository: 127.0.0.1:5000/test/alpha", "repository: 5"),
                "image.repository"),
    values_case("image-list", "image: [a, b]\n", "image", argv=SET_IMAGE),
    values_case("not-yaml", "image: [unclosed\n", "YAML"),
    values_case("duplicate-key", VALUES_BASE + "image: {}\n", "image"),
    values_case("python-tag", VALUES_BASE + "x: !!python/object/apply:os.system [id]\n", argv=SET_IMAGE),
    values_case("block-scalar-tag", VALUES_BASE.replace("tag: ''", "tag: |\n    v1"), "block scalar", argv=SET_IMAGE),
    values_case("shared-anchor", "shared: &d ''\nimage:\n  repository: r\n  tag: ''\n  digest: *d\n", "anchor",
                argv=SET_IMAGE),
    values_case("no-image-block", "replicaCount: 1\n", "image", argv=SET_IMAGE),
    values_case("image-not-mapping", "image: web\n", "image", argv=SET_IMAGE),
    values_case("impossible-date", VALUES_BASE + "when: 2026-02-30\n"),
]

CASES = [*RECORDS, *VALUES_CASES]
