"""Regenerate the generated pages of ``docs/``: the policy reference (from the Pydantic schema)
and the CLI reference (from ``--help``). ``python -m proctor.docgen [--check]``; a test runs
``--check`` and fails when a page is stale."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from proctor.policy import PolicySpec

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "enum" in prop:
        return " | ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    t = prop.get("type")
    if t == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if t == "object" and "patternProperties" in prop:
        ((pattern, value),) = prop["patternProperties"].items()
        return f"map of name (`{pattern}`) to {_type(value)}"
    if t == "object" and isinstance(prop.get("additionalProperties"), dict):
        keys = prop.get("propertyNames", {})
        key = _type(keys) if "$ref" in keys or "enum" in keys else "name"
        return f"map of {key} to {_type(prop['additionalProperties'])}"
    if t is None:
        return "any"
    extras = [f"{k} {prop[k]}" for k in ("pattern", "minimum", "maximum", "minLength") if k in prop]
    extras += [f"> {prop['exclusiveMinimum']}"] if "exclusiveMinimum" in prop else []
    return str(t) + (f" ({', '.join(extras)})" if extras else "")


def _cell(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def policy_reference() -> str:
    schema = PolicySpec.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})
    models = [("PolicySpec", schema), *sorted(defs.items())]
    lines = [
        "# Policy file reference",
        "",
        "Generated from `proctor.policy.PolicySpec` by `python -m proctor.docgen`; do not edit.",
        "A policy file is YAML; its top level is a **PolicySpec**. Unknown fields are errors.",
        "",
    ]
    for name, model in models:
        if "properties" not in model:
            if "enum" in model:
                lines += [f"## {name}", "", "One of: " + ", ".join(f"`{v}`" for v in model["enum"])]
                lines.append("")
            continue
        lines += [f"## {name}", ""]
        if model.get("description"):
            lines += [" ".join(model["description"].split()), ""]
        required = set(model.get("required", []))
        lines += ["| field | type | required | default | description |", "|---|---|---|---|---|"]
        for field, prop in model["properties"].items():
            default = "" if "default" not in prop else f"`{prop['default']!r}`"
            req = "yes" if field in required else ""
            desc = _cell(" ".join(prop.get("description", "").split()))
            lines.append(f"| `{field}` | {_cell(_type(prop))} | {req} | {default} | {desc} |")
        lines.append("")
    return "\n".join(lines)


def _command_paths(app: typer.Typer, prefix: list[str]) -> list[list[str]]:
    paths = [prefix]
    for cmd in app.registered_commands:
        name = cmd.name or (cmd.callback.__name__ if cmd.callback else "")
        paths.append([*prefix, name.replace("_", "-")])
    for group in app.registered_groups:
        if group.typer_instance is not None and group.name:
            paths.extend(_command_paths(group.typer_instance, [*prefix, group.name]))
    return paths


def cli_reference() -> str:
    from typer.testing import CliRunner

    from proctor.cli import app

    runner = CliRunner()
    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    lines = ["# CLI reference", "", "Generated from `--help` by `python -m proctor.docgen`.", ""]
    for path in sorted(_command_paths(app, [])):
        result = runner.invoke(app, [*path, "--help"], env=env, prog_name="proctor")
        text = "\n".join(line.rstrip() for line in result.output.strip().splitlines())
        lines += [f"## `{' '.join(['proctor', *path])}`", "", "```text", text, "```", ""]
    return "\n".join(lines)


PAGES = {"policy-reference.md": policy_reference, "cli.md": cli_reference}


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for page, render in PAGES.items():
        path = DOCS / page
        text = render().rstrip() + "\n"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(page)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale generated docs: {', '.join(stale)}; run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
