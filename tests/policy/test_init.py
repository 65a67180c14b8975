"""The public names of ``proctor.policy`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import proctor.policy


def test_public_names_are_pinned() -> None:
    assert proctor.policy.__all__ == [
        "ApprovalRule",
        "Charge",
        "CompiledBudget",
        "CompiledPolicy",
        "DecisionRequest",
        "PolicySet",
        "PolicySpec",
        "RateRule",
        "ToolPlan",
        "budget_charges",
        "evaluate",
        "load_policies",
        "load_policy",
        "load_policy_text",
    ]
    assert all(hasattr(proctor.policy, name) for name in proctor.policy.__all__)
