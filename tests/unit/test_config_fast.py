"""The config read through libyaml (issue 18) is the config the round-trip reading gives, and an
invalid config is still reported by the round-trip reading (file, line, key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.config import loader
from devops.config.loader import ConfigError, load_config
from tests.support.project import config_text

ROOT = Path(__file__).resolve().parents[2]


def both(path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    fast = load_config(path, environ={})
    monkeypatch.setattr(loader, "_read_plain", lambda _path: None)
    slow = load_config(path, environ={})
    monkeypatch.undo()
    return fast, slow


def test_the_shop_config_is_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both(ROOT / "pipelines" / "devops.yaml", monkeypatch)
    assert fast == slow and fast.model_dump() == slow.model_dump()


def test_anchors_and_aliases_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "devops.yaml"
    text = config_text(services=("alpha", "beta", "gamma"))
    text = text.replace("language: other", "language: &lang other", 1).replace("language: other", "language: *lang")
    assert text.count("*lang") == 2
    config.write_text(text)
    fast, slow = both(config, monkeypatch)
    assert fast == slow and fast.service("gamma").language == "other"


def test_an_invalid_config_is_worded_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "devops.yaml"
    config.write_text("project: shop\nregistry:\n  host: docker.io\n  namespace: x\n  bogus: 1\n")
    with pytest.raises(ConfigError, match=r"devops.yaml:5: registry.bogus"):
        load_config(config, environ={})
    config.write_text("project: shop\nweird: !foo bar\n")
    with pytest.raises(ConfigError, match=r"weird: unsupported YAML value \(!foo\)"):
        load_config(config, environ={})
