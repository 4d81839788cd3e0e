"""JSON Schemas of every command's `--json` result, generated into docs/schemas/.

`python -m devops.cli.schemas` writes docs/schemas/<command>.json (`devops release` ->
release.json, `devops cost schedule` -> cost-schedule.json) from the models the commands
declare with `@json_result`; `--check` exits 1 when a file is stale or missing, as
`devops.cli.reference --check` does for docs/cli.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from devops.cli.reference import _walk
from devops.cli.results import result_model

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def schema_name(path: list[str]) -> str:
    return "-".join(path) + ".json"


def commands_with_json() -> list[tuple[list[str], click.Command]]:
    """Every command (not group) that accepts `--json`, with its path."""
    from devops.cli.main import cli

    root = cli.make_context("devops", [], resilient_parsing=True)
    found = []
    for path, command, ctx in _walk(cli, [], root):
        if isinstance(command, click.Group) or not path:
            continue
        if any("--json" in getattr(p, "opts", ()) for p in command.get_params(ctx)):
            found.append((path, command))
    return found


def render() -> dict[str, str]:
    """File name -> schema text, for every command that declares its result model."""
    out = {}
    for path, command in commands_with_json():
        model = result_model(command)
        if model is None:
            continue
        schema = model.model_json_schema(mode="serialization", by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://github.com/techitfactory/techitfactory-shop/docs/schemas/{schema_name(path)}"
        schema.setdefault("description", f"`devops {' '.join(path)} --json`")
        out[schema_name(path)] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    wanted = render()
    if "--check" in args:
        stale = [name for name, text in wanted.items()
                 if not (FOLDER / name).is_file() or (FOLDER / name).read_text() != text]
        extra = sorted(p.name for p in FOLDER.glob("*.json") if p.name not in wanted) if FOLDER.is_dir() else []
        if stale or extra:
            print(f"docs/schemas is stale: {', '.join(stale + extra)}; run python -m devops.cli.schemas",
                  file=sys.stderr)
            return 1
        return 0
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        (FOLDER / name).write_text(text)
    for old in FOLDER.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
