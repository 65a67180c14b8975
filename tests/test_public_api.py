"""The public API is exactly this list. Changing it is a decision: update this test on purpose."""

from __future__ import annotations

import proctor

PUBLIC_API = [
    "ApprovalRequirement",
    "Autonomy",
    "CompiledPolicy",
    "Decision",
    "DecisionRequest",
    "Environment",
    "Flag",
    "Gate",
    "GateClosedError",
    "GateHooks",
    "GatedTool",
    "Outcome",
    "OutcomeStatus",
    "PolicyConflictError",
    "PolicyError",
    "PolicySet",
    "ProctorError",
    "RegistrationError",
    "RuleHit",
    "Session",
    "Step",
    "StepResult",
    "StepStatus",
    "ToolCall",
    "UnknownAgentError",
    "Verdict",
    "__version__",
    "evaluate",
    "load_policies",
    "load_policy",
    "load_policy_text",
]


def test_all_is_pinned():
    assert sorted(proctor.__all__) == PUBLIC_API


def test_all_is_sorted_and_unique():
    assert list(proctor.__all__) == sorted(set(proctor.__all__))


def test_every_public_name_resolves():
    missing = [name for name in proctor.__all__ if not hasattr(proctor, name)]
    assert missing == []


def test_star_import_exports_exactly_all():
    namespace: dict[str, object] = {}
    exec("from proctor import *", namespace)
    exported = sorted(k for k in namespace if k != "__builtins__")
    assert exported == PUBLIC_API
