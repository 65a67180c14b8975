"""``proctor scan``: run the content detectors over a document before an agent reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from proctor.detect import ContentKind, DetectorRegistry
from proctor.errors import DetectorConfigError


def _texts(raw: str, jsonl: bool) -> Iterator[str]:
    if not jsonl:
        yield raw
        return
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            yield line
            continue
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict) and isinstance(value.get("text"), str):
            yield value["text"]
        else:
            yield line


def scan(
    file: Annotated[
        str, typer.Argument(help='The file to scan, or "-" for standard input.', show_default=False)
    ] = "-",
    kind: Annotated[
        ContentKind,
        typer.Option("--kind", "-k", help="How to read the text (auto: guess from its markup)."),
    ] = ContentKind.AUTO,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='One text per line: a raw line, a JSON string, or an object with a "text" key.',
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="A detector registry YAML (default: the built-in)."),
    ] = None,
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Skip the learned classifier.")
    ] = False,
) -> None:
    """Scan text, HTML, Markdown or JSON for prompt injection and hidden instructions.

    Prints one JSON line per finding ({"type": "finding", ...}) and one verdict line per text
    ({"type": "verdict", "hostile": ...}). Exits 1 when any text is judged hostile, 0 when
    none is, 2 when the input or the configuration cannot be read.
    """
    try:
        registry = DetectorRegistry.from_yaml(config) if config else DetectorRegistry.default()
    except DetectorConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if rules_only:
        registry = registry.without("injection.classifier")
    try:
        raw = (
            typer.get_text_stream("stdin").read()
            if file == "-"
            else Path(file).read_text(encoding="utf-8")
        )
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {file}: cannot read: {exc}", err=True)
        raise typer.Exit(2) from None
    hostile = False
    for index, text in enumerate(_texts(raw, jsonl)):
        findings = registry.scan(text, kind)
        for f in findings:
            typer.echo(
                json.dumps({"type": "finding", "text": index, **f.to_dict()}, ensure_ascii=False)
            )
        verdict = registry.judge(findings)
        hostile = hostile or verdict.hostile
        typer.echo(json.dumps({"type": "verdict", "text": index, **verdict.to_dict()}))
    raise typer.Exit(1 if hostile else 0)
