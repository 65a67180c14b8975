"""The synchronous API refuses to run inside an event loop; the async one runs there."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from proctor import GateClosedError, OutcomeStatus, Verdict

POLICY = """
version: 1
agent: {name: async-bot, role: svc-async, owner: async@acme.test}
environments: {production: {max_autonomy: read}}
tools:
  kb.search:
    autonomy: read
    args: {q: string}
  kb.fetch:
    autonomy: read
    args: {doc_id: string}
"""


@pytest.fixture
def ran():
    return []


@pytest.fixture
def registered(make_gate, ran):
    """The gate, and the GatedTools its decorator returned, by tool name."""
    gate = make_gate(POLICY)

    @gate.tool("kb.search")
    def search(q: str) -> list[str]:
        ran.append(q)
        return [f"doc about {q}"]

    @gate.tool("kb.fetch")
    async def fetch(doc_id: str) -> str:
        await asyncio.sleep(0)
        ran.append(doc_id)
        return f"contents of {doc_id}"

    return gate, {"kb.search": search, "kb.fetch": fetch}


@pytest.fixture
def gate(registered):
    return registered[0]


@pytest.fixture
def session(gate):
    return gate.open_session("async-bot", principal="alice", tenant="acme")


def run_and_collect_warnings(coro_fn):
    """Run ``coro_fn()`` in a fresh loop and return every warning raised, GC included."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = asyncio.run(coro_fn())
        gc.collect()
    return result, [str(w.message) for w in caught]


SYNC_ENTRY_POINTS = {
    "Gate.call": lambda gate, tools, s: gate.call(s, "kb.search", {"q": "refunds"}),
    "Gate.decide": lambda gate, tools, s: gate.decide(s, "kb.search", {"q": "refunds"}),
    "GatedTool.__call__": lambda gate, tools, s: tools["kb.search"](s, q="refunds"),
}


@pytest.mark.parametrize("entry", list(SYNC_ENTRY_POINTS))
def test_sync_api_inside_a_running_loop_raises_without_leaking_a_coroutine(
    registered, session, ran, entry
):
    gate, tools = registered

    async def agent():
        with pytest.raises(GateClosedError, match="acall"):
            SYNC_ENTRY_POINTS[entry](gate, tools, session)

    _, caught = run_and_collect_warnings(agent)
    assert not [w for w in caught if "never awaited" in w]
    assert ran == []


def test_leak_detector_detects_a_leaked_coroutine():
    async def dropped():
        return None

    async def agent():
        dropped()  # created and never awaited

    _, caught = run_and_collect_warnings(agent)
    assert [w for w in caught if "never awaited" in w]


def test_acall_works_inside_the_loop(registered, session, ran):
    gate, tools = registered

    async def agent():
        first = await gate.acall(session, "kb.search", {"q": "refunds"})
        second = await tools["kb.fetch"].acall(session, doc_id="D-1")
        both = await asyncio.gather(
            gate.acall(session, "kb.fetch", {"doc_id": "D-2"}),
            gate.acall(session, "kb.fetch", {"doc_id": "D-3"}),
        )
        return [first, second, *both]

    outcomes, caught = run_and_collect_warnings(agent)
    assert [o.status for o in outcomes] == [OutcomeStatus.EXECUTED] * 4
    assert outcomes[0].result == ["doc about refunds"]
    assert outcomes[1].result == "contents of D-1"
    assert sorted(ran) == ["D-1", "D-2", "D-3", "refunds"]
    assert not [w for w in caught if "never awaited" in w]


def test_adecide_works_inside_the_loop(gate, session, ran):
    from proctor import ToolCall

    async def agent():
        return await gate.adecide(session, ToolCall("kb.search", {"q": 1}, session.id))

    decision = asyncio.run(agent())
    assert decision.verdict is Verdict.DENY
    assert ran == []


def test_sync_call_works_again_after_the_loop_has_closed(gate, session):
    async def agent():
        with pytest.raises(GateClosedError):
            gate.call(session, "kb.search", {"q": "a"})

    asyncio.run(agent())
    assert gate.call(session, "kb.search", {"q": "b"}).status is OutcomeStatus.EXECUTED
