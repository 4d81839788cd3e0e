"""Files named by options or config keys and read by devops: Trivy ignore files (a pull request can
commit one), the SLO rule file `observability rules --check` compares, the config file itself
through `--config`. Each refused with exit 2 naming the file, before Docker or Trivy are asked.
"""

from __future__ import annotations

from tests.security.badinput.harness import Case
from tests.security.badinput.project import config_with

SCAN = ("scan", "alpha")
LAUGHS = ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
          "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
          "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")


def ignore(case_id: str, name: str, content: str | bytes, *mentions: str, via_config: bool = False) -> Case:
    """An ignore file given with --ignore-file, or as gates.scan.ignore_file."""
    if via_config:
        return Case(f"files-ignore-{case_id}", SCAN, 2, files={name: content},
                    config=config_with(("gates.scan.ignore_file", name)), mentions=(name, *mentions))
    return Case(f"files-ignore-{case_id}", (*SCAN, "--ignore-file", name), 2, files={name: content},
                mentions=(name, *mentions))


IGNORE = [
    ignore("yaml-laughs", ".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-1\n" + LAUGHS, "alias"),
    ignore("yaml-laughs-config-key", ".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-1\n" + LAUGHS, "alias",
           via_config=True),
    ignore("yaml-deep", ".trivyignore.yaml", "vulnerabilities: " + "[" * 30_000 + "]" * 30_000 + "\n", "nested"),
    ignore("yaml-recursive", ".trivyignore.yaml", "vulnerabilities: &v [*v]\n", "recursive"),
    ignore("yaml-binary", ".trivyignore.yaml", b"vulnerabilities:\n  - id: \xff\xfe\n", "UTF-8"),
    ignore("plain-binary", ".trivyignore", b"CVE-2024-\xff\xfe0001\n", "UTF-8"),
    ignore("plain-latin1", ".trivyignore", "CVE-2024-0001 # caf\xe9\n".encode("latin-1"), "UTF-8"),
    ignore("too-large", ".trivyignore", "CVE-2024-0001\n" * 200_000, "KiB"),
    ignore("yaml-expired-9999", ".trivyignore.yaml",
           "vulnerabilities:\n  - id: CVE-1\n    expired_at: 9999-12-31\n", "2000..2100"),
    ignore("yaml-expired-year-1", ".trivyignore.yaml",
           'vulnerabilities:\n  - id: CVE-1\n    expired_at: "0001-01-01"\n', "2000..2100"),
    ignore("yaml-expired-not-a-day", ".trivyignore.yaml",
           "vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-02-30\n", "expired_at"),
    ignore("plain-exp-9999", ".trivyignore", "CVE-2024-0001 exp:9999-12-31\n", "2000..2100"),
    ignore("plain-extra-words", ".trivyignore", "CVE-2024-0001 because reasons\n", "because"),
    ignore("yaml-unknown-section", ".trivyignore.yaml", "cves:\n  - id: CVE-1\n", "cves"),
    ignore("yaml-python-tag", ".trivyignore.yaml", "vulnerabilities: !!python/object/apply:os.system [id]\n"),
    ignore("yaml-not-a-list", ".trivyignore.yaml", "vulnerabilities: CVE-1\n", "list"),
    Case("files-ignore-missing", (*SCAN, "--ignore-file", ".trivyignore-missing"), 2,
         mentions=(".trivyignore-missing", "not found")),
    Case("files-ignore-missing-config-key", SCAN, 2, config=config_with(("gates.scan.ignore_file", ".nope")),
         mentions=(".nope", "not found")),
    Case("files-ignore-is-a-folder", (*SCAN, "--ignore-file", "services"), 2, mentions=("services",)),
    # Control: a valid ignore file is read, and the scan goes on to look for the image (not built
    # here: exit 3 from Docker, past every check of the file).
    Case("files-control-ignore-file", (*SCAN, "--ignore-file", ".trivyignore.yaml"), 3, files={
        ".trivyignore.yaml": "vulnerabilities:\n  - id: CVE-2024-0001\n    expired_at: 2100-12-31\n"},
        mentions=("alpha",)),
]

RULES = [
    Case("files-rules-binary", ("observability", "rules", "--check", "--output", "rules.yaml"), 2,
         files={"rules.yaml": b"\xff\xfe\x00groups"}, mentions=("rules.yaml",)),
    Case("files-rules-check-missing-is-a-gate", ("observability", "rules", "--check", "--output", "nope.yaml"), 1,
         mentions=("nope.yaml",)),
]

CONFIG_FILES = [
    Case("files-config-binary-explicit", ("--config", "{root}/other.yaml", "config", "validate"), 2,
         files={"other.yaml": b"\x00\x01\x02\xff"}, mentions=("other.yaml",)),
    Case("files-config-laughs-explicit", ("--config", "{root}/other.yaml", "config", "validate"), 2,
         files={"other.yaml": LAUGHS + "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"}, mentions=("other.yaml", "alias")),
    Case("files-control-config-explicit", ("--config", "{root}/pipelines/devops.yaml", "config", "validate"), 0),
]

CASES = [*IGNORE, *RULES, *CONFIG_FILES]
