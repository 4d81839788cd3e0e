"""`.dockerignore` on a list of paths, with docker-py's rules (the contract test compares with
docker-py itself on real folders: tests/contract/test_dockerignore.py)."""

from __future__ import annotations

from devops.domain.images.dockerignore import Matcher, included, parse

FILES = ["Dockerfile", ".dockerignore", "app.py", "debug.log", "logs/x.log", "node_modules/a/index.js",
         "node_modules/keep/x.js", "docs/readme.md", "src/a/test/t.py", "src/test/t.py", "Dist/keep.txt", "dist/x"]


def test_comments_and_blank_lines_are_not_patterns() -> None:
    assert parse("# comment\n\n*.log\n  !keep  \n") == ["*.log", "!keep"]


def test_the_last_matching_pattern_wins_and_dockerfile_is_always_sent() -> None:
    kept = included(FILES, ["*", "!app.py"])
    assert kept == [".dockerignore", "Dockerfile", "app.py"]


def test_globs_folders_and_double_star() -> None:
    kept = included(FILES, ["*.log", "**/*.log", "node_modules", "src/**/test", "**/*.md"])
    assert kept == [".dockerignore", "Dist/keep.txt", "Dockerfile", "app.py", "dist/x"]


def test_an_excluded_folder_is_entered_only_for_an_exception_inside_it() -> None:
    assert "node_modules/keep/x.js" in included(FILES, ["node_modules", "!node_modules/keep"])
    # `!*/keep` does not start with node_modules: Docker never enters the folder.
    assert not any(f.startswith("node_modules") for f in included(FILES, ["node_modules", "!*/keep"]))


def test_case_is_ignored_and_dot_dot_is_cleaned() -> None:
    assert "Dist/keep.txt" not in included(FILES, ["dist"])
    assert included(["a/b", "c"], ["x/../a"]) == ["c"]
    assert included(["a", "b"], ["."]) == ["a", "b"]  # "." is ignored, as Docker does


def test_character_classes() -> None:
    files = ["a1", "b1", "c1", "[x"]
    assert included(files, ["[ab]1"]) == ["[x", "c1"]
    assert included(files, ["[!ab]1"]) == ["[x", "a1", "b1"]
    assert included(files, ["[^a]1"]) == ["[x", "b1", "c1"]  # a leading ^ is a literal ^, as in docker-py
    assert included(files, ["[x"]) == ["a1", "b1", "c1"]  # an unclosed [ is a literal
    assert included(["]", "a"], ["[]]"]) == ["a"]
    assert included(["ab", "a?"], ["a?"]) == []
    assert included(["a/b"], ["a?b"]) == ["a/b"]  # ? never matches /


def test_a_skipped_folder_need_not_be_listed() -> None:
    matcher = Matcher(["node_modules", "!node_modules/keep"])
    assert not matcher.folder_skipped("node_modules") and matcher.folder_skipped("dist") is False
    assert Matcher(["dist"]).folder_skipped("dist") and Matcher(["dist"]).folder_skipped("dist/deep")


def test_double_star_without_a_slash_and_a_leading_dot_dot() -> None:
    assert included(["a/bx", "a/x", "x", "y"], ["**x"]) == ["a/bx", "y"]  # ** then x: a whole name
    assert included(["a", "b"], ["../a"]) == ["b"]
