"""The public names of ``proctor.budgets`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import proctor.budgets


def test_public_names_are_pinned() -> None:
    assert proctor.budgets.__all__ == [
        "AccountState",
        "BudgetLedger",
        "MemoryLedger",
        "RedisLedger",
        "Reservation",
        "SqlLedger",
        "budget_status",
        "budget_table",
    ]
    assert all(hasattr(proctor.budgets, name) for name in proctor.budgets.__all__)
