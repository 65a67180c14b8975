"""Webhook notifications: a JSON POST with a Slack-compatible ``text`` field, signed with HMAC,
retried with exponential backoff on a background thread.

The signature header is ``X-Proctor-Signature: t=<unix time>,v1=<hex>`` where the hex is
HMAC-SHA256(secret, ``"<t>." + body``): the receiver recomputes it over the raw body and
refuses old timestamps (``verify_signature``). Delivery is at least once: ``X-Proctor-Delivery``
carries the event id, for the receiver to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from proctor.errors import ApprovalConfigError

log = logging.getLogger("proctor.approvals.notify")

SIGNATURE_HEADER = "X-Proctor-Signature"
DELIVERY_HEADER = "X-Proctor-Delivery"
EVENT_HEADER = "X-Proctor-Event"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message: ``event`` (``approval.requested``...), a line of ``text`` for people, and
    machine-readable ``data``. Never argument values: ids, tools, rule ids, states, names."""

    id: str
    event: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> bytes:
        payload = {**self.data, "id": self.id, "event": self.event, "text": self.text}
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


Done = Callable[[Notification, bool], None]


class Notifier(Protocol):
    """Where notifications go. ``submit`` must not block the caller for long; ``done`` is called
    once per notification with whether it was delivered."""

    def submit(self, note: Notification, done: Done | None = None) -> None: ...

    def close(self, timeout: float = 10.0) -> None: ...


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, header: str, body: bytes, *, now: float | None = None, tolerance: float = 300
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of
    ``now``: what a receiver checks before trusting a notification."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = sign(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookNotifier:
    """POSTs each notification to ``url``, signed with ``secret``; retries connection errors,
    timeouts, 429 and 5xx up to ``attempts`` times, waiting ``backoff * 2**n`` seconds (at most
    ``max_backoff``) between tries; a 4xx other than 429 is final. Sends from one background
    thread, in order; ``flush`` waits for the queue to drain."""

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApprovalConfigError(f"webhook URL must be http(s)://host/..., got {url!r}")
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ApprovalConfigError("webhook secret must be at least 16 bytes")
        if attempts < 1:
            raise ApprovalConfigError(f"attempts must be >= 1, got {attempts}")
        self.url = url
        self._secret = key
        self.attempts, self.backoff, self.max_backoff = attempts, backoff, max_backoff
        self.timeout = timeout
        self._sleep, self._clock = sleep, clock
        self._queue: queue.Queue[tuple[Notification, Done | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, note: Notification, done: Done | None = None) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="proctor-webhook", daemon=True
                )
                self._thread.start()
        self._queue.put((note, done))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                note, done = item
                ok = self.deliver(note)
                if done is not None:
                    try:
                        done(note, ok)
                    except Exception:
                        log.exception("webhook: marking %s delivered failed", note.id)
            finally:
                self._queue.task_done()

    def deliver(self, note: Notification) -> bool:
        """Send one notification now, with retries. True if the receiver accepted it (2xx)."""
        body = note.body()
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))
            status = self._post(note, body)
            if 200 <= status < 300:
                return True
            if 400 <= status < 500 and status != 429:
                log.error("webhook refused %s with HTTP %d; not retrying", note.id, status)
                return False
        log.error("webhook: gave up on %s after %d attempts", note.id, self.attempts)
        return False

    def _post(self, note: Notification, body: bytes) -> int:
        """The HTTP status, or 0 for a connection error or timeout."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "proctor-webhook/1",
                SIGNATURE_HEADER: sign(self._secret, body, int(self._clock())),
                DELIVERY_HEADER: note.id,
                EVENT_HEADER: note.event,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning("webhook %s: %s", note.id, exc)
            return 0

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted notification was handled; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (waiting at most ``timeout``), then stop the thread."""
        self.flush(timeout)
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout)
                self._thread = None
