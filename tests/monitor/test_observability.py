"""Prometheus metrics and OpenTelemetry spans of the gate pipeline."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from proctor import Gate, OutcomeStatus, load_policy_text
from proctor.hooks import GateHooks
from proctor.monitor import ControlsCollector, GateMetrics, MonitorHook, Tracing

from ._world import burst, policy_text


def samples(metrics: GateMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_calls_holds_denials_outcomes_and_step_latencies_are_exposed(world):
    s = world.session()
    world.gate.call(s, "orders.get", {"order_id": "O-1"})
    world.gate.call(s, "email.send", {"to": "a@partner.example", "body": "hi"})
    world.gate.call(s, "no.such.tool", {})
    world.queue.controls.pause("support-bot", by=world.people["otto"], reason="checking a thing")
    world.gate.call(s, "orders.get", {"order_id": "O-2"})  # held by the kill switch
    got = samples(world.metrics)
    agent = ("agent", "support-bot")
    assert got[("proctor_calls_total", (agent, ("tool", "orders.get"), ("verdict", "allow")))] == 1
    assert got[("proctor_calls_total", (agent, ("tool", "orders.get"), ("verdict", "hold")))] == 1
    # a made-up tool cannot add a label value
    assert got[("proctor_calls_total", (agent, ("tool", "other"), ("verdict", "deny")))] == 1
    assert got[("proctor_holds_total", (agent, ("tool", "orders.get")))] == 1
    assert got[("proctor_denials_total", (agent, ("tool", "other")))] == 1
    executed = ("status", "executed")
    assert got[("proctor_outcomes_total", (agent, executed, ("tool", "email.send")))] == 1
    steps = {dict(k[1])["step"] for k in got if k[0] == "proctor_step_seconds_count"}
    assert {"call", "checks", "evaluate", "record", "execute", "outcome", "hold", "ingest"} <= steps
    assert got[("proctor_step_seconds_count", (("step", "call"),))] == 4


def test_alerts_and_containments_are_counted(world):
    burst(world)
    world.clock.advance(120)
    world.monitor.tick()
    got = samples(world.metrics)
    key = (("agent", "support-bot"), ("rule", "email.burst"), ("severity", "critical"))
    assert got[("proctor_alerts_total", key)] == 1
    cont = (("action", "draft"), ("agent", "support-bot"))
    assert got[("proctor_containments_total", cont)] == 1


def test_errors_in_checks_are_counted(world):
    with world.queue.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE proctor_agent_controls")
    out = world.gate.call(world.session(), "orders.get", {"order_id": "O-1"})
    assert out.status is OutcomeStatus.DENIED
    got = samples(world.metrics)
    assert got[("proctor_errors_total", (("agent", "support-bot"), ("step", "boundary")))] == 1


def test_the_store_collector_counts_approvals_and_containment(world):
    world.queue.controls.contain("support-bot", "draft", by="monitor", reason="alert alr_1")
    world.metrics.registry.register(ControlsCollector(world.queue.engine, clock=world.clock))
    got = samples(world.metrics)
    assert got[("proctor_agents_contained", ())] == 1
    assert got[("proctor_agents_paused", ())] == 0
    assert got[("proctor_approval_decision_seconds_count", (("result", "approved"),))] == 0


def test_each_step_is_a_child_span_of_the_call(world):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    hook = MonitorHook(tracing=Tracing(provider))
    gate = Gate(world.gate.policies, hooks=[hook])

    @gate.tool("orders.get")
    def get(order_id: str) -> dict[str, str]:
        return {"order_id": order_id}

    s = gate.open_session("support-bot", principal="p", tenant="acme")
    gate.call(s, "orders.get", {"order_id": "O-77"})
    gate.close()
    spans = exporter.get_finished_spans()
    (call,) = [sp for sp in spans if sp.name == "proctor.call"]
    children = {
        sp.name
        for sp in spans
        if sp.parent is not None and sp.parent.span_id == call.context.span_id
    }
    assert {"proctor.checks", "proctor.evaluate", "proctor.record", "proctor.execute"} <= children
    (ingest,) = [sp for sp in spans if sp.name == "proctor.ingest"]
    (execute,) = [sp for sp in spans if sp.name == "proctor.execute"]
    assert ingest.parent.span_id == execute.context.span_id  # the output is ingested inside
    assert call.attributes["proctor.verdict"] == "ALLOW"
    assert call.attributes["proctor.status"] == "executed"
    assert call.attributes["proctor.tool"] == "orders.get"
    assert all("O-77" not in str(dict(sp.attributes or {})) for sp in spans)


class Broken(GateHooks):
    def step(self, name, session, call):
        raise RuntimeError("observer down")


class BrokenExit(GateHooks):
    def step(self, name, session, call):
        class Cm:
            def __enter__(self):
                return self

            def __exit__(self, *a):
                raise RuntimeError("observer down on exit")

        return Cm()


@pytest.mark.parametrize("hook", [Broken(), BrokenExit()], ids=["enter", "exit"])
def test_a_failing_observer_never_changes_a_decision(hook):
    pol = load_policy_text(policy_text(), "support.yaml")
    gate = Gate(pol, hooks=[hook])

    @gate.tool("orders.get")
    def get(order_id: str) -> str:
        return "ok"

    out = gate.call(
        gate.open_session("support-bot", principal="p", tenant="t"), "orders.get", {"order_id": "1"}
    )
    gate.close()
    assert out.status is OutcomeStatus.EXECUTED


def test_spans_are_exported_over_otlp_when_configured():
    got: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/v1/traces"
        tracing = Tracing.from_env({"PROCTOR_OTLP_ENDPOINT": endpoint})
        pol = load_policy_text(policy_text(), "support.yaml")
        gate = Gate(pol, hooks=[MonitorHook(tracing=tracing)])

        @gate.tool("orders.get")
        def get(order_id: str) -> str:
            return "ok"

        gate.call(
            gate.open_session("support-bot", principal="p", tenant="t"),
            "orders.get",
            {"order_id": "1"},
        )
        gate.close()
        tracing.shutdown()  # flushes the batch
    finally:
        server.shutdown()
        server.server_close()
    assert got
    assert got[0][0] == "/v1/traces"
    assert b"proctor.call" in got[0][1]
