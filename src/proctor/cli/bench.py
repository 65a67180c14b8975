"""``proctor bench``: replay third-party agent benchmarks through the gate; simulate traffic
for the monitor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Replay agent-security benchmarks through the gate; measure the monitor.",
    no_args_is_help=True,
)

_SUITES = ("workspace", "travel", "banking", "slack")


@app.command()
def agentdojo(
    suite: Annotated[
        list[str] | None,
        typer.Option(help="Suite to run (repeatable): workspace, travel, banking, slack."),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON to this file.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N user and injection tasks.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Print progress to stderr.")] = False,
    instruction_patterns: Annotated[
        bool,
        typer.Option(help="Ablation: --no-instruction-patterns turns the patterns off."),
    ] = True,
) -> None:
    """Replay AgentDojo's ground truth (no LLM) under the default flow rules; print attack
    success, clean-task friction and utility per suite. Needs the `bench` extra."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        # AgentDojo builds some outputs from sets: re-run with a fixed hash seed
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        code = "from proctor.cli import main; main()"
        argv = [sys.executable, "-c", code, *sys.argv[1:]]
        raise typer.Exit(subprocess.run(argv, env=env, check=False).returncode)  # noqa: S603
    chosen = suite or list(_SUITES)
    unknown = sorted(set(chosen) - set(_SUITES))
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {', '.join(unknown)}; expected {_SUITES}")
    try:
        from proctor.bench.agentdojo import run
    except ImportError as exc:  # pragma: no cover - depends on the environment
        typer.echo(f"agentdojo is not installed ({exc}); pip install -e '.[bench]'", err=True)
        raise typer.Exit(2) from None
    text, _ = run(
        chosen,
        json_path,
        limit=limit,
        progress=progress,
        instruction_patterns=instruction_patterns,
    )
    if not instruction_patterns:
        text = "ABLATION: instruction-like patterns off\n" + text
    typer.echo(text)
    if json_path is not None:
        typer.echo(f"wrote {json_path}")


@app.command()
def monitor(
    seed: Annotated[int, typer.Option(help="The first seed.")] = 1,
    seeds: Annotated[int, typer.Option(min=1, help="How many seeds (seed, seed+1, ...).")] = 3,
    agents: Annotated[int, typer.Option(min=1, help="Simulated agents.")] = 20,
    days: Annotated[int, typer.Option(min=10, help="Simulated days (7 are warm-up).")] = 30,
    per_kind: Annotated[int, typer.Option(min=1, help="Incidents of each kind per seed.")] = 2,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of one agent's signal and alerts here.")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON to this file.")
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="Seeds run at once, one process each (same figures).")
    ] = 1,
    incident: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KIND[:N]",
            help="Plant only this incident kind, N of them per seed (default: --per-kind); "
            "repeat for several kinds. Kinds: exfiltration, runaway_loop, refund_spike, "
            "denial_drift, injection_burst. For tuning one detector.",
        ),
    ] = None,
) -> None:
    """Simulate days of traffic for many agents (daily and weekly cycles, bursts, slow growth)
    with planted incidents (exfiltration to a new domain, a runaway loop, a spike in refunds,
    a slow drift in denials, a burst of injection findings), run the real monitor over it on a
    simulated clock, and print per incident kind: detected or not, time to detect, and false
    alerts per agent-week. Needs the `bench` extra (numpy; matplotlib for --plot)."""
    try:
        from proctor.bench.monitor import run
    except ImportError as exc:  # pragma: no cover - depends on the environment
        typer.echo(f"the bench extra is not installed ({exc}); pip install -e '.[bench]'", err=True)
        raise typer.Exit(2) from None
    kinds = _incident_kinds(incident, per_kind) if incident else None
    text, _ = run(
        list(range(seed, seed + seeds)),
        agents=agents,
        days=days,
        per_kind=per_kind,
        plot_path=plot,
        json_path=json_path,
        jobs=jobs,
        kinds=kinds,
    )
    typer.echo(text)
    if json_path is not None:
        typer.echo(f"wrote {json_path}")


# proctor.bench._monitor_traffic.KINDS, without importing numpy (the bench extra) to parse
INCIDENT_KINDS = ("exfiltration", "runaway_loop", "refund_spike", "denial_drift", "injection_burst")


def _incident_kinds(specs: list[str], per_kind: int) -> dict[str, int]:
    """``["refund_spike:4", "runaway_loop"]``: 4 refund spikes and ``per_kind`` runaway loops."""
    out: dict[str, int] = {}
    for spec in specs:
        kind, _, count = spec.partition(":")
        kind = kind.strip()
        if kind not in INCIDENT_KINDS:
            raise typer.BadParameter(
                f"unknown incident kind {kind!r}; expected one of {', '.join(INCIDENT_KINDS)}",
                param_hint="--incident",
            )
        try:
            n = int(count) if count else per_kind
        except ValueError:
            n = 0
        if n < 1:
            raise typer.BadParameter(
                f"{spec!r}: N must be a whole number of at least 1", param_hint="--incident"
            )
        out[kind] = out.get(kind, 0) + n
    return out
