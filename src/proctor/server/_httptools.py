"""HTTP tools: the tools a policy declares with ``http:``, executed by the gateway.

Each becomes a gate ``Tool`` whose arguments are the policy's declared arguments and whose
implementation sends one HTTP request: ``{name}`` in the URL takes that argument (URL-encoded),
the others go as the JSON body (``POST``/``PUT``/``PATCH``) or the query string. The credential
is one of the tool's secrets, resolved by the gate's broker at execution time and sent as
``Authorization: Bearer``; the call's scoped credential, when the gate mints one, goes as
``Proctor-Credential``, and an approved call's idempotency key as ``Idempotency-Key``. The
tool's ``timeout_seconds`` bounds the request (the gate bounds the whole execution too). A
non-2xx answer is an error: the outcome is ``failed`` and the gate's breaker counts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from proctor.approvals import idempotency_key
from proctor.credentials import call_context
from proctor.errors import ToolNotStartedError
from proctor.policy import PolicySet, ToolPlan
from proctor.policy._schema import HttpTool
from proctor.tools import Tool

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_RESPONSE_BYTES = 1_000_000


class ToolHttpError(Exception):
    """The tool's endpoint answered with an error status or an unreadable body."""


def _prepare(spec: HttpTool, timeout: float, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL and the request options of one call: resolved before anything is sent."""
    args = dict(kwargs)
    url = _PLACEHOLDER.sub(lambda m: quote(str(args.pop(m.group(1), "")), safe=""), spec.url)
    headers = dict(spec.headers)
    ctx = call_context()
    if spec.credential is not None:
        headers["Authorization"] = f"Bearer {ctx.secret(spec.credential)}"
    if ctx.token:
        headers["Proctor-Credential"] = ctx.token
    key = idempotency_key()
    if key:
        headers["Idempotency-Key"] = key
    send: dict[str, Any] = {"headers": headers, "timeout": timeout}
    if spec.method in _BODY_METHODS:
        send["json"] = args
    else:
        send["params"] = {k: v if isinstance(v, str) else str(v) for k, v in args.items()}
    return url, send


def _implementation(
    name: str, spec: HttpTool, timeout: float, client: Callable[[], httpx.AsyncClient]
) -> Callable[..., Any]:
    async def run(**kwargs: Any) -> Any:
        try:  # nothing is sent until the request: a failure here leaves the budget unspent
            url, send = _prepare(spec, timeout, kwargs)
        except Exception as exc:
            raise ToolNotStartedError(f"{name}: not sent: {type(exc).__name__}: {exc}") from exc
        try:
            resp = await client().request(spec.method, url, **send)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            # the connection never opened: no byte of the request left (docs/budgets.md)
            raise ToolNotStartedError(f"{name}: not sent: {type(exc).__name__}") from exc
        if len(resp.content) > MAX_RESPONSE_BYTES:
            raise ToolHttpError(f"{name}: response larger than {MAX_RESPONSE_BYTES} bytes")
        if resp.status_code >= 400:
            raise ToolHttpError(f"{name}: {spec.method} answered HTTP {resp.status_code}")
        if not resp.content:
            return None
        if resp.headers.get("content-type", "").split(";")[0].strip().endswith("json"):
            try:
                return resp.json()
            except ValueError:
                raise ToolHttpError(f"{name}: the answer is not valid JSON") from None
        return resp.text

    return run


def http_tool(plan: ToolPlan, client: Callable[[], httpx.AsyncClient]) -> Tool:
    """The gate tool of ``plan``, which must declare ``http``."""
    spec = plan.spec.http
    if spec is None:
        raise ValueError(f"tool {plan.name!r} declares no http endpoint")
    return Tool(
        name=plan.name,
        fn=_implementation(plan.name, spec, plan.spec.timeout_seconds, client),
        description=plan.spec.description,
        is_async=True,
        params_model=plan.args_model,
        output=None,
    )


def http_plans(policies: PolicySet) -> dict[str, ToolPlan]:
    """Every HTTP tool of the loaded policies, by name (one implementation per name)."""
    out: dict[str, ToolPlan] = {}
    for pol in policies.policies:
        for name, plan in pol.tools.items():
            if plan.spec.http is not None:
                out.setdefault(name, plan)
    return out
