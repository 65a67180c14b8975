"""The HTTP API: ``create_app(settings)`` builds the FastAPI application of one gateway process.

Every endpoint authenticates the caller (``_auth``), applies its role and its relation to the
session, charges the caller's rate bucket, and then calls the gate or the approval queue. Bad
input is a 422 naming the field; a refusal is a 401, 403, 404, 409 or 429 with a sentence; a
store or Redis that does not answer is a 503. Nothing here decides a tool call: the gate does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic_core import to_jsonable_python
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from proctor.approvals import ApprovalRequest, ApprovalState, Role
from proctor.audit import AuditError, story, verify
from proctor.errors import (
    AccessDeniedError,
    ApprovalError,
    ApprovalNotFoundError,
    ApprovalStateError,
    AuthenticationError,
    HostileContentError,
    UnknownAgentError,
)
from proctor.model import (
    ArgsEdit,
    Decision,
    Outcome,
    OutcomeStatus,
    RuleHit,
    Session,
    ToolCall,
    Verdict,
)
from proctor.server import _heap
from proctor.server import _models as m
from proctor.server._auth import HEADER, Caller, credential_from, require_agent_for
from proctor.server._hot import CHARGED, LeanDecide, decision_body, decision_response
from proctor.server._limits import BodyLimit
from proctor.server._memory_routes import install as install_memory
from proctor.server._metrics import Measure, Metrics
from proctor.server._runtime import Gateway
from proctor.server._sessions import Opened
from proctor.server._settings import GatewaySettings
from proctor.store import StoreError

try:  # redis is part of the server extra; its errors are "unavailable", not a crash
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = OSError  # type: ignore[misc,assignment]

READERS = (Role.VIEWER, Role.APPROVER, Role.ADMIN, Role.AUDITOR)
_ERRORS: dict[int, dict[str, Any]] = {
    code: {"model": m.Problem, "description": text}
    for code, text in {
        401: "No credential, or a wrong one.",
        403: "The caller's role or relation to the resource forbids it.",
        404: "No such session, approval or agent.",
        409: "The resource is not in a state that allows this.",
        413: "The request body is too large.",
        422: "The request is malformed: the message names the field.",
        429: "The caller's rate limit is exhausted; see Retry-After.",
        503: "The store or Redis does not answer.",
    }.items()
}


def _problem(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> Any:
    return JSONResponse({"error": kind, "message": message}, status, headers=headers)


def _approval(req: ApprovalRequest) -> m.ApprovalOut:
    return m.ApprovalOut(
        id=req.id,
        state=str(req.state),
        agent=req.agent,
        environment=req.environment,
        tenant=req.tenant,
        principal=req.principal,
        session_id=req.session_id,
        call_id=req.call_id,
        tool=req.tool,
        args=to_jsonable_python(dict(req.args), fallback=repr),
        agent_reason=req.agent_reason,
        held_by=list(req.held_by),
        approvers=req.approvers,
        groups=list(req.groups),
        context=to_jsonable_python(req.context, fallback=repr),
        created_at=req.created_at,
        expires_at=req.expires_at,
        decided_by=req.decided_by,
        result=to_jsonable_python(req.result, fallback=repr),
        error=req.error,
        votes=[
            m.VoteOut(approver=v.approver, vote=v.vote, note=v.note, at=v.at) for v in req.votes
        ],
        version=req.version,
        edit=_edit(req.edit),
    )


def _edit(edit: ArgsEdit | None) -> m.EditOut | None:
    """What reviewers changed (approve with edit), for the agent and the reviewer."""
    if edit is None:
        return None
    return m.EditOut.model_validate(to_jsonable_python(edit.as_dict(), fallback=repr))


def _session_out(o: Opened) -> m.SessionOut:
    s = o.session
    return m.SessionOut(
        id=s.id,
        agent=s.agent,
        principal=s.principal,
        tenant=s.tenant,
        environment=str(s.environment),  # type: ignore[arg-type]
        scope=dict(s.scope),
        owner=o.owner,
        opened_at=s.opened_at.timestamp(),
        closed=o.closed,
    )


_api_key = APIKeyHeader(
    name=HEADER, auto_error=False, description="NAME:KEY of a principal (proctor access add)."
)
_bearer = HTTPBearer(auto_error=False, description="The same NAME:KEY, as a bearer token.")


async def caller(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Caller:
    """The authenticated caller, charged one token of its rate bucket (429 past it)."""
    gw: Gateway = request.app.state.holder["gw"]
    settings: GatewaySettings = request.app.state.settings
    authorization = request.headers.get("authorization") if api_key is None else None
    name, key = credential_from(authorization, api_key)
    who = await gw.auth.authenticate(name, key)
    if request.scope.get(CHARGED):  # the lean route took this request's token, then handed on
        return who
    wait = await gw.state.take("key:" + who.name, settings.key_rate, settings.key_burst)
    if wait > 0:
        request.app.state.metrics.refusals.labels("rate_limited").inc()
        raise HTTPException(
            429,
            f"rate limit of {settings.key_rate:g}/s for {who.name} exhausted",
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )
    return who


Who = Annotated[Caller, Depends(caller)]
SessionId = Annotated[str, Path(pattern=m.ID)]
ApprovalId = Annotated[str, Path(pattern=m.ID)]
AgentName = Annotated[str, Path(pattern=m.NAME)]


class _GatewayApp(FastAPI):
    """FastAPI with the lean route of ``decide`` in front of everything, FastAPI's own layers
    included (its telemetry check, Starlette's error middleware, the body limit wrappers): the
    lean route answers the common case and hands every other request (and the lifespan) to
    ``FastAPI.__call__`` untouched."""

    lean: LeanDecide | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self.lean
        if lean is None:
            await super().__call__(scope, receive, send)
        else:
            await lean(scope, receive, send)

    async def behind_lean(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application behind the lean route: FastAPI's."""
        await super().__call__(scope, receive, send)


def create_app(
    settings: GatewaySettings,
    *,
    gateway: Gateway | None = None,
    lean: bool = True,
    settle_heap: bool = False,
) -> FastAPI:
    """The gateway's ASGI application. The ``Gateway`` is built at startup (in the serving event
    loop) unless given. ``lean``: the common case of ``decide`` is answered by the lean route
    (``_hot``), in front of FastAPI and its middleware; the answers are the same.
    ``settle_heap`` (for a process that only serves, as ``proctor serve``): once started, what
    start-up built is frozen out of the garbage collector's scans (``_heap.settle``)."""
    metrics = Metrics()
    holder: dict[str, Gateway] = {} if gateway is None else {"gw": gateway}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        gw = gateway if gateway is not None else await asyncio.to_thread(Gateway, settings)
        holder["gw"] = gw
        await gw.start()
        if settle_heap:
            _heap.settle()
        try:
            yield
        finally:
            if settle_heap:
                _heap.unsettle()
            await gw.stop()
            if gateway is None:
                await asyncio.to_thread(gw.close)

    app = _GatewayApp(
        title="Proctor gateway",
        version="1",
        description="The gate between AI agents and their tools, over HTTP (docs/gateway.md).",
        lifespan=lifespan,
        responses=_ERRORS,  # type: ignore[arg-type]
    )
    app.state.metrics = metrics
    app.state.holder = holder
    app.state.settings = settings
    app.add_middleware(Measure, metrics=metrics)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        on_refuse=lambda: metrics.refusals.labels("too_large").inc(),
    )
    if lean:  # in front of FastAPI's own middleware, not only of the application's
        app.lean = LeanDecide(
            app.behind_lean, gateway=lambda: holder.get("gw"), settings=settings, metrics=metrics
        )

    def gw() -> Gateway:
        return holder["gw"]

    # -- errors -------------------------------------------------------------------------------

    def handler(status: int, kind: str) -> Callable[[Request, Exception], Awaitable[Any]]:
        async def handle(_: Request, exc: Exception) -> Any:
            metrics.refusals.labels(kind).inc()
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return _problem(status, kind, str(exc), headers)

        return handle

    # most specific first: Starlette looks exceptions up along the class hierarchy
    app.add_exception_handler(AuthenticationError, handler(401, "unauthenticated"))
    app.add_exception_handler(AccessDeniedError, handler(403, "access_denied"))
    app.add_exception_handler(ApprovalNotFoundError, handler(404, "not_found"))
    app.add_exception_handler(ApprovalStateError, handler(409, "conflict"))
    app.add_exception_handler(ApprovalError, handler(422, "invalid"))
    app.add_exception_handler(UnknownAgentError, handler(422, "unknown_agent"))
    app.add_exception_handler(ValueError, handler(422, "invalid"))
    app.add_exception_handler(StoreError, handler(503, "store_unavailable"))
    app.add_exception_handler(AuditError, handler(503, "audit_unavailable"))
    app.add_exception_handler(RedisError, handler(503, "redis_unavailable"))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> Any:
        if exc.status_code == 400:  # a body FastAPI could not even decode
            metrics.refusals.labels("invalid").inc()
            why = f"the request body is not UTF-8 JSON ({exc.detail})"
            return _problem(422, "invalid", why)
        kind = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        return _problem(exc.status_code, kind, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Any:
        metrics.refusals.labels("invalid").inc()
        errors = to_jsonable_python(exc.errors(), fallback=str)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5]
        )
        body = {"error": "invalid", "message": where or "invalid request", "detail": errors}
        return JSONResponse(body, status_code=422)

    async def session_of(who: Caller, session_id: str, *, use: bool) -> Opened:
        """The session, if ``who`` may see it (``use``: act in it, which only its agent key
        may, and only while it is open). Another key's session is "not found" to an agent."""
        opened = await gw().sessions.get(session_id)
        mine = opened is not None and who.is_agent and opened.owner == who.name
        if opened is None or (not mine and (use or not who.has(Role.ADMIN, Role.AUDITOR))):
            if opened is not None and not who.is_agent:
                raise AccessDeniedError(f"{who.name} may not act in session {session_id}")
            raise ApprovalNotFoundError(f"no session {session_id} of {who.name}")
        if (
            mine
            and who.grant is not None
            and not who.grant.allows(opened.session.agent, opened.session.tenant)
        ):
            raise AccessDeniedError(f"{who.name} no longer has agent {opened.session.agent!r}")
        if use and opened.closed:
            raise ApprovalStateError(f"session {session_id} is closed")
        return opened

    async def shown(who: Caller, req: ApprovalRequest) -> m.ApprovalOut:
        """``req`` for ``who``: an agent sees reviewers' edits through its session's data view
        (``Gate.aview_edit``); people who review see what runs."""
        out = _approval(req)
        if req.edit is None or who.has(*READERS):
            return out
        edit = await gw().gate.aview_edit(req.session(), req.edit)
        args = to_jsonable_python(dict(edit.args), fallback=repr)
        return out.model_copy(update={"args": args, "edit": _edit(edit)})

    async def approval_for(who: Caller, approval_id: str) -> ApprovalRequest:
        req = await gw().queue.run(gw().queue.requests.get, approval_id)
        if who.has(*READERS):
            return req
        if who.is_agent and await gw().sessions.owned(who.name, [req.session_id]):
            return req
        if who.is_agent:  # another agent's request does not exist for this key
            raise ApprovalNotFoundError(f"no approval request {approval_id!r}")
        raise AccessDeniedError(f"{who.name} may not read approval requests")

    # -- health and metrics -------------------------------------------------------------------

    @app.get("/healthz", response_model=m.Health, tags=["health"])
    async def healthz() -> m.Health:
        """The process is up (no dependency checked)."""
        return m.Health(status="ok")

    @app.get(
        "/readyz",
        response_model=m.Health,
        tags=["health"],
        responses={503: {"model": m.Health, "description": "A dependency does not answer."}},
    )
    async def readyz(response: Response) -> m.Health:
        """The store (and Redis, when configured) answer."""
        checks = await gw().ready()
        ok = all(v == "ok" for v in checks.values())
        if not ok:
            response.status_code = 503
        return m.Health(status="ok" if ok else "unavailable", checks=checks)

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # -- sessions -----------------------------------------------------------------------------

    @app.post("/v1/sessions", response_model=m.SessionOut, status_code=201, tags=["sessions"])
    async def open_session(body: m.OpenSession, who: Who) -> m.SessionOut:
        """Open a session (agent keys, for an agent and tenant their grant names)."""
        require_agent_for(who, body.agent, body.tenant)
        session = gw().gate.open_session(
            body.agent,
            principal=body.principal,
            tenant=body.tenant,
            environment=body.environment,
            scope=body.scope,
        )
        opened = await gw().sessions.open(session, who.name)
        return _session_out(opened)

    @app.get("/v1/sessions/{session_id}", response_model=m.SessionOut, tags=["sessions"])
    async def get_session(session_id: SessionId, who: Who) -> m.SessionOut:
        """A session: its agent key, or an auditor or admin."""
        return _session_out(await session_of(who, session_id, use=False))

    @app.post("/v1/sessions/{session_id}/close", response_model=m.SessionOut, tags=["sessions"])
    async def close_session(session_id: SessionId, who: Who) -> m.SessionOut:
        """Close a session: no further ingest, decide or call."""
        opened = await session_of(who, session_id, use=True)
        return _session_out(await gw().sessions.close(opened, who.name))

    @app.post("/v1/sessions/{session_id}/ingest", response_model=m.IngestOut, tags=["sessions"])
    async def ingest(session_id: SessionId, body: m.Ingest, who: Who) -> m.IngestOut:
        """Label content entering the agent's context; return what the model may see."""
        opened = await session_of(who, session_id, use=True)
        try:
            labeled = await gw().gate.aingest(
                opened.session,
                body.content,
                body.source,
                trust=body.trust,
                confidentiality=body.confidentiality,
                tenant=body.tenant,
            )
        except HostileContentError as exc:
            return m.IngestOut(
                content_id=exc.content_id,
                source=body.source,
                trust="untrusted",
                confidentiality=None,
                tenant=None,
                text=None,
                withheld=True,
                reasons=list(exc.reasons),
            )
        return m.IngestOut(
            content_id=labeled.id,
            source=labeled.source,
            trust=str(labeled.label.trust),
            confidentiality=str(labeled.label.confidentiality),
            tenant=labeled.label.tenant,
            text=labeled.text,
            withheld=False,
            reasons=list(labeled.instructions),
        )

    @app.post("/v1/sessions/{session_id}/decide", response_model=m.DecisionOut, tags=["sessions"])
    async def decide(session_id: SessionId, body: m.CallIn, who: Who) -> Any:
        """The verdict on a call the agent will execute itself: allowed (recorded, rate slot
        taken), pending (an approval request, see ``approval_id``) or denied."""
        opened = await session_of(who, session_id, use=True)
        outcome = await gw().gate.aauthorize(
            opened.session,
            body.tool,
            body.args,
            reason=body.reason,
            confidence=body.confidence,
        )
        metrics.verdicts.labels("decide", opened.session.agent, outcome.decision.verdict.name).inc()
        return decision_response(outcome, body.tool)  # the bytes the lean route sends

    @app.post("/v1/sessions/{session_id}/call", response_model=m.CallOut, tags=["sessions"])
    async def call(session_id: SessionId, body: m.CallIn, who: Who) -> dict[str, Any]:
        """Decide and, if allowed, execute an HTTP tool of the policy; its output is ingested
        (labeled, masked) before it comes back."""
        opened = await session_of(who, session_id, use=True)
        outcome = await gw().gate.acall(
            opened.session,
            body.tool,
            body.args,
            reason=body.reason,
            confidence=body.confidence,
        )
        metrics.verdicts.labels("call", opened.session.agent, outcome.decision.verdict.name).inc()
        out = decision_body(outcome, body.tool)
        out.update(
            result=to_jsonable_python(outcome.result, fallback=repr),
            text=outcome.view,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        return out

    # -- approvals ----------------------------------------------------------------------------

    @app.get("/v1/approvals", response_model=m.ApprovalList, tags=["approvals"])
    async def list_approvals(
        who: Who,
        state: Annotated[ApprovalState | None, Query()] = ApprovalState.PENDING,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> m.ApprovalList:
        """Requests in ``state`` (pending by default), oldest first. Agent keys see only their
        sessions' requests."""
        q = gw().queue
        if not (who.has(*READERS) or who.is_agent):
            raise AccessDeniedError(f"{who.name} may not read approval requests")
        if state is ApprovalState.PENDING:
            await q.run(q.requests.expire_due)
        reqs = await q.run(lambda: q.requests.find([state] if state else None, limit=limit))
        if not who.has(*READERS):
            mine = await gw().sessions.owned(who.name, sorted({r.session_id for r in reqs}))
            reqs = [r for r in reqs if r.session_id in mine]
        return m.ApprovalList(approvals=[await shown(who, r) for r in reqs])

    @app.get("/v1/approvals/{approval_id}", response_model=m.ApprovalOut, tags=["approvals"])
    async def show_approval(approval_id: ApprovalId, who: Who) -> m.ApprovalOut:
        """One request, with what a reviewer needs to decide it. An agent reading its own
        request sees reviewers' edits through its session's data view."""
        return await shown(who, await approval_for(who, approval_id))

    @app.post(
        "/v1/approvals/{approval_id}/approve", response_model=m.ApprovalOut, tags=["approvals"]
    )
    async def approve(approval_id: ApprovalId, body: m.ApproveIn, who: Who) -> m.ApprovalOut:
        """Approve (approvers of a required group; never the requester or the agent). With
        ``args``: approve with edit (docs/approvals.md): a refused edit is a 422."""
        who.require(Role.APPROVER, action="approve")
        q = gw().queue
        req = await q.aapprove(
            approval_id, by=who.principal, note=body.note, args=body.args, if_version=body.version
        )
        return _approval(req)

    @app.post("/v1/approvals/{approval_id}/deny", response_model=m.ApprovalOut, tags=["approvals"])
    async def deny(approval_id: ApprovalId, body: m.Note, who: Who) -> m.ApprovalOut:
        """Deny: one eligible approver's denial is final."""
        who.require(Role.APPROVER, action="deny")
        q = gw().queue
        req = await q.run(lambda: q.deny(approval_id, by=who.principal, note=body.note))
        return _approval(req)

    @app.post(
        "/v1/approvals/{approval_id}/wait", response_model=m.ResolutionOut, tags=["approvals"]
    )
    async def wait(
        approval_id: ApprovalId,
        who: Who,
        timeout: Annotated[float, Query(ge=0, le=3600)] = 30.0,
    ) -> m.ResolutionOut:
        """Wait (at most ``timeout`` seconds, capped by the server) until the request is done.
        An approved call of an HTTP tool is executed here, exactly once across gateways; an
        approved call of a tool the agent runs itself returns ``approved`` (then ``claim``)."""
        req = await approval_for(who, approval_id)
        if not (who.is_agent or who.has(Role.ADMIN)):
            raise AccessDeniedError(f"{who.name} may not wait on requests (agent keys do)")
        opened = await gw().sessions.get(req.session_id)  # access was checked just above
        if opened is None:
            raise ApprovalNotFoundError(f"no session {req.session_id} for {approval_id}")
        ticket = gw().queue.ticket(req.id, opened.session)
        deadline = time.monotonic() + min(timeout, settings.max_wait_seconds)
        delay = 0.05
        while True:
            res = await ticket.apoll(execute=True)
            self_run = (
                res.state is ApprovalState.APPROVED and gw().gate.registered(req.tool) is None
            )
            left = deadline - time.monotonic()
            if res.done or self_run or left <= 0:
                break
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)
        return m.ResolutionOut(
            approval_id=res.approval_id,
            state=str(res.state),
            done=res.done,
            executed=res.executed,
            result=to_jsonable_python(res.result, fallback=repr),
            error=res.error,
            decided_by=res.decided_by,
            note=res.note,
            edit=_edit(res.edit),
        )

    @app.post("/v1/approvals/{approval_id}/claim", response_model=m.ClaimOut, tags=["approvals"])
    async def claim(approval_id: ApprovalId, who: Who) -> m.ClaimOut:
        """For a tool the agent runs itself: take the one right to execute an approved call
        (the gate judges it again first: the kill switch, a policy change). A second claim,
        here or on another gateway, is a 409."""
        req = await approval_for(who, approval_id)
        if not who.is_agent:
            raise AccessDeniedError(f"{who.name} may not claim requests (agent keys do)")
        q = gw().queue
        pol = gw().policies.require(req.agent, req.session().environment)
        lease = pol.tools[req.tool].spec.timeout_seconds + 60.0 if req.tool in pol.tools else 60.0
        executor = f"agent:{who.name}"
        got = await q.run(q.requests.claim, req.id, executor, lease)
        if got is None:
            raise ApprovalStateError(f"{req.id} is {req.state}: nothing to claim")
        hit = RuleHit(
            f"approval.{req.id}", Verdict.ALLOW, f"approved by {', '.join(req.approved_by)}"
        )
        outcome = await gw().gate.aexecute_approved(  # the claimed version: edits included
            req.session(), got.request.call(), hit, got.request.held_by, execute=False
        )
        if outcome.status is not OutcomeStatus.ALLOWED:
            await q.run(q.requests.finish, got, outcome)
            raise ApprovalStateError(
                f"{req.id} may not run now: {outcome.error or outcome.decision.reasons}"
            )
        # the agent is told an edit through its session's data view (values a reviewer typed
        # in clear come back masked or tokenized, as the data rules say)
        told = got.request.edit
        if told is not None:
            told = await gw().gate.aview_edit(req.session(), told)
        return m.ClaimOut(
            approval_id=req.id,
            idempotency_key=got.key,
            executor=executor,
            args=to_jsonable_python(
                dict(got.request.args if told is None else told.args), fallback=repr
            ),
            edit=_edit(told),
        )

    @app.post(
        "/v1/approvals/{approval_id}/result", response_model=m.ApprovalOut, tags=["approvals"]
    )
    async def report(approval_id: ApprovalId, body: m.ResultIn, who: Who) -> m.ApprovalOut:
        """What came of a claimed call the agent ran itself: executed (with its result, which
        is ingested into the session as the tool's output) or failed."""
        req = await approval_for(who, approval_id)
        if not who.is_agent:
            raise AccessDeniedError(f"{who.name} may not report results (agent keys do)")
        q = gw().queue
        from proctor.approvals import Claim

        session: Session = req.session()
        status = OutcomeStatus.EXECUTED if body.status == "executed" else OutcomeStatus.FAILED
        call_ = ToolCall(req.tool, dict(req.args), session.id, id=req.call_id)
        if status is OutcomeStatus.EXECUTED:  # the output enters the session, labeled
            await gw().gate.aingest(session, body.result, f"tool:{req.tool}")
        decision = Decision.combine(req.tool, [])
        outcome = Outcome(status, decision, call_.id, body.result, body.error)
        done = await q.run(
            q.requests.finish, Claim(req, f"idem_{req.id}", f"agent:{who.name}"), outcome
        )
        return _approval(done)

    # -- audit --------------------------------------------------------------------------------

    @app.get("/v1/audit/sessions/{session_id}/story", response_model=m.StoryOut, tags=["audit"])
    async def session_story(session_id: SessionId, who: Who) -> m.StoryOut:
        """A session's story, one line per record (its agent key, auditors and admins)."""
        await session_of(who, session_id, use=False)
        lines = await asyncio.to_thread(
            lambda: list(story(gw().audit.records(session_id=session_id)))
        )
        return m.StoryOut(session_id=session_id, lines=lines)

    @app.get("/v1/audit/verify", response_model=m.VerifyOut, tags=["audit"])
    async def audit_verify(who: Who) -> m.VerifyOut:
        """Recompute the chain and check every signed checkpoint (auditors and admins)."""
        who.require(Role.AUDITOR, Role.ADMIN, action="verify the audit log")
        keys = settings.audit.trusted_keys() or None
        rep = await asyncio.to_thread(verify, gw().engine, keys)
        return m.VerifyOut(
            ok=rep.ok,
            records=rep.records,
            last_seq=rep.last_seq,
            head_hash=rep.head_hash,
            checkpoints=rep.checkpoints,
            keys_trusted=rep.keys_trusted,
            problems=[
                m.ProblemOut(seq=p.seq, fault=str(p.fault), message=p.message) for p in rep.problems
            ],
        )

    @app.get(
        "/v1/audit/export",
        tags=["audit"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
    )
    async def audit_export(
        who: Who,
        session: Annotated[str | None, Query(pattern=m.ID)] = None,
        after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    ) -> StreamingResponse:
        """Every record (or one session's), one canonical JSON object per line."""
        who.require(Role.AUDITOR, Role.ADMIN, action="export the audit log")

        def lines() -> Iterator[str]:
            for r in gw().audit.records(session_id=session, after_seq=after_seq):
                yield r.as_json() + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    # -- agents and policies ------------------------------------------------------------------

    def _pause_out(agent: str, p: Any) -> m.PauseOut:
        if p is None:
            return m.PauseOut(agent=agent, paused=False, by=None, reason=None, at=None)
        return m.PauseOut(agent=agent, paused=p.paused, by=p.by, reason=p.reason, at=p.at)

    @app.get("/v1/agents/{agent}", response_model=m.PauseOut, tags=["agents"])
    async def agent_status(agent: AgentName, who: Who) -> m.PauseOut:
        """The agent's kill switch."""
        if who.is_agent and (who.grant is None or agent not in who.grant.agents):
            raise AccessDeniedError(f"{who.name} may not read agent {agent!r}")
        q = gw().queue
        return _pause_out(agent, await q.run(q.controls.status, agent))

    @app.post("/v1/agents/{agent}/pause", response_model=m.PauseOut, tags=["agents"])
    async def pause(agent: AgentName, body: m.PauseIn, who: Who) -> m.PauseOut:
        """Pause the agent everywhere: its next call, on any gateway, holds or denies."""
        who.require(Role.OPERATOR, Role.ADMIN, action="pause agents")
        q = gw().queue
        p = await q.run(lambda: q.controls.pause(agent, by=who.principal, reason=body.reason))
        return _pause_out(agent, p)

    @app.post("/v1/agents/{agent}/resume", response_model=m.PauseOut, tags=["agents"])
    async def resume(agent: AgentName, body: m.ResumeIn, who: Who) -> m.PauseOut:
        """Resume a paused agent."""
        who.require(Role.OPERATOR, Role.ADMIN, action="resume agents")
        q = gw().queue
        p = await q.run(lambda: q.controls.resume(agent, by=who.principal, reason=body.reason))
        return _pause_out(agent, p)

    @app.get("/v1/policies", response_model=m.PolicyList, tags=["policies"])
    async def policies(who: Who) -> m.PolicyList:
        """The loaded policies (admins and auditors). Policies change only by editing the
        files and restarting the gateway: no endpoint changes them."""
        who.require(Role.ADMIN, Role.AUDITOR, action="read policies")
        return m.PolicyList(
            policies=[
                m.PolicyOut(
                    agent=p.agent,
                    environments=sorted(str(e) for e in p.spec.environments),
                    file=p.file,
                    digest=p.digest,
                    tools=sorted(p.tools),
                )
                for p in gw().policies.policies
            ]
        )

    install_memory(app, caller)  # /v1/memory and a session's context and remember
    return app
