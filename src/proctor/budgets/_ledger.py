"""The budget ledger: what each budget account has spent (committed) and holds (reserved).

``reserve`` checks and records in one atomic step, so that two callers racing for the last
unit of a budget never both get it; ``commit`` marks a reservation spent once the tool ran;
``release`` gives it back when the call was refused or failed. A reservation carries an
expiry: one whose process crashed before committing or releasing stops counting then.

Windows slide: an account's usage is the sum of its committed entries whose time (when they
were reserved) lies in the last ``window`` seconds, plus its reservations not yet expired.
Amounts are integer micro-units (``proctor.policy`` converts them), so every sum is exact.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from proctor.policy import Charge


@dataclass(frozen=True, slots=True)
class Reservation:
    """Budget held for one call: its charges, reserved at ``at`` (the ledger's clock)."""

    id: str
    charges: tuple[Charge, ...]
    at: float
    stamp: str = ""  # the ledger's own record of ``at`` (Redis: microseconds, as text)

    @property
    def empty(self) -> bool:
        return not self.charges


@dataclass(frozen=True, slots=True)
class AccountState:
    """One budget account now: committed in the window, and reserved (micro-units)."""

    budget: str
    key: str
    spent: int
    reserved: int

    @property
    def used(self) -> int:
        return self.spent + self.reserved


class BudgetLedger(Protocol):
    """What the gate needs of a ledger. Every error propagates: the gate denies (fail closed)."""

    def usage(self, charges: Sequence[Charge]) -> dict[str, int]:
        """Spent plus reserved, by account key, for the accounts ``charges`` name."""
        ...

    def reserve(self, charges: Sequence[Charge], ttl: float) -> Reservation | Charge:
        """Atomically: if no enforced charge would take its account over its limit, record
        them all as reserved for ``ttl`` seconds and return the reservation; otherwise record
        nothing and return the first charge that does not fit."""
        ...

    def commit(self, reservation: Reservation) -> None:
        """The call ran: its reservation is spent (even if it expired meanwhile)."""
        ...

    def release(self, reservation: Reservation) -> None:
        """The call did not run: give its reservation back."""
        ...

    def accounts(self, budget: str, window: int) -> list[AccountState]:
        """Every account of ``budget`` (a ledger name, ``agent/name``) with usage now."""
        ...


def new_id() -> str:
    return "bud_" + secrets.token_hex(12)


@dataclass
class _Entry:
    id: str
    budget: str
    amount: int
    at: float
    expires: float | None  # None: committed


@dataclass
class _Account:
    entries: list[_Entry] = field(default_factory=list)


class MemoryLedger:
    """The ledger in this process (one lock): the default of a ``Gate`` given none."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def _state(self, key: str, budget: str, window: int, now: float) -> AccountState:
        acc = self._accounts.get(key)
        if acc is None:
            return AccountState(budget, key, 0, 0)
        horizon = now - window
        acc.entries = [
            e
            for e in acc.entries
            if (e.expires is None and e.at > horizon) or (e.expires is not None and e.expires > now)
        ]
        spent = sum(e.amount for e in acc.entries if e.expires is None)
        reserved = sum(e.amount for e in acc.entries if e.expires is not None)
        return AccountState(budget, key, spent, reserved)

    def usage(self, charges: Sequence[Charge]) -> dict[str, int]:
        now = self._clock()
        with self._lock:
            return {c.key: self._state(c.key, c.budget, c.window, now).used for c in charges}

    def reserve(self, charges: Sequence[Charge], ttl: float) -> Reservation | Charge:
        now = self._clock()
        rid = new_id()
        with self._lock:
            for c in charges:
                used = self._state(c.key, c.budget, c.window, now).used
                if c.enforce and used + c.amount > c.limit:
                    return c
            for c in charges:
                entry = _Entry(rid, c.budget, c.amount, now, now + ttl)
                self._accounts.setdefault(c.key, _Account()).entries.append(entry)
        return Reservation(rid, tuple(charges), now)

    def commit(self, reservation: Reservation) -> None:
        with self._lock:
            for c in reservation.charges:
                acc = self._accounts.setdefault(c.key, _Account())
                acc.entries = [e for e in acc.entries if e.id != reservation.id]
                acc.entries.append(_Entry(reservation.id, c.budget, c.amount, reservation.at, None))

    def release(self, reservation: Reservation) -> None:
        with self._lock:
            for c in reservation.charges:
                acc = self._accounts.get(c.key)
                if acc is not None:
                    acc.entries = [
                        e for e in acc.entries if not (e.id == reservation.id and e.expires)
                    ]

    def accounts(self, budget: str, window: int) -> list[AccountState]:
        now = self._clock()
        with self._lock:
            keys = [
                k for k, a in self._accounts.items() if any(e.budget == budget for e in a.entries)
            ]
            return [self._state(k, budget, window, now) for k in sorted(keys)]
