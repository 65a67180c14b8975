"""Notifications: a signed JSON POST with a Slack-compatible ``text``, on a new request, each
decision and expiry, retried with backoff; tested against a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from proctor.approvals import WebhookNotifier, sign, verify_signature
from proctor.errors import ApprovalConfigError
from proctor.store import oversight_events

SECRET = "whsec_" + "test" * 6  # built at runtime for the test, not a real secret


class Receiver:
    """A local HTTP server that records every POST and answers with ``statuses`` in turn
    (then 200)."""

    def __init__(self, statuses=()):
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [json.loads(body)["event"] for _, body in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def notifier(url, **kw):
    kw.setdefault("sleep", Sleeps())
    return WebhookNotifier(url, SECRET, **kw)


def flush(world):
    assert world.queue.recorder.notifier.flush(30)


def test_request_decision_and_expiry_are_posted_signed_with_slack_text(make, receiver):
    world = make(notifier=notifier(receiver.url))
    s = world.session()
    first = world.gate.call(s, "payments.refund", {"order_id": "O-secret-77", "amount": 250.0})
    second = world.gate.call(s, "payments.refund", {"order_id": "O-2", "amount": 300.0})
    third = world.gate.call(s, "payments.refund", {"order_id": "O-3", "amount": 350.0})
    world.queue.approve(first.approval_id, by=world.people["alice"], note="fine")
    world.queue.deny(second.approval_id, by=world.people["bob"], note="duplicate")
    world.clock.advance(3601)
    world.queue.requests.expire_due()
    flush(world)
    assert receiver.events() == [
        "approval.requested",
        "approval.requested",
        "approval.requested",
        "approval.approved",
        "approval.denied",
        "approval.expired",
    ], [(h["x-proctor-delivery"], json.loads(b)["event"]) for h, b in receiver.posts]
    for headers, body in receiver.posts:
        assert headers["content-type"] == "application/json"
        assert verify_signature(
            SECRET.encode(),
            headers["x-proctor-signature"],
            body,
            now=world.clock.now - 3601,
            tolerance=10**9,
        )
        payload = json.loads(body)
        assert isinstance(payload["text"], str)
        assert payload["text"]
        assert headers["x-proctor-delivery"] == payload["id"]
        assert "O-secret-77" not in body.decode()  # argument values never leave
    texts = [json.loads(b)["text"] for _, b in receiver.posts]
    assert first.approval_id in texts[0]
    assert "Refunds above 100" in texts[0]
    assert "approved by alice" in texts[3]
    assert "denied by bob: duplicate" in texts[4]
    assert third.approval_id in texts[5]
    assert "expired" in texts[5]
    payload = json.loads(receiver.posts[3][1])
    assert (payload["approval_id"], payload["state"], payload["by"]) == (
        first.approval_id,
        "approved",
        "alice",
    )
    # and every notification is marked delivered
    with world.queue.engine.connect() as conn:
        states = conn.execute(select(oversight_events.c.notify)).scalars().all()
    assert set(states) <= {"sent", "none"}
    assert states.count("sent") == 6


def test_break_glass_and_the_kill_switch_notify_too(make, receiver):
    world = make(notifier=notifier(receiver.url))
    world.queue.controls.pause("refunds-bot", by=world.people["otto"], reason="incident 12 ongoing")
    world.queue.controls.issue_break_glass(
        "refunds-bot",
        ["orders.get"],
        environment="production",
        minutes=5,
        reason="read-only triage allowed",
        by=world.people["root"],
    )
    flush(world)
    assert receiver.events() == ["agent.paused", "break_glass.issued"]
    assert "BREAK-GLASS" in json.loads(receiver.posts[1][1])["text"]


def test_failures_are_retried_with_exponential_backoff(world_url_receiver):
    make, receiver = world_url_receiver
    receiver.statuses = [500, 503, 429]
    sleeps = Sleeps()
    world = make(notifier=notifier(receiver.url, sleep=sleeps, backoff=0.5))
    world.gate.call(world.session(), "payments.refund", {"order_id": "O-1", "amount": 250.0})
    flush(world)
    assert len(receiver.posts) == 4
    assert len({h["x-proctor-delivery"] for h, _ in receiver.posts}) == 1  # one event, 4 tries
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_client_error_is_final_and_recorded_as_failed(world_url_receiver):
    make, receiver = world_url_receiver
    receiver.statuses = [400]
    world = make(notifier=notifier(receiver.url))
    world.gate.call(world.session(), "payments.refund", {"order_id": "O-1", "amount": 250.0})
    flush(world)
    assert len(receiver.posts) == 1
    with world.queue.engine.connect() as conn:
        assert "failed" in conn.execute(select(oversight_events.c.notify)).scalars().all()


def test_an_unreachable_receiver_does_not_block_or_fail_the_call(make, receiver):
    receiver.close()  # nothing listens there any more
    sleeps = Sleeps()
    world = make(notifier=notifier(receiver.url, sleep=sleeps, attempts=3, timeout=2))
    out = world.gate.call(world.session(), "payments.refund", {"order_id": "O-1", "amount": 250.0})
    assert out.approval_id  # the request exists whatever the webhook does
    flush(world)
    assert sleeps == [0.5, 1.0]


def test_a_notification_queued_by_a_process_that_died_is_sent_again(make, receiver):
    world = make(notifier=notifier(receiver.url))
    world.gate.call(world.session(), "payments.refund", {"order_id": "O-1", "amount": 250.0})
    flush(world)
    assert len(receiver.posts) == 1
    with world.queue.engine.begin() as conn:  # as if a process had queued it and died
        conn.execute(
            update(oversight_events)
            .where(oversight_events.c.notify == "sent")
            .values(notify="queued", queued_at=world.clock.now)
        )
    world.queue.recorder.relay()
    flush(world)
    assert len(receiver.posts) == 1  # queued recently: another process may still send it
    world.clock.advance(601)
    world.queue.recorder.relay()
    flush(world)
    assert len(receiver.posts) == 2
    assert receiver.posts[0][0]["x-proctor-delivery"] == receiver.posts[1][0]["x-proctor-delivery"]


@pytest.fixture
def world_url_receiver(make, receiver):
    return make, receiver


def test_signatures_refuse_tampering_replay_and_wrong_keys():
    key, body = SECRET.encode(), b'{"text":"hi"}'
    header = sign(key, body, 1_000_000)
    assert verify_signature(key, header, body, now=1_000_000)
    assert not verify_signature(key, header, body + b" ", now=1_000_000)
    assert not verify_signature(key, header, body, now=1_000_000 + 301)
    assert not verify_signature(b"another secret of 16+", header, body, now=1_000_000)
    assert not verify_signature(key, "t=oops,v1=00", body, now=1_000_000)
    assert not verify_signature(key, "", body, now=1_000_000)


@pytest.mark.parametrize(
    ("url", "secret", "match"),
    [
        ("ftp://example.test/x", SECRET, "http"),
        ("file:///etc/passwd", SECRET, "http"),
        ("https://example.test/x", "short", "at least 16 bytes"),
    ],
)
def test_bad_webhook_settings_are_refused(url, secret, match):
    with pytest.raises(ApprovalConfigError, match=match):
        WebhookNotifier(url, secret)
