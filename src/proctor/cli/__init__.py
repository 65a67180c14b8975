"""The ``proctor`` command line. One module per command group."""

from __future__ import annotations

from proctor.cli._app import app, main

__all__ = ["app", "main"]
