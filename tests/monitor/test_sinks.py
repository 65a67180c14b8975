"""Alerts reach a signed webhook (retried) and the log; a policy that names a sink the
monitor lacks is refused when the monitor is built."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from proctor.approvals import WebhookNotifier, verify_signature
from proctor.errors import MonitorError
from proctor.monitor import Monitor, MonitorSettings
from proctor.policy import load_policy_text

from ._world import burst, policy_text

SECRET = "monitor-webhook-secret-" + "x" * 8


class Receiver:
    """A local HTTP receiver: fails the first ``fail`` requests with 503, then accepts."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                status = 503 if len(outer.requests) <= outer.fail else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(fail=2)
    yield r
    r.close()


def test_alerts_are_signed_and_retried_until_delivered(make, receiver, caplog):
    notifier = WebhookNotifier(receiver.url, SECRET, backoff=0.0, sleep=lambda _s: None)
    text = policy_text().replace("sinks: [audit, log]", "sinks: [audit, log, webhook]")
    world = make(notifier=notifier, text=text)
    burst(world)
    world.clock.advance(120)
    with caplog.at_level(logging.WARNING, logger="proctor.monitor.alerts"):
        (alert,) = world.monitor.tick()
    assert notifier.flush(timeout=30)
    assert len(receiver.requests) == 3  # two 503s, then delivered
    headers, body = receiver.requests[-1]
    assert verify_signature(SECRET.encode(), headers["X-Proctor-Signature"], body)
    assert not verify_signature(b"another-secret-of-16+", headers["X-Proctor-Signature"], body)
    assert headers["X-Proctor-Event"] == "monitor.alert"
    assert headers["X-Proctor-Delivery"] == alert.id
    data = json.loads(body)
    assert (data["rule"], data["agent"], data["contained"]) == (
        "email.burst",
        "support-bot",
        "draft",
    )
    assert "partner.example" not in body.decode()  # counts and host names only, never addresses
    assert any("email.burst" in r.getMessage() for r in caplog.records)
    notifier.close()


def test_a_webhook_sink_without_a_webhook_is_refused(world):
    text = policy_text().replace("sinks: [audit, log]", "sinks: [webhook]")
    with pytest.raises(MonitorError, match="names webhook"):
        Monitor.open(load_policy_text(text, "support.yaml"), world.queue)


def test_settings_come_in_pairs():
    with pytest.raises(MonitorError, match="go together"):
        MonitorSettings.from_env({"PROCTOR_MONITOR_WEBHOOK_URL": "http://127.0.0.1:9/x"})
    assert MonitorSettings.from_env({}).notifier() is None
    conf = MonitorSettings.from_env(
        {
            "PROCTOR_MONITOR_WEBHOOK_URL": "http://127.0.0.1:9/x",
            "PROCTOR_MONITOR_WEBHOOK_SECRET": SECRET,
        }
    )
    assert isinstance(conf.notifier(), WebhookNotifier)
