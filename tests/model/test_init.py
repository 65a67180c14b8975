"""The public names of ``proctor.model`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import proctor.model


def test_public_names_are_pinned() -> None:
    assert proctor.model.__all__ == [
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
    assert all(hasattr(proctor.model, name) for name in proctor.model.__all__)
