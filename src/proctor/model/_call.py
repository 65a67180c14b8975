"""A pending tool call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from proctor.model._edit import ArgsEdit
from proctor.model._session import new_id


@dataclass(frozen=True, slots=True)
class ToolCall:
    """What the agent asked for. ``reason`` and ``confidence`` are the agent's own words,
    shown to reviewers; they never loosen a verdict. ``edit``: see ``ArgsEdit``."""

    tool: str
    args: Mapping[str, object]
    session_id: str
    id: str = field(default_factory=lambda: new_id("call"))
    reason: str | None = None
    confidence: float | None = None
    # set for a held call whose arguments reviewers changed before approving it: the gate
    # judges the changed arguments' provenance again, and tells the agent what changed
    edit: ArgsEdit | None = None
