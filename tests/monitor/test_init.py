"""The public names of ``proctor.monitor`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import proctor.monitor


def test_public_names_are_pinned():
    assert proctor.monitor.__all__ == [
        "CONTAINED",
        "AgentState",
        "Alert",
        "Backend",
        "Contained",
        "ControlsCollector",
        "Drift",
        "Expectation",
        "GateMetrics",
        "MemoryBackend",
        "MemoryContainment",
        "Monitor",
        "MonitorHook",
        "MonitorSettings",
        "SeasonalRate",
        "StoreBackend",
        "Tracing",
        "call_signals",
        "destinations",
        "fold",
        "hour_of_week",
    ]
    for name in proctor.monitor.__all__:
        assert hasattr(proctor.monitor, name)
