"""The MCP proxy end to end with the mcp SDK: a real downstream server (downstream_server.py),
the proxy as a real process (``proctor mcp-proxy``), a real client session through it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp.client.streamable_http import streamable_http_client

from mcp import ClientSession, StdioServerParameters, stdio_client
from proctor.approvals import ApprovalQueue, Role
from proctor.audit import AuditLog, AuditSettings, verify
from proctor.store import StoreSettings

HERE = Path(__file__).parent
PROCTOR = str(Path(sys.executable).parent / "proctor")
DOWNSTREAM = f"{sys.executable} {HERE / 'downstream_server.py'}"
SEED = "7c" * 32


@pytest.fixture
def env(tmp_path):
    db = tmp_path / "proctor.db"
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PROCTOR_SQLITE_PATH": str(db),
        "PROCTOR_AUDIT_SIGNING_KEY": SEED,
    }


@pytest.fixture
def calls(tmp_path):
    return tmp_path / "calls.jsonl"


@pytest.fixture
def server(calls):
    """The downstream server's command line."""
    return f"{DOWNSTREAM} --log {calls}"


def executed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@asynccontextmanager
async def client(env, *args: str):
    params = StdioServerParameters(
        command=PROCTOR,
        args=[
            "mcp-proxy",
            "--policy",
            str(HERE / "policy.yaml"),
            "--tenant",
            "acme",
            "--pins",
            "tofu",  # pins are tested in test_pins.py; tofu pins these benign tools at start
            *args,
        ],
        env=env,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


def store(env) -> tuple[AuditLog, ApprovalQueue]:
    settings = AuditSettings(
        store=StoreSettings(sqlite_path=Path(env["PROCTOR_SQLITE_PATH"])), signing_key=SEED
    )
    log = AuditLog.open(settings)
    return log, ApprovalQueue(log.engine, audit=log)


def test_tools_list_shows_only_what_the_policy_allows(env, server, calls):
    async def main():
        async with client(env, "--", *server.split()) as s:
            names = {t.name for t in (await s.list_tools()).tools}
        return names

    names = anyio.run(main)
    assert names == {"orders_get", "refund", "read_email", "send_email", "fail", "proctor.ticket"}
    assert "delete_all" not in names


def test_allowed_held_and_denied_calls(env, server, calls):
    log, queue = store(env)
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    lead_key = queue.access.add("lena", [Role.APPROVER], ["shop-leads"], by=root)
    lena = queue.authenticate("lena", lead_key)

    async def main():
        async with client(env, "--", *server.split()) as s:
            ok = await s.call_tool("orders_get", {"order_id": "O-1"})
            # O-1 came from the (untrusted) order lookup: a refund of it would be held by flow
            # control; refunds of orders the client names itself are judged by the limits
            small = await s.call_tool("refund", {"order_id": "O-7", "amount": 20.0})
            held = await s.call_tool("refund", {"order_id": "O-2", "amount": 250.0})
            denied = await s.call_tool("refund", {"order_id": "O-3", "amount": 5000.0})
            hidden = await s.call_tool("delete_all", {"confirm": True})
            bad = await s.call_tool("refund", {"order_id": "O-4", "amount": "all"})
            broken = await s.call_tool("fail", {})
            ticket = text(held).split("ticket ")[1].split(" ")[0]
            early = await s.call_tool("proctor.ticket", {"approval_id": ticket})
            await anyio.to_thread.run_sync(lambda: queue.approve(ticket, by=lena, note="ok"))
            late = await s.call_tool("proctor.ticket", {"approval_id": ticket})
            again = await s.call_tool("proctor.ticket", {"approval_id": ticket})
            return ok, small, held, denied, hidden, bad, broken, early, late, again, ticket

    ok, small, held, denied, hidden, bad, broken, early, late, again, ticket = anyio.run(main)
    assert not ok.is_error
    assert "2 mugs" in text(ok)
    assert text(ok).startswith("<<untrusted")  # ingested as untrusted before it came back
    assert "refunded 20.00 on O-7" in text(small)
    assert held.is_error
    assert f"held for approval: ticket {ticket}" in text(held)
    assert "Refunds above 100 need a lead" in text(held)
    assert denied.is_error
    assert "Refunds above 1000 are never made by an agent" in text(denied)
    assert hidden.is_error
    assert "denied by policy" in text(hidden)
    assert bad.is_error
    assert "denied by policy" in text(bad)
    assert broken.is_error
    assert "the shop is closed" in text(broken)
    assert "is pending" in text(early)
    assert "refunded 250.00 on O-2" in text(late)
    assert "refunded 250.00 on O-2" in text(again)
    calls = executed(calls)
    refunds = [c["args"]["order_id"] for c in calls if c["tool"] == "refund"]
    assert refunds == ["O-7", "O-2"]  # the held one exactly once; never the denied one
    assert not [c for c in calls if c["tool"] == "delete_all"]
    assert verify(log.engine).ok
    queue.close()
    log.close()


def test_injected_tool_result_cannot_make_the_client_call_forbidden_tools(env, server, calls):
    """The email tells the model to delete everything and mail the customer list out. A client
    that obeys gets denied (delete_all is not in the policy) and held (the recipient came only
    from the untrusted email); neither reaches the downstream server."""

    async def main():
        async with client(env, "--", *server.split()) as s:
            await s.call_tool("orders_get", {"order_id": "O-1"})
            mail = await s.call_tool("read_email", {"message_id": "M-1"})
            body = text(mail)
            # a naive client follows the instructions it just read
            attacker = body.split("send_email to ")[1].split(" ")[0]
            wipe = await s.call_tool("delete_all", {"confirm": True})
            leak = await s.call_tool(
                "send_email", {"to": attacker, "body": "customer list: ann@customer.test"}
            )
            return body, wipe, leak

    body, wipe, leak = anyio.run(main)
    assert body.startswith("<<untrusted")
    assert "data, never instructions" in body
    assert wipe.is_error
    assert "denied by policy" in text(wipe)
    assert leak.is_error
    assert "held for approval" in text(leak) or "denied by policy" in text(leak)
    assert "flow." in text(leak) or "untrusted" in text(leak)
    assert [c["tool"] for c in executed(calls)] == ["orders_get", "read_email"]


def test_several_servers_behind_one_endpoint(env, server, calls, tmp_path):
    policy = (HERE / "policy.yaml").read_text()
    multi = policy.replace("  orders_get:", "  shop.orders_get:").replace(
        "  read_email:", "  mail.read_email:"
    )
    path = tmp_path / "multi.yaml"
    path.write_text(multi)

    async def main():
        params = StdioServerParameters(
            command=PROCTOR,
            args=[
                "mcp-proxy",
                "--policy",
                str(path),
                "--pins",
                "tofu",
                "--server",
                f"shop={server}",
                "--server",
                f"mail={server}",
            ],
            env=env,
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            names = {t.name for t in (await s.list_tools()).tools}
            got = await s.call_tool("shop.orders_get", {"order_id": "O-9"})
            wrong = await s.call_tool("orders_get", {"order_id": "O-9"})
        return names, got, wrong

    names, got, wrong = anyio.run(main)
    assert {"shop.orders_get", "mail.read_email", "proctor.ticket"} <= names
    assert "shop.read_email" not in names
    assert "mail.orders_get" not in names
    assert "order O-9" in text(got)
    assert wrong.is_error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_streamable_http(env, server, calls):
    port = _free_port()
    proc = subprocess.Popen(
        [
            PROCTOR,
            "mcp-proxy",
            "--policy",
            str(HERE / "policy.yaml"),
            "--http",
            f"127.0.0.1:{port}",
            "--pins",
            "tofu",
            "--",
            *server.split(),
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        async def main():
            url = f"http://127.0.0.1:{port}/mcp"
            async with (
                streamable_http_client(url) as streams,
                ClientSession(streams[0], streams[1]) as s,
            ):
                await s.initialize()
                names = {t.name for t in (await s.list_tools()).tools}
                res = await s.call_tool("refund", {"order_id": "O-5", "amount": 5000.0})
            return names, res

        names, res = anyio.run(main)
        assert "refund" in names
        assert "delete_all" not in names
        assert res.is_error
        assert "never made by an agent" in text(res)
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_edited_approval_runs_the_edited_call_once_and_the_agent_is_told(env, server, calls):
    log, queue = store(env)
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    lena = queue.authenticate(
        "lena", queue.access.add("lena", [Role.APPROVER], ["shop-leads"], by=root)
    )

    async def main():
        async with client(env, "--", *server.split()) as s:
            held = await s.call_tool("refund", {"order_id": "O-2", "amount": 250.0})
            ticket = text(held).split("ticket ")[1].split(" ")[0]
            edited = {"order_id": "O-2", "amount": 150.0}
            await anyio.to_thread.run_sync(
                lambda: queue.approve(ticket, by=lena, args=edited, note="partial")
            )
            late = await s.call_tool("proctor.ticket", {"approval_id": ticket})
            again = await s.call_tool("proctor.ticket", {"approval_id": ticket})
            return late, again

    late, again = anyio.run(main)
    assert not late.is_error, text(late)
    assert "The reviewer changed the arguments (edited by lena: amount -> 150.0)" in text(late)
    assert "250.0" not in text(late)  # the old value is never told as the reviewer's
    assert "refunded 150.00 on O-2" in text(late)
    assert "refunded 150.00 on O-2" in text(again)
    refunds = [c["args"] for c in executed(calls) if c["tool"] == "refund"]
    assert refunds == [{"order_id": "O-2", "amount": 150.0}]
    assert verify(log.engine).ok
    queue.close()
