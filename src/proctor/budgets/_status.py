"""What each budget has spent, holds and has left, per account: for ``proctor budget status``
and anything else that shows budgets to people."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from proctor.budgets._ledger import AccountState, BudgetLedger
from proctor.policy import CompiledBudget
from proctor.policy._budget import plain, window_text


def _scope(account: str) -> str:
    """The account's scope, for people: ``agent``, ``tenant:acme``, ``tenant:acme|key:C7``."""
    return unquote(account.split("|", 1)[1]) if "|" in account else account


def budget_status(budgets: Iterable[CompiledBudget], ledger: BudgetLedger) -> list[dict[str, Any]]:
    """One row per budget account (a budget nobody spent from yet: one row, key ``-``). Amounts
    are plain decimal strings (exact, never floats)."""
    rows: list[dict[str, Any]] = []
    for b in budgets:
        states = ledger.accounts(b.ledger_name, b.window) or [AccountState(b.ledger_name, "", 0, 0)]
        for s in states:
            rows.append(
                {
                    "agent": b.agent,
                    "budget": b.name,
                    "rule_id": b.rule_id,
                    "scope": b.scope,
                    "key": _scope(s.key) if s.key else "-",
                    "spent": plain(s.spent),
                    "reserved": plain(s.reserved),
                    "limit": plain(b.limit),
                    "left": plain(max(0, b.limit - s.used)),
                    "unit": b.unit,
                    "window": window_text(b.window),
                    "on_exceed": "hold" if b.approval is not None else "deny",
                }
            )
    return rows


def budget_table(rows: list[dict[str, Any]], title: str = "budgets") -> Any:
    """The rows as a Rich table."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("budget", "scope key", "spent", "reserved", "limit", "left", "window", "exceed"):
        right = col in ("spent", "reserved", "limit", "left")
        table.add_column(col, overflow="fold", justify="right" if right else "left")
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        table.add_row(
            f"{r['agent']}/{r['budget']}",
            r["key"] if r["key"] != "-" else f"({r['scope']}: nothing spent yet)",
            _show(r["spent"]),
            _show(r["reserved"]),
            _show(r["limit"]) + unit,
            _show(r["left"]) + unit,
            r["window"],
            r["on_exceed"],
        )
    return table


def _show(text: str) -> str:
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")
