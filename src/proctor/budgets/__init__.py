"""Budget ledgers: what each budget account spent and holds, with atomic check-and-reserve
(docs/budgets.md). ``MemoryLedger`` in one process, ``SqlLedger`` in the SQL store (SQLite or
PostgreSQL), ``RedisLedger`` in Redis; the gate reserves at enforcement, commits when the tool
ran and releases when it did not."""

from __future__ import annotations

from proctor.budgets._ledger import AccountState, BudgetLedger, MemoryLedger, Reservation
from proctor.budgets._redis import RedisLedger
from proctor.budgets._sql import SqlLedger
from proctor.budgets._status import budget_status, budget_table

__all__ = [
    "AccountState",
    "BudgetLedger",
    "MemoryLedger",
    "RedisLedger",
    "Reservation",
    "SqlLedger",
    "budget_status",
    "budget_table",
]
