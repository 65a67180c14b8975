"""``Monitor``: minutes in, baselines updated, alerts out, agents contained.

Each process counts its agents' activity per minute in memory (``record``). ``tick`` (called
by the gate's hook when a minute ends, by ``start``'s thread, or by a simulation's clock)
hands finished minutes to the backend and closes every monitored agent's minutes up to
``now - 1 - grace`` minutes: the grace lets the other processes hand in theirs. Closing folds
each minute into the baseline (``fold``), and for each alert, in the same transaction, records
it for the audit log (the approvals outbox) and contains the agent when the alert is severe
enough (``AgentControls.contain``). After the commit: the log, the webhook, the listeners.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from proctor.approvals import Notification
from proctor.audit import AuditLog, events
from proctor.errors import MonitorError
from proctor.model import Autonomy
from proctor.monitor._alert import Alert, severity
from proctor.monitor._backend import Backend, MemoryBackend, Pending, StoreBackend
from proctor.monitor._baseline import AgentState, fold
from proctor.policy import CompiledPolicy, PolicySet
from proctor.policy._monitor_schema import MonitoringPolicy

if TYPE_CHECKING:
    from proctor.approvals import AgentControls, ApprovalQueue, Notifier, Recorder

log = logging.getLogger("proctor.monitor")
alert_log = logging.getLogger("proctor.monitor.alerts")

MAX_GAP = 14 * 1440  # a baseline left unfolded longer than this skips ahead (minutes)
BY = "monitor"


@dataclass(frozen=True, slots=True)
class Contained:
    """An agent contained in memory (``MemoryContainment``)."""

    agent: str
    action: str  # pause, draft or read
    reason: str
    alert_id: str

    @property
    def max_autonomy(self) -> Autonomy | None:
        return None if self.action == "pause" else Autonomy[self.action.upper()]


class MemoryContainment:
    """Containment in this process only (no store): the monitor's hook enforces it."""

    def __init__(self) -> None:
        self._agents: dict[str, Contained] = {}
        self._lock = threading.Lock()

    def contain(self, alert: Alert, action: str, reason: str) -> bool:
        with self._lock:
            now = self._agents.get(alert.agent)
            if now is not None and (now.action == "pause" or now.action == action):
                return False
            if now is not None and action == "draft" and now.action == "read":
                return False
            self._agents[alert.agent] = Contained(alert.agent, action, reason, alert.id)
            return True

    def status(self, agent: str) -> Contained | None:
        with self._lock:
            return self._agents.get(agent)

    def resume(self, agent: str) -> None:
        with self._lock:
            self._agents.pop(agent, None)


def minute_of(seconds: float) -> int:
    return int(seconds // 60)


class Monitor:
    """Baselines, alert rules and containment for every agent whose policy has
    ``monitoring: {enabled: true}``. See ``Monitor.open`` for the usual setup."""

    def __init__(
        self,
        policies: CompiledPolicy | PolicySet,
        backend: Backend | None = None,
        *,
        recorder: Recorder | None = None,
        controls: AgentControls | None = None,
        audit: AuditLog | None = None,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        grace_minutes: int = 1,
    ) -> None:
        self.policies = policies if isinstance(policies, PolicySet) else PolicySet.of(policies)
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        self.recorder = recorder  # audit records in the closing transaction (store)
        self.controls = controls  # containment in the store
        self.audit = audit  # audit records appended after the fold (memory backend)
        self.notifier = notifier
        self.memory = MemoryContainment() if controls is None else None
        self.listeners: list[Callable[[Alert, str | None], None]] = []  # alert, containment
        self._clock = clock
        self.grace = grace_minutes
        self._pending: dict[tuple[str, int], dict[str, float]] = {}
        self._lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._ticked = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.monitored: dict[str, CompiledPolicy] = {}
        for pol in self.policies.policies:
            spec = pol.spec.monitoring
            if spec is None or not spec.enabled:
                continue
            if "webhook" in spec.alerts.sinks and notifier is None:
                raise MonitorError(
                    f"{pol.file}: monitoring.alerts.sinks names webhook, but this monitor has "
                    "no webhook (PROCTOR_MONITOR_WEBHOOK_URL and _SECRET, or notifier=)"
                )
            if "audit" in spec.alerts.sinks and recorder is None and audit is None:
                raise MonitorError(
                    f"{pol.file}: monitoring.alerts.sinks names audit, but this monitor has "
                    "no audit log (Monitor.open(..., queue=ApprovalQueue(audit=...)) or audit=)"
                )
            self.monitored[pol.agent] = pol

    @classmethod
    def open(
        cls,
        policies: CompiledPolicy | PolicySet,
        queue: ApprovalQueue,
        *,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        grace_minutes: int = 1,
    ) -> Monitor:
        """A monitor whose baselines live in ``queue``'s store, whose alerts are recorded
        through its outbox (and so its audit log), and whose containment is the queue's
        agent controls: every gate sharing that store enforces it on its next call."""
        return cls(
            policies,
            StoreBackend(queue.engine, clock),
            recorder=queue.recorder,
            controls=queue.controls,
            notifier=notifier,
            clock=clock,
            grace_minutes=grace_minutes,
        )

    def settings(self, agent: str) -> MonitoringPolicy | None:
        pol = self.monitored.get(agent)
        return pol.spec.monitoring if pol is not None else None

    # -- counting ------------------------------------------------------------------------------

    def record(self, agent: str, values: Mapping[str, float], at: float | None = None) -> None:
        """Add ``values`` (series -> amount) to ``agent``'s minute at ``at`` (default: now)."""
        if agent not in self.monitored or not values:
            return
        minute = minute_of(self._clock() if at is None else at)
        with self._lock:
            slot = self._pending.setdefault((agent, minute), {})
            for key, value in values.items():
                slot[key] = slot.get(key, 0.0) + value

    def flush(self, now: float | None = None) -> None:
        """Hand this process's finished minutes (before ``now``'s) to the backend."""
        current = minute_of(self._clock() if now is None else now)
        with self._lock:
            done = {k: v for k, v in self._pending.items() if k[1] < current}
            for key in done:
                del self._pending[key]
        if not done:
            return
        try:
            self.backend.add(done)
        except Exception:
            with self._lock:  # keep them for the next flush
                for key, values in done.items():
                    slot = self._pending.setdefault(key, {})
                    for k, v in values.items():
                        slot[k] = slot.get(k, 0.0) + v
            raise

    def due(self, now: float | None = None) -> bool:
        """Whether a minute ended since this process last ticked."""
        return minute_of(self._clock() if now is None else now) > self._ticked

    # -- closing -------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> list[Alert]:
        """Flush, then close every monitored agent's minutes up to ``now - 1 - grace``.
        Returns the alerts this process raised."""
        at = self._clock() if now is None else now
        with self._tick_lock:
            self.flush(at)
            upto = minute_of(at) - 1 - self.grace
            alerts: list[Alert] = []
            for agent in sorted(self.monitored):
                alerts += self.close(agent, upto)
            self._ticked = minute_of(at)
        return alerts

    def close(self, agent: str, upto: int) -> list[Alert]:
        pol = self.monitored[agent]
        spec = pol.spec.monitoring
        if spec is None:
            return []
        tools = tuple(pol.tools)
        actions: list[tuple[Alert, str | None]] = []

        def work(
            state: AgentState | None, due: Pending, conn: Connection | None
        ) -> tuple[AgentState, list[tuple[Alert, str | None]]]:
            if state is None:
                start = min(due) - 1 if due else upto
                state = AgentState.new(agent, max(start, upto - MAX_GAP))
            if upto - state.closed > MAX_GAP:
                state.skip_to(upto - MAX_GAP)
            late: dict[str, float] = {}
            for minute in [m for m in due if m <= state.closed]:  # handed in after its close
                for key, value in due.pop(minute).items():
                    late[key] = late.get(key, 0.0) + value
            if late:
                slot = due.setdefault(state.closed + 1, {})
                for key, value in late.items():
                    slot[key] = slot.get(key, 0.0) + value
            for minute in range(state.closed + 1, upto + 1):
                for alert in fold(state, minute, due.get(minute, {}), spec, tools):
                    actions.append((alert, self._act(alert, spec, conn)))
            return state, actions

        result = self.backend.close(agent, upto, work)
        if result is None:
            return []
        self._after(result, spec)
        return [alert for alert, _ in result]

    def _act(self, alert: Alert, spec: MonitoringPolicy, conn: Connection | None) -> str | None:
        """Inside the closing transaction: record the alert, contain the agent if due.
        Returns the containment applied (``pause``, ``draft``, ``read``) or None."""
        if "audit" in spec.alerts.sinks and self.recorder is not None and conn is not None:
            self.recorder.add(conn, self._event(alert))
        at = spec.contain.at
        if at is None or alert.severity < severity(at):
            return None
        action = spec.contain.action
        reason = f"alert {alert.id}: {alert.message}"
        if self.controls is not None:
            changed = self.controls.contain(alert.agent, action, by=BY, reason=reason, conn=conn)
            return action if changed is not None else None
        if self.memory is not None and self.memory.contain(alert, action, reason):
            return action
        return None

    @staticmethod
    def _event(alert: Alert) -> events.Event:
        return events.alert("monitor", alert.message, detail=alert.to_dict())

    def _after(self, done: list[tuple[Alert, str | None]], spec: MonitoringPolicy) -> None:
        """After the commit: relay the outbox, then the log, webhook and listeners. A sink
        that fails is logged: the alert is already recorded (or was never to be)."""
        if not done:
            return
        if self.recorder is not None:
            self.recorder.committed()
        for alert, contained in done:
            if "audit" in spec.alerts.sinks and self.recorder is None and self.audit is not None:
                try:
                    self.audit.append(self._event(alert))
                except Exception:
                    log.exception("could not append alert %s to the audit log", alert.id)
            if "log" in spec.alerts.sinks:
                extra = f"; agent contained ({contained})" if contained else ""
                alert_log.warning("%s%s", alert.message, extra)
            if "webhook" in spec.alerts.sinks and self.notifier is not None:
                data = {**alert.to_dict(), "contained": contained}
                self.notifier.submit(Notification(alert.id, "monitor.alert", alert.message, data))
            for listener in self.listeners:
                try:
                    listener(alert, contained)
                except Exception:
                    log.exception("alert listener failed")

    # -- state ---------------------------------------------------------------------------------

    def baseline(self, agent: str) -> AgentState | None:
        """The agent's baseline as the backend has it (None: nothing folded yet)."""
        return self.backend.load(agent)

    def start(self, interval: float = 10.0) -> None:
        """Tick every ``interval`` seconds on a daemon thread (until ``stop``), so that an idle
        process still hands in its minutes and idle agents' minutes still close."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.tick()
                except Exception:
                    log.exception("monitor tick failed; retrying in %.0fs", interval)

        self._thread = threading.Thread(target=run, name="proctor-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, and hand in what this process counted (its last minute too)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        self.flush(self._clock() + 60)
