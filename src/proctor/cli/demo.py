"""``proctor demo``: the scripted customer-support day."""

from __future__ import annotations

import typer
from rich.console import Console


def demo() -> None:
    """Run a simulated customer-support agent through a day of calls; print every verdict."""
    from proctor.demo import run_demo

    raise typer.Exit(run_demo(Console(width=160)))
