"""Pure data shared by every ring: no I/O, no imports from outer packages."""

from __future__ import annotations

from proctor.model._call import ToolCall
from proctor.model._decision import ApprovalRequirement, Decision, RuleHit, StepResult
from proctor.model._edit import ArgChange, ArgsEdit, diff_args
from proctor.model._enums import (
    HOLDING_FLAGS,
    Autonomy,
    Environment,
    Flag,
    Step,
    StepStatus,
    Verdict,
)
from proctor.model._finding import Finding, Severity
from proctor.model._outcome import Outcome, OutcomeStatus
from proctor.model._receipt import InclusionProof, Receipt, SignedTree
from proctor.model._session import Session, new_id

__all__ = [
    "HOLDING_FLAGS",
    "ApprovalRequirement",
    "ArgChange",
    "ArgsEdit",
    "Autonomy",
    "Decision",
    "Environment",
    "Finding",
    "Flag",
    "InclusionProof",
    "Outcome",
    "OutcomeStatus",
    "Receipt",
    "RuleHit",
    "Session",
    "Severity",
    "SignedTree",
    "Step",
    "StepResult",
    "StepStatus",
    "ToolCall",
    "Verdict",
    "diff_args",
    "new_id",
]
