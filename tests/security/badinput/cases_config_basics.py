"""The base project is valid (the control), and the config file itself can be malformed."""

from __future__ import annotations

from tests.security.badinput.harness import Case

CASES = [
    Case("control-config-validate", ("config", "validate"), 0),
    Case("config-not-yaml", ("config", "validate"), 2, config="project: [unclosed\n", mentions=("devops.yaml",)),
    Case("config-empty", ("config", "validate"), 2, config="", mentions=("devops.yaml",)),
    Case("config-top-level-list", ("config", "validate"), 2, config="- a\n- b\n", mentions=("devops.yaml",)),
    Case("config-missing-explicit", ("--config", "{root}/nope.yaml", "config", "validate"), 2,
         mentions=("nope.yaml",)),
    Case("unknown-command-option", ("config", "validate", "--no-such-option"), 2, mentions=("--no-such-option",)),
]
