"""Proctor: the control plane that decides, in code, what an AI agent may do.

The public API. Everything not listed in ``__all__`` is private and may change.
"""

from __future__ import annotations

from proctor.errors import (
    GateClosedError,
    PolicyConflictError,
    PolicyError,
    ProctorError,
    RegistrationError,
    UnknownAgentError,
)
from proctor.gate import Gate, GatedTool
from proctor.hooks import GateHooks
from proctor.model import (
    ApprovalRequirement,
    Autonomy,
    Decision,
    Environment,
    Flag,
    Outcome,
    OutcomeStatus,
    RuleHit,
    Session,
    Step,
    StepResult,
    StepStatus,
    ToolCall,
    Verdict,
)
from proctor.policy import (
    CompiledPolicy,
    DecisionRequest,
    PolicySet,
    evaluate,
    load_policies,
    load_policy,
    load_policy_text,
)

__version__ = "0.1.0"

__all__ = [
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
