"""``/v1/memory``: agent memory over HTTP (docs/memory.md), and a session's context and
remember endpoints.

Who may touch whose memory is decided here, from the authenticated caller, never from the
request alone:

- an **agent key** puts, gets, searches and deletes in scopes whose agent and tenant its grant
  names (``proctor access grant``); a scope of another tenant is a 403 whatever the request
  says. In its sessions it assembles context and remembers.
- a **person** reviews (role ``approver``) or erases a subject (role ``admin``) in a tenant
  only as a member of that tenant's memory group ``memory@TENANT`` (``proctor access add NAME
  --role approver --group memory@acme``). People are otherwise deployment-wide; their memory
  access is not.

Agent keys never review nor erase; people never put. Memory calls run in worker threads (the
``Memory`` API is synchronous); its typed errors become typed problems: a bad scope or item
422, a leak 403, vector search without an embedder 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from proctor.approvals import Role
from proctor.errors import (
    AccessDeniedError,
    ApprovalNotFoundError,
    ApprovalStateError,
    MemoryItemError,
    MemoryLeakError,
    MemoryScopeError,
    MemoryVectorError,
)
from proctor.flow import Labeled, Trust
from proctor.memory import Origin, Scope
from proctor.server import _memory_models as mm
from proctor.server._auth import Caller
from proctor.server._models import ID
from proctor.server._runtime import Gateway
from proctor.server._sessions import Opened

ItemId = Annotated[str, Path(pattern=mm.ITEM_ID)]
SessionId = Annotated[str, Path(pattern=ID)]
Name = Annotated[str, Query(pattern=mm.SCOPE_NAME)]
OptName = Annotated[str | None, Query(pattern=mm.SCOPE_NAME)]
TAGS: list[str | Enum] = ["memory"]
GROUP = "memory@"  # a person's group memory@TENANT: that tenant's memory
_PROBLEMS: dict[type[Exception], tuple[int, str]] = {
    MemoryScopeError: (422, "invalid_scope"),
    MemoryItemError: (422, "invalid"),
    MemoryLeakError: (403, "memory_leak"),
    MemoryVectorError: (409, "vector_search_unavailable"),
}


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.holder["gw"]
    return gw


Gw = Annotated[Gateway, Depends(gateway)]


def query_scope(tenant: Name, workspace: Name, agent: Name, subject: OptName = None) -> mm.ScopeIn:
    """A scope from the query string (for GET and DELETE)."""
    return mm.ScopeIn(tenant=tenant, workspace=workspace, agent=agent, subject=subject)


QueryScope = Annotated[mm.ScopeIn, Depends(query_scope)]


def agent_scope(who: Caller, scope: Scope) -> Scope:
    """``scope`` if ``who`` is an agent key whose grant names its agent and tenant."""
    who.require(Role.AGENT, action="use agent memory (agent keys do)")
    if who.grant is None or not who.grant.allows(scope.agent, scope.tenant):
        raise AccessDeniedError(
            f"{who.name} may not use the memory of agent {scope.agent!r} in tenant "
            f"{scope.tenant!r} (its grant does not name them)"
        )
    return scope


def person_for(who: Caller, tenant: str, role: Role, action: str) -> None:
    """``who`` is a person with ``role`` in the memory group of ``tenant``."""
    who.require(role, action=action)
    if who.is_agent or GROUP + tenant not in who.principal.groups:
        raise AccessDeniedError(
            f"{who.name} may not {action} in tenant {tenant!r}: needs group {GROUP}{tenant}"
        )


def scope_of(body: mm.ScopeIn) -> Scope:
    return Scope(body.tenant, body.workspace, body.agent, body.subject)


async def run(fn: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(fn)


def add_routes(app: FastAPI, caller: Callable[..., Awaitable[Caller]]) -> None:
    """The routes, on ``app`` itself (no included router: ``app.routes`` stays one flat list
    of routes with paths); ``caller`` is the gateway's authenticating dependency."""
    authenticated = Depends(caller)

    # -- the agent's operations ---------------------------------------------------------------

    @app.post("/v1/memory/items", tags=TAGS, response_model=mm.ItemOut, status_code=201)
    async def put(body: mm.PutIn, gw: Gw, who: Caller = authenticated) -> mm.ItemOut:
        """Store an item in a scope of the agent key's grant. Its source is the key
        (`agent:NAME`), untrusted: it is quarantined or fenced as the policy says. Refused
        (403 `memory_leak`) if it carries another tenant's or subject's values."""
        scope = agent_scope(who, scope_of(body.scope))
        origin = Origin(f"agent:{who.name}", Trust.UNTRUSTED)
        item = await run(lambda: gw.memory.put(scope, body.text, kind=body.kind, origin=origin))
        return mm.ItemOut.of(item)

    @app.get("/v1/memory/items/{item_id}", tags=TAGS, response_model=mm.ItemOut)
    async def get(
        item_id: ItemId, scope: QueryScope, gw: Gw, who: Caller = authenticated
    ) -> mm.ItemOut:
        """An item the scope may see (not awaiting review, not expired); 404 otherwise."""
        s = agent_scope(who, scope_of(scope))
        item = await run(lambda: gw.memory.get(s, item_id))
        if item is None:
            raise ApprovalNotFoundError(f"no memory item {item_id} in {s}")
        return mm.ItemOut.of(item)

    @app.delete("/v1/memory/items/{item_id}", tags=TAGS, response_model=mm.Deleted)
    async def delete(
        item_id: ItemId, scope: QueryScope, gw: Gw, who: Caller = authenticated
    ) -> mm.Deleted:
        """Delete an item the scope may see (whatever its status); audited."""
        s = agent_scope(who, scope_of(scope))
        done = await run(lambda: gw.memory.delete(s, item_id, by=f"agent:{who.name}"))
        if not done:
            raise ApprovalNotFoundError(f"no memory item {item_id} in {s}")
        return mm.Deleted(id=item_id)

    @app.post("/v1/memory/search", tags=TAGS, response_model=mm.ItemList)
    async def search(body: mm.SearchIn, gw: Gw, who: Caller = authenticated) -> mm.ItemList:
        """Items of the scope, best first: keyword, vector or hybrid search."""
        s = agent_scope(who, scope_of(body.scope))
        found = await run(lambda: gw.memory.search(s, body.query, limit=body.limit, mode=body.mode))
        return mm.ItemList(items=[mm.ItemOut.of(i) for i in found])

    # -- reviewers ----------------------------------------------------------------------------

    @app.get("/v1/memory/review", tags=TAGS, response_model=mm.ItemList)
    async def pending(
        tenant: Name,
        gw: Gw,
        workspace: OptName = None,
        agent: OptName = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        who: Caller = authenticated,
    ) -> mm.ItemList:
        """Items of a tenant awaiting review, oldest first (approvers of `memory@TENANT`)."""
        person_for(who, tenant, Role.APPROVER, "review memory")
        items = await run(
            lambda: gw.memory.pending(tenant, workspace=workspace, agent=agent, limit=limit)
        )
        return mm.ItemList(items=[mm.ItemOut.of(i) for i in items])

    @app.get("/v1/memory/review/{item_id}", tags=TAGS, response_model=mm.ReviewOut)
    async def show(
        item_id: ItemId, tenant: Name, gw: Gw, who: Caller = authenticated
    ) -> mm.ReviewOut:
        """What a reviewer needs: the item (text, labels, findings, source, session, the
        contents it derives from) and the audit records of its writing and of those contents."""
        person_for(who, tenant, Role.APPROVER, "review memory")
        item = await run(lambda: gw.memory.item(tenant, item_id))
        if item is None:
            raise ApprovalNotFoundError(f"no memory item {item_id} in tenant {tenant}")
        records = await run(lambda: _sources(gw, item.session_id, item.audit_id, item.contents))
        return mm.ReviewOut(item=mm.ItemOut.of(item), records=records)

    async def _review(gw: Gateway, who: Caller, item_id: str, body: mm.ReviewIn, ok: bool) -> Any:
        person_for(who, body.tenant, Role.APPROVER, "review memory")
        item = await run(lambda: gw.memory.item(body.tenant, item_id))
        if item is None:
            raise ApprovalNotFoundError(f"no memory item {item_id} in tenant {body.tenant}")
        if not item.pending:
            raise ApprovalStateError(f"memory item {item_id} is not awaiting review")
        try:
            return await run(
                lambda: gw.memory.review(
                    body.tenant, item_id, approve=ok, by=who.name, note=body.note
                )
            )
        except MemoryItemError as exc:  # expired, or reviewed by someone else meanwhile
            raise ApprovalStateError(str(exc)) from None

    @app.post("/v1/memory/review/{item_id}/approve", tags=TAGS, response_model=mm.ItemOut)
    async def approve(
        item_id: ItemId, body: mm.ReviewIn, gw: Gw, who: Caller = authenticated
    ) -> mm.ItemOut:
        """Approve: the item becomes active (trusted unless its text reads as instructions)."""
        return mm.ItemOut.of(await _review(gw, who, item_id, body, True))

    @app.post("/v1/memory/review/{item_id}/reject", tags=TAGS, response_model=mm.Rejected)
    async def reject(
        item_id: ItemId, body: mm.ReviewIn, gw: Gw, who: Caller = authenticated
    ) -> mm.Rejected:
        """Reject: the item is deleted."""
        await _review(gw, who, item_id, body, False)
        return mm.Rejected(id=item_id)

    @app.post("/v1/memory/erase", tags=TAGS, response_model=mm.ErasureOut)
    async def erase(body: mm.EraseIn, gw: Gw, who: Caller = authenticated) -> mm.ErasureOut:
        """Forget everything about a subject in a tenant (admins of `memory@TENANT`): every
        workspace, agent and status; audited; the report says what was deleted."""
        person_for(who, body.tenant, Role.ADMIN, "erase memory")
        report = await run(
            lambda: gw.memory.erase(body.tenant, body.subject, by=who.name, reason=body.reason)
        )
        return mm.ErasureOut.of(report)

    # -- in a session -------------------------------------------------------------------------

    async def own_session(gw: Gateway, who: Caller, session_id: str) -> Opened:
        """The open session, if it is the agent key's own (another's does not exist to it)."""
        who.require(Role.AGENT, action="use a session's memory (agent keys do)")
        opened = await gw.sessions.get(session_id)
        if opened is None or opened.owner != who.name:
            raise ApprovalNotFoundError(f"no session {session_id} of {who.name}")
        s = opened.session
        if who.grant is None or not who.grant.allows(s.agent, s.tenant):
            raise AccessDeniedError(f"{who.name} no longer has agent {s.agent!r}")
        if opened.closed:
            raise ApprovalStateError(f"session {session_id} is closed")
        return opened

    @app.post("/v1/sessions/{session_id}/context", tags=TAGS, response_model=mm.ContextOut)
    async def context(
        session_id: SessionId, body: mm.ContextIn, gw: Gw, who: Caller = authenticated
    ) -> mm.ContextOut:
        """The memory items the session may see for `query` (its scope, per the policy's
        `memory:` section): leak-filtered, masked, fenced if untrusted, recorded in the
        session as content (so the flow rules know where their values came from)."""
        opened = await own_session(gw, who, session_id)
        ctx = await gw.gate.acontext(opened.session, body.query, limit=body.limit)
        return mm.ContextOut(
            items=[
                mm.ContextItemOut(
                    id=i.id,
                    kind=i.kind,
                    text=i.text,
                    trusted=i.trusted,
                    content_id=i.content_id,
                    source=i.source,
                )
                for i in ctx.items
            ],
            prompt=ctx.prompt,
            dropped=list(ctx.dropped),
            withheld=list(ctx.withheld),
        )

    @app.post(
        "/v1/sessions/{session_id}/remember", tags=TAGS, response_model=mm.ItemOut, status_code=201
    )
    async def remember(
        session_id: SessionId, body: mm.RememberIn, gw: Gw, who: Caller = authenticated
    ) -> mm.ItemOut:
        """Store what the agent learned in the session's memory scope. Its trust is that of
        the session's contents it derives from (`derived_from`: ids `ingest` returned);
        none: untrusted. An id the session does not hold is a 422."""
        opened = await own_session(gw, who, session_id)
        held = {c.id: c for c in await gw.gate.flow.store.contents(session_id)}
        missing = [i for i in body.derived_from if i not in held]
        if missing:
            raise MemoryItemError(f"session {session_id} holds no content {missing[0]!r}")
        derived = [
            Labeled(c.id, c.source, c.label, "", (), ())
            for c in (held[i] for i in dict.fromkeys(body.derived_from))
        ]
        item = await gw.gate.aremember(
            opened.session, body.text, kind=body.kind, derived_from=derived
        )
        return mm.ItemOut.of(item)


def _sources(
    gw: Gateway, session_id: str | None, audit_id: str | None, contents: tuple[str, ...]
) -> list[mm.RecordOut]:
    """The audit records of an item's writing and of the contents it derives from."""
    found = []
    if session_id is not None:
        wanted = set(contents)
        for rec in gw.audit.records(session_id=session_id):
            if rec.id == audit_id or (
                rec.kind == "content.ingested" and rec.body.get("content_id") in wanted
            ):
                found.append(rec)
    elif audit_id is not None:
        one = gw.audit.get(audit_id)
        found += [one] if one is not None else []
    return [
        mm.RecordOut(id=r.id, kind=r.kind, ts=r.ts, session_id=r.session_id, body=r.body)
        for r in found
    ]


def install(app: FastAPI, caller: Callable[..., Awaitable[Caller]]) -> None:
    """Add the memory routes to ``app``, and the problems its typed errors become."""

    def handler(status: int, kind: str) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handle(request: Request, exc: Exception) -> Response:
            request.app.state.metrics.refusals.labels(kind).inc()
            return JSONResponse({"error": kind, "message": str(exc)}, status)

        return handle

    for exc, (status, kind) in _PROBLEMS.items():
        app.add_exception_handler(exc, handler(status, kind))
    add_routes(app, caller)
