"""Tool pins: the definition of each remote tool that an operator approved, and what changed.

A remote tool (an MCP server's) is described by its server: name, description, argument
schema. The model reads that description as guidance, so a server that changes it after it was
reviewed (a "rug pull") or that hides orders in it ("tool poisoning") steers the model. Pins
make the definition part of what an operator approves::

    pins = ToolPins(engine, queue.recorder, queue.access)
    pins.record("shop", {"refund": definition("refund", "Refund an order.", schema)})
    pins.approve("shop", "refund", by=operator, fingerprint=reviewed)
                                # the definition the operator reviewed (16+ hex digits); it is
                                # scanned first, and findings need accept_findings=True
    pins.pinned("shop")                                   # {"refund": "9f2c…"}

``fingerprint`` is the SHA-256 of the canonical JSON of the definition (see ``definition``);
``scan_definition`` runs the content detectors and two rules for definitions over every string
in it. The MCP proxy exposes only tools whose definition listed now is the pinned one.
"""

from __future__ import annotations

from proctor.pins._definition import canonical, definition, diff, fingerprint
from proctor.pins._invisible import InvisibleCharacters
from proctor.pins._pin import PinState, ToolPin, short
from proctor.pins._poisoning import ToolPoisoning
from proctor.pins._scan import definition_registry, scan_definition
from proctor.pins._store import TOFU, ToolPins

__all__ = [
    "TOFU",
    "InvisibleCharacters",
    "PinState",
    "ToolPin",
    "ToolPins",
    "ToolPoisoning",
    "canonical",
    "definition",
    "definition_registry",
    "diff",
    "fingerprint",
    "scan_definition",
    "short",
]
