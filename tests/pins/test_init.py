"""The public API of ``proctor.pins`` is what ``__all__`` says."""

from __future__ import annotations

import proctor.pins


def test_pins_public_names():
    assert proctor.pins.__all__ == [
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
    assert all(hasattr(proctor.pins, name) for name in proctor.pins.__all__)
