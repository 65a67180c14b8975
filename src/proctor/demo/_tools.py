"""Simulated back-office systems for the demo: a CRM, orders, tickets, payments and email.

Everything is in memory and fictitious (``*.acme.test`` addresses, made-up ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel


class Customer(BaseModel):
    customer_id: str
    name: str
    email: str
    tier: str
    segment: str


class Order(BaseModel):
    order_id: str
    customer_id: str
    total: float
    currency: str
    status: str


class Refund(BaseModel):
    refund_id: str
    order_id: str
    amount: float
    currency: str


class Receipt(BaseModel):
    message_id: str
    recipients: int


@dataclass
class BackOffice:
    """The state the demo's tools read and change."""

    customers: dict[str, Customer] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    outbox: list[tuple[list[str], str]] = field(default_factory=list)

    @staticmethod
    def seeded() -> BackOffice:
        office = BackOffice()
        for i in range(1001, 1121):
            cid = f"C{i}"
            office.customers[cid] = Customer(
                customer_id=cid,
                name=f"Customer {i}",
                email=f"customer{i}@customers.acme.test",
                tier="gold" if i % 7 == 0 else "standard",
                segment="smb",
            )
            oid = f"O{i + 50000}"
            office.orders[oid] = Order(
                order_id=oid, customer_id=cid, total=40.0 + i % 900, currency="USD", status="paid"
            )
        return office

    # The tools. Signatures must match the policy's declared arguments.

    def lookup_customer(self, customer_id: str) -> Customer:
        """Read a customer record by id."""
        return self.customers[customer_id]

    def get_order(self, order_id: str) -> Order:
        """Read an order."""
        return self.orders[order_id]

    def add_note(self, ticket_id: str, note: str) -> str:
        """Add an internal note to a ticket."""
        self.notes.append((ticket_id, note))
        return f"note {len(self.notes)} added to {ticket_id}"

    def refund(
        self, order_id: str, amount: float, currency: Literal["USD", "EUR", "GBP"], reason: str
    ) -> Refund:
        """Refund part or all of an order."""
        order = self.orders[order_id]
        if amount > order.total:
            raise ValueError(f"refund {amount} exceeds order total {order.total}")
        refund = Refund(
            refund_id=f"R{len(self.refunds) + 1:05d}",
            order_id=order_id,
            amount=amount,
            currency=currency,
        )
        self.refunds.append(refund)
        return refund

    def send_email(self, to: list[str], subject: str, body: str) -> Receipt:
        """Send an email."""
        self.outbox.append((to, subject))
        return Receipt(message_id=f"M{len(self.outbox):05d}", recipients=len(to))

    def bulk_update(
        self, customer_ids: list[str], field: Literal["segment", "tier", "opt_in"], value: str
    ) -> int:
        """Update one field on many customers; returns how many changed."""
        changed = 0
        for cid in customer_ids:
            cust = self.customers.get(cid)
            if cust is not None and field in ("segment", "tier"):
                setattr(cust, field, value)
                changed += 1
        return changed

    def delete_customer(self, customer_id: str) -> bool:
        """Erase a customer."""
        return self.customers.pop(customer_id, None) is not None


class FlakyKnowledgeBase:
    """A search service that is down for the morning: it raises until ``healthy`` is set."""

    def __init__(self) -> None:
        self.healthy = False
        self.calls = 0

    def search(self, query: str) -> list[str]:
        """Search help-centre articles."""
        self.calls += 1
        if not self.healthy:
            raise ConnectionError("knowledge base unreachable (HTTP 503)")
        return [f"How to: {query}"]
