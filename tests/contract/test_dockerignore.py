"""The `.dockerignore` rules of devops/domain/images/dockerignore.py against docker-py's own
(`docker.utils.build.exclude_paths`, what the build identity used before issue 18) on real
folders: the same files are sent for every pattern set. docker-py is a test dependency only."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.images.dockerignore import included

build = pytest.importorskip("docker.utils.build")

FILES = ["Dockerfile", ".dockerignore", "app.py", "debug.log", "logs/x.log", "logs/keep.log",
         "node_modules/a/index.js", "node_modules/keep/x.js", "docs/readme.md", "src/a/test/t.py",
         "src/test/t.py", "src/main.py", "Dist/keep.txt", "dist/x", "a1", "b1", "[x", ".env", "sub/.env",
         "deep/er/still/file.txt", "weird name.txt"]
PATTERNS = [
    [], ["*"], ["*", "!app.py"], ["*.log", "!logs/keep.log"], ["**/*.log"], ["node_modules", "!node_modules/keep"],
    ["node_modules", "!*/keep"], ["src/**/test"], ["**/*.md", "docs"], ["dist"], ["Dist/"], ["x/../app.py"],
    ["[ab]1"], ["[!a]1"], ["?1"], [".env", "**/.env"], ["/app.py", "./src"], ["deep/**", "!deep/er/still"],
    ["weird*"], ["**"], ["!app.py"], ["Dockerfile", ".dockerignore"], ["src", "!src/main.py"],
]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("context")
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


@pytest.mark.parametrize("patterns", PATTERNS, ids=lambda p: " ".join(p) or "(none)")
def test_the_files_sent_are_docker_py_s(context: Path, patterns: list[str]) -> None:
    expected = sorted(p.replace("\\", "/") for p in build.exclude_paths(str(context), patterns, "Dockerfile")
                      if (context / p).is_file())
    assert sorted(included(FILES, patterns)) == expected
