"""The lean route of ``decide`` (``_hot``): it answers the common case as the FastAPI route
does, and hands every other request to the FastAPI route untouched, so that each refusal gets
the same answer with and without it. The one-write HTTP protocol (``_http``) puts the same
bytes on the wire as uvicorn's own. The key cache's single flight reads the registry once."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from proctor.errors import AuthenticationError
from proctor.server import _hot
from proctor.server._auth import Authenticator
from proctor.server._http import OneWriteProtocol

from ._world import World, running, settings_for, write_policies

DECIDE = "/v1/sessions/{}/decide"
REFUND = {"tool": "payments.refund", "args": {"order_id": "O-1", "amount": 40.0}}
_IDS = re.compile(r"\b(?:ses|call|rec|apr)_[0-9a-f]{16}\b")


@pytest.fixture
def pair(sqlite_url, tmp_path) -> Iterator[tuple[World, World]]:
    """Two gateways on one policy, on their own stores: with and without the lean route."""
    policy = write_policies(tmp_path)
    with ExitStack() as stack:
        worlds = []
        for lean in (True, False):
            url = sqlite_url.replace(".db", f"-{lean}.db")
            settings = settings_for(url, policy, key_rate=5.0, key_burst=60)
            worlds.append(stack.enter_context(running(settings, lean=lean)))
        yield worlds[0], worlds[1]


def _answer(r: httpx.Response) -> tuple[int, str | None, Any]:
    """What a client sees, ids and keys aside (each gateway makes its own)."""
    try:
        body: Any = json.loads(_IDS.sub("<id>", r.text))
    except ValueError:
        body = r.text
    if isinstance(body, dict) and body.get("receipt"):  # signed: its hashes and time differ
        body["receipt"] = sorted(body["receipt"])
    return r.status_code, r.headers.get("content-type"), body


def _spy(monkeypatch) -> list[bool]:
    """Whether each request the lean route looked at was answered by it."""
    answered: list[bool] = []
    real = _hot.LeanDecide._decide

    async def decide(self: _hot.LeanDecide, *args: Any) -> bool:
        done = await real(self, *args)
        answered.append(done)
        return done

    monkeypatch.setattr(_hot.LeanDecide, "_decide", decide)
    return answered


Request = Callable[[World, str], httpx.Response]


def _with(headers: dict[str, str], content: bytes | str) -> Request:
    return lambda w, sid: w.client.post(DECIDE.format(sid), headers=headers, content=content)


def _as(who: str, content: bytes | str, **headers: str) -> Request:
    def send(w: World, sid: str) -> httpx.Response:
        h = {**w.h(who), "Content-Type": "application/json", **headers}
        return w.client.post(DECIDE.format(sid), headers=h, content=content)

    return send


def _to(path: str) -> Request:
    return lambda w, sid: w.post(path.format(sid), "bot", REFUND)


BODY = json.dumps(REFUND)
REFUSALS: dict[str, Request] = {
    "no-credential": _with({"Content-Type": "application/json"}, BODY),
    "wrong-key": _with({"X-Proctor-Key": "bot:nope", "Content-Type": "application/json"}, BODY),
    "no-colon": _with({"X-Proctor-Key": "bot", "Content-Type": "application/json"}, BODY),
    "basic-auth": _with(
        {"Authorization": "Basic Ym90Om5vcGU=", "Content-Type": "application/json"}, BODY
    ),
    "bad-json": _as("bot", b'{"tool": "payments.refund", '),
    "not-utf8": _as("bot", b'{"tool": "\xff\xfe"}'),
    "not-an-object": _as("bot", b'["payments.refund"]'),
    "bad-tool-name": _as("bot", json.dumps({"tool": "Payments Refund", "args": {}})),
    "extra-field": _as("bot", json.dumps({**REFUND, "admin": True})),
    "confidence-out-of-range": _as("bot", json.dumps({**REFUND, "confidence": 2})),
    "empty-body": _as("bot", b""),
    "text-content-type": _as("bot", BODY, **{"Content-Type": "text/plain"}),
    "oversize": _as("bot", json.dumps({**REFUND, "reason": "x" * 1_100_000})),
    "another-agents-session": _as("bot2", BODY),
    "approver-key": _as("alice", BODY),
    "unknown-session": lambda w, sid: w.post(DECIDE.format("ses_0123456789abcdef"), "bot", REFUND),
    "bad-session-id": _to("/v1/sessions/ses-1/decide"),
    "decide-get": lambda w, sid: w.get(DECIDE.format(sid), "bot"),
}


def test_a_nan_in_the_arguments_is_the_same_denial(pair):
    """``json.loads`` reads NaN (as FastAPI does); the schema step denies it."""
    got = []
    for w in pair:
        sid = w.open("bot")
        nan = b'{"tool": "payments.refund", "args": {"order_id": "O-1", "amount": NaN}}'
        got.append(_answer(_as("bot", nan)(w, sid)))
    assert got[0] == got[1]
    assert got[0][2]["verdict"] == "DENY"


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_is_the_same_with_and_without_the_lean_route(pair, case, monkeypatch):
    answered = _spy(monkeypatch)
    got = []
    for w in pair:
        sid = w.open("bot")
        assert w.post(DECIDE.format(sid), "bot", REFUND).status_code == 200  # key cached
        for other in ("bot2", "alice"):  # their keys cached too: the lean route looks
            w.get("/v1/approvals", other)
        got.append(_answer(REFUSALS[case](w, sid)))
    assert got[0] == got[1]
    assert got[0][0] >= 400
    assert answered[0] is True  # the lean route answered the first decide
    assert True not in answered[1:]  # and none of the refusals


def test_a_closed_session_is_the_same_refusal(pair, monkeypatch):
    answered = _spy(monkeypatch)
    got = []
    for w in pair:
        sid = w.open("bot")
        w.post(DECIDE.format(sid), "bot", REFUND)
        assert w.post(f"/v1/sessions/{sid}/close", "bot").status_code == 200
        got.append(_answer(w.post(DECIDE.format(sid), "bot", REFUND)))
    assert got[0] == got[1]
    assert got[0][0] == 409
    assert answered == [True, False]


def test_an_exhausted_rate_bucket_is_the_same_429(sqlite_url, tmp_path, monkeypatch):
    answered = _spy(monkeypatch)
    policy = write_policies(tmp_path)
    got = []
    for lean in (True, False):
        url = sqlite_url.replace(".db", f"-{lean}-429.db")
        settings = settings_for(url, policy, key_rate=0.001, key_burst=10)  # no refill
        with running(settings, lean=lean) as w:
            sid = w.open("bot")
            codes = [w.post(DECIDE.format(sid), "bot", REFUND) for _ in range(12)]
            assert [r.status_code for r in codes] == [200] * 9 + [429] * 3
            got.append((*_answer(codes[-1]), int(codes[-1].headers["retry-after"])))
    assert got[0][:-1] == got[1][:-1]
    # Retry-After counts down while the run lasts (0.001 tokens a second: one token in 1,000
    # s, less what has refilled since the bucket was first drawn): both near 1,000 s
    assert all(900 <= g[-1] <= 1000 for g in got)
    assert answered == [True] * 9 + [False] * 3  # the refused ones went on to FastAPI


@pytest.mark.parametrize(
    ("amount", "verdict", "status"),
    [(40.0, "ALLOW", "allowed"), (500.0, "HOLD", "pending"), (5000.0, "DENY", "denied")],
)
def test_the_lean_route_answers_as_the_fastapi_route(pair, monkeypatch, amount, verdict, status):
    answered = _spy(monkeypatch)
    got = []
    stories = []
    for w in pair:
        sid = w.open("bot")
        w.get(f"/v1/sessions/{sid}", "bot")  # the key is cached from here on
        call = {"tool": "payments.refund", "args": {"order_id": "O-7", "amount": amount}}
        r = w.post(DECIDE.format(sid), "bot", call, params={"x": "1"})
        assert r.headers["content-length"] == str(len(r.content))
        got.append(_answer(r))
        metrics = w.client.get("/metrics").text
        assert (
            'proctor_http_requests_total{method="POST",route="/v1/sessions/{session_id}/decide",'
            'status="200"} 1.0' in metrics
        )
        assert (
            f'proctor_decisions_total{{agent="refunds-bot",endpoint="decide",verdict="{verdict}"}}'
            " 1.0" in metrics
        )
        story = w.get(f"/v1/audit/sessions/{sid}/story", "bot").json()["lines"]
        stories.append([_IDS.sub("<id>", line.split(" ", 2)[2]) for line in story])
    assert got[0] == got[1]
    assert stories[0] == stories[1]  # the same records: opened, decision, (approval,) outcome
    code, kind, body = got[0]
    assert (code, kind) == (200, "application/json")
    assert (body["verdict"], body["status"]) == (verdict, status)
    assert body["receipt"] is not None
    assert answered == [True]  # the lean gateway's call; the other has no lean route


def test_a_key_not_cached_goes_through_fastapi_then_the_lean_route(pair, monkeypatch):
    lean = pair[0]
    sid = lean.open("bot")
    lean.gateway.auth.forget()
    answered = _spy(monkeypatch)
    assert lean.post(DECIDE.format(sid), "bot", REFUND).status_code == 200
    assert lean.post(DECIDE.format(sid), "bot", REFUND).status_code == 200
    assert answered == [True]  # the first was not looked at: its key was not cached


def test_the_lean_route_answers_in_front_of_fastapi(pair, monkeypatch):
    """The common decide never enters FastAPI (its telemetry check, Starlette's middleware);
    every other request does."""
    entered: list[str] = []
    real = FastAPI.__call__

    async def counted(self: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["type"])
        await real(self, scope, receive, send)

    lean = pair[0]
    sid = lean.open("bot")
    lean.post(DECIDE.format(sid), "bot", REFUND)  # the key cached
    monkeypatch.setattr(FastAPI, "__call__", counted)
    assert lean.post(DECIDE.format(sid), "bot", REFUND).status_code == 200
    assert entered == []
    assert lean.get(f"/v1/sessions/{sid}", "bot").status_code == 200
    assert entered == ["http"]


def test_an_error_while_answering_is_the_same_500(pair, monkeypatch):
    """An error in the lean route, in front of Starlette's error middleware, gets the answer
    that middleware gives it behind (and still reaches the server, which logs it)."""
    got = []
    for w in pair:
        sid = w.open("bot")
        assert w.post(DECIDE.format(sid), "bot", REFUND).status_code == 200  # key cached

        def broken(outcome: Any, tool: str) -> bytes:
            raise RuntimeError("cannot encode")

        with monkeypatch.context() as m:
            m.setattr(_hot, "decision_json", broken)
            r = w.post(DECIDE.format(sid), "bot", REFUND)
        got.append((r.status_code, r.headers["content-type"], r.text))
    assert got[0] == got[1] == (500, "text/plain; charset=utf-8", "Internal Server Error")


# -- the key cache: one registry read for concurrent requests --------------------------------


class _Counting:
    def __init__(self, auth: Authenticator) -> None:
        self.calls = 0
        self.real = auth.queue.access.authenticate

    def __call__(self, name: str, key: str) -> Any:
        self.calls += 1
        time.sleep(0.05)  # long enough for every request to join
        return self.real(name, key)


def test_concurrent_misses_share_one_registry_read(pair, monkeypatch):
    w = pair[0]
    auth = w.gateway.auth
    counting = _Counting(auth)
    monkeypatch.setattr(auth.queue.access, "authenticate", counting)

    async def many() -> list[Any]:
        return await asyncio.gather(*(auth.authenticate("bot", w.keys["bot"]) for _ in range(20)))

    callers = asyncio.run(many())
    assert counting.calls == 1
    assert {c.name for c in callers} == {"bot"}


def test_concurrent_failures_are_each_checked_and_refused(pair, monkeypatch):
    w = pair[0]
    auth = w.gateway.auth
    counting = _Counting(auth)
    monkeypatch.setattr(auth.queue.access, "authenticate", counting)

    async def many() -> list[Any]:
        tries = (auth.authenticate("bot", "wrong") for _ in range(5))
        return await asyncio.gather(*tries, return_exceptions=True)

    results = asyncio.run(many())
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert counting.calls == 5  # every failed attempt reaches the registry (and its record)


# -- one write per response --------------------------------------------------------------------


async def _tiny(scope: Any, receive: Any, send: Any) -> None:
    """Answers with a length, chunked (no length), or an empty body, as the path says."""
    if scope["type"] != "http":
        return
    body = b'{"ok":true,"text":"\xc3\xa9"}'
    headers = [(b"content-type", b"application/json")]
    if scope["path"] != "/chunked":
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if scope["path"] == "/chunked":
        await send({"type": "http.response.body", "body": body[:5], "more_body": True})
        await send({"type": "http.response.body", "body": body[5:]})
    else:
        await send({"type": "http.response.body", "body": body})


def _serve(protocol: type) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(_tiny, port=port, http=protocol, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return server, thread, port


def _exchange(port: int) -> bytes:
    """Three requests on one connection (keep-alive), the last asking to close it."""
    reqs = (
        b"GET /sized HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /sized HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(reqs)
        got = b""
        while chunk := c.recv(65536):
            got += chunk
    return re.sub(rb"date: [^\r]*\r\n", b"", got)


class _CountedTransport:
    def __init__(self, transport: Any, writes: list[int]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(len(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _counting(base: type, writes: list[int]) -> type:
    class Counting(base):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(_CountedTransport(transport, writes))

    return Counting


def test_one_write_responses_are_the_bytes_uvicorn_sends_in_fewer_writes():
    wire = []
    writes: list[list[int]] = []
    for protocol in (HttpToolsProtocol, OneWriteProtocol):
        writes.append([])
        server, thread, port = _serve(_counting(protocol, writes[-1]))
        try:
            wire.append(_exchange(port))
        finally:
            server.should_exit = True
            thread.join(10)
    assert wire[0] == wire[1]
    assert wire[0].count(b"HTTP/1.1 200 OK") == 3
    assert b"transfer-encoding: chunked" in wire[0]
    # uvicorn: head and body apart (2), head and two chunks (3), a HEAD's head (1);
    # here: one write, the head with the first chunk then the last, the head alone
    assert (len(writes[0]), len(writes[1])) == (6, 4)
    assert sum(writes[0]) == sum(writes[1])


def test_a_request_handed_on_after_its_token_is_charged_once(sqlite_url, tmp_path):
    """Requests the lean route hands on after taking their rate token (another agent's session)
    cost one token each, as without the lean route: the same number of calls fits the burst."""
    policy = write_policies(tmp_path)
    fitted = []
    for lean in (True, False):
        url = sqlite_url.replace(".db", f"-{lean}-charge.db")
        settings = settings_for(url, policy, key_rate=0.001, key_burst=40)  # no refill
        with running(settings, lean=lean) as w:
            mine, theirs = w.open("bot"), w.open("bot2")
            for _ in range(10):
                assert w.post(DECIDE.format(theirs), "bot", REFUND).status_code == 404
            codes = [w.post(DECIDE.format(mine), "bot", REFUND).status_code for _ in range(40)]
            fitted.append(codes.count(200))
            assert codes.count(429) == 40 - codes.count(200)
    assert fitted[0] == fitted[1] == 40 - 1 - 10  # the burst, less the open and the refusals
