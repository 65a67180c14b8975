"""``PinGuard`` in a gate, without processes: what is exposed and what a call gets, and fail
closed when the pin store breaks."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
import pytest
from sqlalchemy import text
from tests.pins._world import World, make_world

from proctor import Gate, OutcomeStatus, PolicySet, load_policy
from proctor.mcp import PinGuard, PinMode, tool_definition
from proctor.pins import fingerprint

POLICY = load_policy(Path(__file__).with_name("policy.yaml"))
ORDERS = types.Tool(
    name="orders_get",
    description="Look up an order.",
    input_schema={"type": "object", "properties": {"order_id": {"type": "string"}}},
)


@pytest.fixture
def world(db_url):
    w = make_world(db_url)
    yield w
    w.close()


def gated(guard: PinGuard) -> tuple[Gate, object]:
    gate = Gate(PolicySet.of(POLICY), hooks=[guard])

    @gate.tool("orders_get")
    def orders_get(order_id: str) -> str:
        return f"order {order_id}"

    return gate, gate.open_session("shop-bot", principal="t", tenant="acme")


def call(gate: Gate, session, order_id: str = "O-1"):
    return anyio.run(lambda: gate.acall(session, "orders_get", {"order_id": order_id}))


def test_the_definition_covers_optional_fields_only_when_present():
    plain = tool_definition(ORDERS)
    assert set(plain) == {"name", "description", "inputSchema"}
    full = ORDERS.model_copy(
        update={
            "title": "Orders",
            "output_schema": {"type": "object"},
            "annotations": types.ToolAnnotations(read_only_hint=True),
        }
    )
    rich = tool_definition(full)
    assert rich["annotations"] == {"readOnlyHint": True}
    assert rich["outputSchema"] == {"type": "object"}
    assert fingerprint(rich) != fingerprint(plain)


def test_pinned_tool_is_exposed_and_runs(world: World):
    guard = PinGuard(world.pins, PinMode.ENFORCE)
    gate, session = gated(guard)
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])
    assert not guard.exposed("orders_get")
    assert call(gate, session).status is OutcomeStatus.DENIED
    world.pins.approve(
        "shop", "orders_get", by=world.who("otto"), fingerprint=world.seen("shop", "orders_get")
    )
    assert call(gate, session).status is OutcomeStatus.EXECUTED  # the store is read per call
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])
    assert guard.exposed("orders_get")
    gate.close()


def test_a_pin_store_that_breaks_after_listing_blocks_the_call(world: World):
    guard = PinGuard(world.pins, PinMode.TOFU)
    gate, session = gated(guard)
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])
    assert call(gate, session).status is OutcomeStatus.EXECUTED
    with world.queue.engine.begin() as conn:
        conn.execute(text("DROP TABLE proctor_mcp_tool_pins"))
    out = call(gate, session, "O-2")
    assert out.status is OutcomeStatus.DENIED
    assert "fail closed" in (out.error or "")
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])  # the listing cannot be recorded
    assert not guard.exposed("orders_get")
    out = call(gate, session, "O-3")
    assert out.status is OutcomeStatus.DENIED
    assert "could not be listed or recorded" in (out.error or "")
    gate.close()


def test_revocation_elsewhere_blocks_the_next_call(world: World):
    guard = PinGuard(world.pins, PinMode.TOFU)
    gate, session = gated(guard)
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])
    assert call(gate, session).status is OutcomeStatus.EXECUTED
    world.pins.revoke("shop", "orders_get", by=world.who("otto"), reason="incident 12")
    out = call(gate, session, "O-2")
    assert out.status is OutcomeStatus.DENIED
    assert "is not approved" in (out.error or "")
    gate.close()


def test_a_failed_listing_blocks_and_records_no_removal(world: World):
    guard = PinGuard(world.pins, PinMode.TOFU)
    gate, session = gated(guard)
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])
    guard.fail("shop", "listing failed: ConnectionError: gone")
    assert not guard.exposed("orders_get")
    out = call(gate, session)
    assert out.status is OutcomeStatus.DENIED
    assert "listing failed" in (out.error or "")
    assert world.events("removed") == []
    anyio.run(guard.refresh, "shop", [("orders_get", ORDERS)])  # listed again: unblocked
    assert call(gate, session, "O-2").status is OutcomeStatus.EXECUTED
    gate.close()
