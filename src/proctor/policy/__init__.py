"""Policy files: schema, loader with file:line errors, CEL compiler, and the pure ``evaluate``."""

from __future__ import annotations

from proctor.policy._budget import Charge, CompiledBudget
from proctor.policy._compiled import ApprovalRule, CompiledPolicy, RateRule, ToolPlan
from proctor.policy._engine import DecisionRequest, budget_charges, evaluate
from proctor.policy._load import PolicySet, load_policies, load_policy, load_policy_text
from proctor.policy._schema import PolicySpec

__all__ = [
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
