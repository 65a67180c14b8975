"""``proctor demo``: the scripted customer-support day."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


def demo(
    db: Annotated[
        Path, typer.Option(help="SQLite file for the demo's audit log (replaced each run).")
    ] = Path("proctor-demo.db"),
) -> None:
    """Run a simulated customer-support agent through a day of calls; print every verdict,
    record everything in a SQLite audit log and verify its chain."""
    from proctor.demo import run_demo

    raise typer.Exit(run_demo(Console(width=160), db_path=db))
