"""``proctor budget``: what each budget has spent, holds and has left (docs/budgets.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.budgets import BudgetLedger, RedisLedger, SqlLedger, budget_status, budget_table
from proctor.errors import BudgetError, ProctorError
from proctor.policy import load_policies
from proctor.store import StoreError, StoreSettings, create_store_engine, migrate

app = typer.Typer(
    help="Budgets: spent, reserved and left, per budget and scope.", no_args_is_help=True
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

PolicyPath = Annotated[
    Path,
    typer.Option(
        "--policy", help="Policy file or directory whose budgets to show.", show_default=False
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROCTOR_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: the SQLite file proctor.db).",
        show_default=False,
    ),
]
RedisUrl = Annotated[
    str | None,
    typer.Option(
        "--redis-url",
        help="Read the budgets in this Redis instead of the store (gateways run with "
        "PROCTOR_BUDGETS=redis).",
        show_default=False,
    ),
]
RedisPrefix = Annotated[
    str,
    typer.Option("--redis-prefix", envvar="PROCTOR_REDIS_PREFIX", help="The gateways' key prefix."),
]


def _ledger(database_url: str | None, redis_url: str | None, prefix: str) -> BudgetLedger:
    if redis_url:
        import redis

        return RedisLedger(redis.Redis.from_url(redis_url, socket_timeout=5), prefix + "budget:")
    settings = StoreSettings.from_env()
    store = StoreSettings(
        database_url=database_url,
        sqlite_path=settings.sqlite_path,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    if not database_url and not store.sqlite_path.exists():
        raise BudgetError(f"no store: {store.sqlite_path} does not exist")
    engine = create_store_engine(store)
    migrate(engine)
    return SqlLedger(engine)


@app.command()
def status(
    policy: PolicyPath,
    agent: Annotated[str | None, typer.Option(help="Only this agent's budgets.")] = None,
    database_url: DatabaseUrl = None,
    redis_url: RedisUrl = None,
    redis_prefix: RedisPrefix = "proctor:",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each budget of the policy: per scope key, what was spent (committed in the
    sliding window), what is reserved by calls in flight, the limit, and what is left."""
    ledger: BudgetLedger | None = None
    try:
        policies = load_policies(policy)
        budgets = [
            b for p in policies.policies if agent is None or p.agent == agent for b in p.budgets
        ]
        ledger = _ledger(database_url, redis_url, redis_prefix)
        table_rows = budget_status(budgets, ledger)
    except (ProctorError, StoreError, OSError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        if isinstance(ledger, SqlLedger):
            ledger.engine.dispose()
    if as_json:
        out.print_json(json.dumps(table_rows))
        return
    out.print(budget_table(table_rows))
