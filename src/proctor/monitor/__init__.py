"""Continuous monitoring: metrics, traces, per-agent baselines, anomaly alerts, containment.

::

    queue = ApprovalQueue.open(store, audit=log)             # the store, the kill switch
    monitor = Monitor.open(policies, queue)                  # baselines in the same store
    hook = MonitorHook(monitor, metrics=GateMetrics(), tracing=Tracing.from_env())
    gate = Gate(policies, hooks=[AuditHook(log), hook], approvals=queue)

Every call and ingest counts in the agent's minute; when a minute ends it is folded into the
agent's baselines (``fold``), the policy's ``monitoring.rules`` are judged, alerts go to the
audit log, the log and a signed webhook (deduplicated, capped per hour), and a severe alert
contains the agent (draft-only, read-only or paused) until a person resumes it.
``proctor bench monitor`` measures detection on simulated traffic. See docs/monitoring.md.
"""

from __future__ import annotations

from proctor.monitor._alert import Alert
from proctor.monitor._backend import Backend, MemoryBackend, StoreBackend
from proctor.monitor._baseline import AgentState, fold
from proctor.monitor._drift import Drift
from proctor.monitor._estimators import Expectation, SeasonalRate, hour_of_week
from proctor.monitor._hook import CONTAINED, MonitorHook
from proctor.monitor._metrics import ControlsCollector, GateMetrics
from proctor.monitor._monitor import Contained, MemoryContainment, Monitor
from proctor.monitor._settings import MonitorSettings
from proctor.monitor._signals import call_signals, destinations
from proctor.monitor._tracing import Tracing

__all__ = [
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
