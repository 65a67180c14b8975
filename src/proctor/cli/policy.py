"""``proctor policy``: check policy files and explain decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from proctor.errors import PolicyError
from proctor.model import Environment, StepStatus, Verdict
from proctor.policy import DecisionRequest, PolicySpec, evaluate, load_policies, load_policy
from proctor.policy._budget import steerable_budgets

app = typer.Typer(help="Check policy files and explain decisions.", no_args_is_help=True)
err = Console(stderr=True)
_STYLE = {Verdict.ALLOW: "green", Verdict.HOLD: "yellow", Verdict.DENY: "red"}


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Policy files or directories.")],
) -> None:
    """Validate policy files. Exit 1 and name file, line and field of every problem."""
    out = Console()
    failed = False
    for path in paths:
        try:
            policies = load_policies(path)
        except PolicyError as exc:
            failed = True
            for problem in exc.problems:
                err.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)
            continue
        for pol in policies.policies:
            n_constraints = sum(len(t.constraints) for t in pol.tools.values())
            envs = ", ".join(e.value for e in pol.spec.environments)
            out.print(
                f"[green]ok[/] {pol.file}: agent {pol.agent}, {len(pol.tools)} tools, "
                f"{n_constraints} constraints, environments {envs}",
                highlight=False,
                soft_wrap=True,
            )
            for warning in steerable_budgets(pol.budgets):
                err.print(f"[yellow]warning[/] {pol.file}: {warning}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _read_call(path: Path) -> dict[str, Any]:
    try:
        text = (
            typer.get_text_stream("stdin").read()
            if str(path) == "-"
            else path.read_text(encoding="utf-8")
        )
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        err.print(f"[red]error[/] {path}: cannot read the call as JSON: {exc}")
        raise typer.Exit(2) from None
    if not isinstance(data, dict) or not isinstance(data.get("tool"), str):
        err.print(f'[red]error[/] {path}: expected an object like {{"tool": "...", "args": {{}}}}')
        raise typer.Exit(2)
    return data


@app.command()
def explain(
    policy_file: Annotated[Path, typer.Argument(help="The policy file.")],
    call_file: Annotated[
        Path,
        typer.Argument(
            help='The call as JSON ("-" for stdin): {"tool": ..., "args": {...}, '
            '"environment": "production", "agent": ..., "principal": ..., "tenant": ..., '
            '"usage": {rule_id: count}}.'
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Show each pipeline step's verdict on one call, and the rule behind it."""
    try:
        pol = load_policy(policy_file)
    except PolicyError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    call = _read_call(call_file)
    try:
        env = Environment(call.get("environment", "production"))
    except ValueError:
        err.print(f"[red]error[/] {call_file}: unknown environment {call.get('environment')!r}")
        raise typer.Exit(2) from None
    args = call.get("args", {})
    usage = call.get("usage")
    req = DecisionRequest(
        tool=call["tool"],
        args=args if isinstance(args, dict) else {"<args>": args},
        agent=str(call.get("agent", pol.agent)),
        environment=env,
        principal=str(call.get("principal", "")),
        tenant=str(call.get("tenant", "")),
        usage=usage if isinstance(usage, dict) else None,
    )
    decision = evaluate(pol, req)
    if as_json:
        typer.echo(json.dumps(_as_dict(decision), indent=2, default=str))
        return
    out = Console()
    table = Table(title=f"{call['tool']} under {pol.name} in {env.value}")
    for col in ("step", "verdict", "status", "rule", "reason"):
        table.add_column(col, overflow="fold")
    for step in decision.steps:
        if not step.hits:
            note = step.note or ("no rule matched" if step.status is StepStatus.OK else "")
            table.add_row(str(step.step), _v(step.verdict), str(step.status), "", note)
        for hit in step.hits:
            seen = f" (saw {json.dumps(dict(hit.seen), default=str)})" if hit.seen else ""
            table.add_row(
                str(step.step), _v(hit.verdict), str(step.status), hit.rule_id, hit.reason + seen
            )
    out.print(table)
    line = f"verdict: {_v(decision.verdict)}"
    if decision.approval is not None:
        line += (
            f" (needs {decision.approval.approvers} approver(s) from "
            f"{', '.join(decision.approval.groups)})"
        )
    out.print(line)


def _v(v: Verdict) -> str:
    return f"[{_STYLE[v]}]{v}[/]"


def _as_dict(decision: Any) -> dict[str, Any]:
    return {
        "tool": decision.tool,
        "verdict": str(decision.verdict),
        "policy": decision.policy,
        "rule_ids": list(decision.rule_ids),
        "reasons": list(decision.reasons),
        "approval": (
            {"approvers": decision.approval.approvers, "groups": list(decision.approval.groups)}
            if decision.approval
            else None
        ),
        "steps": [
            {
                "step": str(s.step),
                "verdict": str(s.verdict),
                "status": str(s.status),
                "note": s.note,
                "hits": [
                    {
                        "rule_id": h.rule_id,
                        "verdict": str(h.verdict),
                        "reason": h.reason,
                        "seen": dict(h.seen),
                    }
                    for h in s.hits
                ],
            }
            for s in decision.steps
        ],
    }


@app.command()
def schema() -> None:
    """Print the JSON Schema of policy files (for editors and CI)."""
    typer.echo(json.dumps(PolicySpec.model_json_schema(), indent=2))
