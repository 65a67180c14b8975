"""A store with an operator and a viewer, and the pins over it (for the tests here and the
child processes of the race tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from proctor.approvals import ApprovalQueue, Principal, Role
from proctor.pins import ToolPins, definition
from proctor.store import create_store_engine, migrate, oversight_events

SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string"}}}


def tool(name: str = "refund", description: str = "Refund an order.", **schema) -> dict:
    return definition(name, description, {**SCHEMA, **schema})


@dataclass
class World:
    url: str
    queue: ApprovalQueue
    pins: ToolPins
    keys: dict[str, str]

    def who(self, name: str) -> Principal:
        return self.queue.authenticate(name, self.keys[name])

    def seen(self, server: str, tool: str) -> str:
        """The fingerprint listed now: what an operator reviews before approving."""
        pin = self.pins.get(server, tool)
        assert pin is not None, (server, tool)
        return pin.seen_fingerprint

    def events(self, action: str | None = None) -> list[dict]:
        t = oversight_events
        with self.queue.engine.connect() as conn:
            rows = conn.execute(select(t.c.body).where(t.c.kind == "tool.pin").order_by(t.c.at))
            bodies = [json.loads(r.body) for r in rows]
        return [b for b in bodies if action is None or b["action"] == action]

    def close(self) -> None:
        self.queue.close()
        self.queue.engine.dispose()


def make_world(url: str) -> World:
    engine = create_store_engine(url)
    migrate(engine)
    queue = ApprovalQueue(engine)
    root_key = queue.access.add("root", [Role.ADMIN], by=None)
    root = queue.authenticate("root", root_key)
    keys = {
        "root": root_key,
        "otto": queue.access.add("otto", [Role.OPERATOR], by=root),
        "vera": queue.access.add("vera", [Role.VIEWER], by=root),
    }
    return World(url, queue, ToolPins(engine, queue.recorder, queue.access), keys)


def open_world(url: str, keys: dict[str, str]) -> World:
    engine = create_store_engine(url)
    queue = ApprovalQueue(engine)
    return World(url, queue, ToolPins(engine, queue.recorder, queue.access), keys)
