"""The lean route of ``POST /v1/sessions/{id}/decide``: the request every agent makes for every
tool call, answered without FastAPI's machinery when it is the common case.

``LeanDecide`` sits in front of the application, FastAPI's own layers included (its telemetry
check, Starlette's error middleware, the body limit wrappers: ``create_app`` calls it first).
It answers a request itself only when everything about it is ordinary: a JSON body of a
declared length within the limit, that ``CallIn`` validates (the same model, on the same
``json.loads``), a credential that the key cache already holds, a token in the key's rate
bucket, and a session that this key opened and may act in, open. Then it calls the same gate
(``Gate.aauthorize``), counts the same metrics and answers the same bytes
(``decision_response``); an error on the way gets Starlette's 500, as it would behind it.
Anything else (a bad credential or one not cached, bad JSON, a wrong session, a closed one, a
body too large or of no declared length, a refused rate token, an error of the store or of
Redis) goes on to the FastAPI route untouched, body included: that route gives every refusal
its one answer, with or without the lean route (tests/server/test_hot.py compares them). The
one side effect, the rate token, is taken with the session's read (one round trip to Redis);
a request handed on after it was taken is marked (``CHARGED``), and the FastAPI route does not
take a second one.
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_json
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proctor.errors import AuthenticationError
from proctor.model import Decision, Outcome
from proctor.server import _models as m
from proctor.server._auth import Caller, credential_from
from proctor.server._metrics import Metrics
from proctor.server._runtime import Gateway
from proctor.server._settings import GatewaySettings
from proctor.server._state import PREFETCHED

ROUTE = "/v1/sessions/{session_id}/decide"
CHARGED = "proctor.charged"  # in a request's scope: the lean route took its rate token
_PATH = re.compile(r"/v1/sessions/([A-Za-z0-9_]{1,128})/decide")
_JSON = b"application/json"
_SESSIONS = 100_000  # sessions whose agent the lean route remembers
# what Starlette's ServerErrorMiddleware answers an error with (no debug, no 500 handler)
_SERVER_ERROR = PlainTextResponse("Internal Server Error", status_code=500)


def _hits(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "step": str(s.step),
            "verdict": s.verdict.name,
            "status": str(s.status),
            "hits": [
                {"rule_id": h.rule_id, "verdict": h.verdict.name, "reason": h.reason}
                for h in s.hits
            ],
        }
        for s in decision.steps
    ]


def decision_body(outcome: Outcome, tool: str) -> dict[str, Any]:
    """What ``decide`` and ``call`` answer about the verdict (``DecisionOut``)."""
    d = outcome.decision
    return {
        "call_id": outcome.call_id,
        "tool": tool,
        "verdict": d.verdict.name,
        "status": str(outcome.status),
        "approval_id": outcome.approval_id,
        "reasons": list(d.reasons),
        "rule_ids": list(d.rule_ids),
        "steps": _hits(d),
        "receipt": None if outcome.receipt is None else outcome.receipt.to_dict(),
    }


def decision_json(outcome: Outcome, tool: str) -> bytes:
    """``decision_body`` as compact UTF-8 JSON (``pydantic_core``: no Python encoder)."""
    return to_json(decision_body(outcome, tool))


def decision_response(outcome: Outcome, tool: str) -> Response:
    """The answer of ``decide``, as the FastAPI route sends it (the lean route sends the same
    bytes and headers)."""
    return Response(decision_json(outcome, tool), media_type="application/json")


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body already read handed out again first."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class LeanDecide:
    """ASGI middleware: the common case of ``decide`` answered here (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        gateway: Callable[[], Gateway | None],
        settings: GatewaySettings,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self._gateway = gateway
        self._settings = settings
        self._metrics = metrics
        self._latency = metrics.latency.labels(ROUTE)
        self._ok = metrics.requests.labels(ROUTE, "POST", "200")
        self._verdicts: dict[tuple[str, str], Any] = {}  # (agent, verdict) -> counter
        self._agents: OrderedDict[str, str] = OrderedDict()  # session id -> its agent

    def _remember(self, session_id: str, agent: str) -> None:
        if self._agents.get(session_id) != agent:
            self._agents[session_id] = agent
            while len(self._agents) > _SESSIONS:
                self._agents.popitem(last=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = _PATH.fullmatch(scope["path"])
        gw = self._gateway()
        if match is None or gw is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        who, length = self._ordinary(scope, gw)
        if who is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":  # the client left: nobody to answer
                return
            chunk = msg.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > length or not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        if not await self._decide(scope, gw, who, match.group(1), body, send, started):
            await self.app(scope, _replay(body, receive), send)

    def _ordinary(self, scope: Scope, gw: Gateway) -> tuple[Caller | None, int]:
        """The cached caller and the declared length, or None: not for the lean route."""
        length: int | None = None
        content_type = api_key = authorization = None
        for name, value in scope["headers"]:
            if name == b"content-length" and length is None:
                length = int(value) if value.isdigit() else -1
            elif name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"x-proctor-key" and api_key is None:
                api_key = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
        if (
            length is None
            or not 0 < length <= self._settings.max_body_bytes
            or content_type != _JSON
        ):
            return None, 0
        try:  # as the FastAPI route reads them: an empty key is no key
            name, key = credential_from(None if api_key else authorization, api_key or None)
        except AuthenticationError:
            return None, 0
        return gw.auth.cached(name, key), length

    async def _decide(
        self,
        scope: Scope,
        gw: Gateway,
        who: Caller,
        session_id: str,
        body: bytes,
        send: Send,
        started: float,
    ) -> bool:
        """Answer the call if it is ordinary; False (nothing done, nothing sent) otherwise. An
        error before the answer is sent gets the 500 that Starlette's ``ServerErrorMiddleware``
        would send (the lean route runs in front of it), and goes on to the server."""
        try:
            data = await self._answer(scope, gw, who, session_id, body)
        except Exception:
            await _SERVER_ERROR(scope, _nothing, send)
            raise
        if data is None:
            return False
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(data)).encode()),
                    (b"content-type", _JSON),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
        self._latency.observe(time.perf_counter() - started)
        self._ok.inc()
        return True

    async def _answer(
        self, scope: Scope, gw: Gateway, who: Caller, session_id: str, body: bytes
    ) -> bytes | None:
        """The answer's body if the call is ordinary (then decided and recorded); None (nothing
        done) otherwise."""
        try:
            call = m.CallIn.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError too
            return None
        settings = self._settings
        try:  # the rate token, the session and what the gate reads: one round trip to Redis
            wait, cached, pre = await gw.state.take_and_get(
                "key:" + who.name,
                settings.key_rate,
                settings.key_burst,
                session_id,
                self._agents.get(session_id),
            )
            if wait > 0:  # not taken: the FastAPI route refuses it again (429)
                return None
            scope[CHARGED] = True  # taken: the FastAPI route does not take another
            opened = await gw.sessions.read_through(session_id, cached)
        except Exception:  # the FastAPI route meets it again and answers the error
            return None
        if opened is None or opened.closed or not who.is_agent or opened.owner != who.name:
            return None
        session = opened.session
        if who.grant is not None and not who.grant.allows(session.agent, session.tenant):
            return None
        self._remember(session_id, session.agent)  # whose kill switch to read next time
        # from here on the call is ours: the gate never raises
        token = PREFETCHED.set(pre)
        try:
            outcome = await gw.gate.aauthorize(
                session, call.tool, call.args, reason=call.reason, confidence=call.confidence
            )
        finally:
            PREFETCHED.reset(token)
        verdict = (session.agent, outcome.decision.verdict.name)
        counter = self._verdicts.get(verdict)
        if counter is None:
            counter = self._verdicts[verdict] = self._metrics.verdicts.labels("decide", *verdict)
        counter.inc()
        return decision_json(outcome, call.tool)
