"""The leak filter: content carrying values or tokens of another tenant or subject never enters
a session (nor the store).

Memory knows whose values are whose: when an item is stored, the identifying values in its
text (email addresses, IBANs, phone numbers, card numbers, vault tokens) are recorded as
keyed fingerprints (HMAC), with keyed digests of the item's tenant and subject. A text is
*foreign* for a scope when it carries a fingerprinted value that no item of the scope's
tenant carries, or (when the scope has a subject) a value that items of its tenant carry
about other subjects only; and a vault token is foreign when the vault minted it for another
tenant. A value first stored by one tenant belongs to it: the leak filter then refuses it in
every other tenant (fail closed; shared values, such as a supplier's address, belong in the
policy or the tools, not in per-tenant memory). Nothing here keeps or logs a value, or a
tenant's name.

``LeakGuard`` is the gate hook: every content entering a session from a tool or any other
non-principal source is checked before data access controls run; a foreign one is dropped
(the ingest raises ``MemoryLeakError``, so a tool's output is withheld), audited and alerted.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from proctor.errors import MemoryLeakError, VaultError
from proctor.flow import extract
from proctor.flow._ingest import render
from proctor.flow._labels import PRINCIPAL_SOURCES
from proctor.hooks import GateHooks
from proctor.model import Session
from proctor.vault import TOKEN, KeyedDigest, Vault, luhn_valid

log = logging.getLogger("proctor.memory")
KINDS = ("email", "iban", "phone")  # of flow.extract: values that identify a person or account
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    kind: str
    value: str  # keyed digest (hex) of the value


class Fingerprints:
    """Finds the identifying values of a text and digests them under ``digest``'s key."""

    def __init__(self, digest: KeyedDigest) -> None:
        self.digest = digest

    def find(self, text: str) -> list[Fingerprint]:
        seen: dict[str, Fingerprint] = {}

        def add(kind: str, value: str) -> None:
            fp = Fingerprint(kind, self.digest.hex(["memory.value", kind, value]))
            seen.setdefault(fp.value, fp)

        for found in extract(text):
            if found.kind in KINDS:
                add(found.kind, found.value)
        for m in CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if luhn_valid(digits):
                add("card", digits)
        for m in TOKEN.finditer(text):
            add("token", m.group())
        return list(seen.values())

    def owner(self, tenant: str) -> str:
        return self.digest.hex(["memory.tenant", tenant])

    def subject(self, tenant: str, subject: str | None) -> str | None:
        return None if subject is None else self.digest.hex(["memory.subject", tenant, subject])

    def rows(self, text: str, tenant: str, subject: str | None) -> list[dict[str, str | None]]:
        """The fingerprint rows of an item's text (``item_id`` is added by the store)."""
        owner, subj = self.owner(tenant), self.subject(tenant, subject)
        return [{"value": fp.value, "owner": owner, "subject": subj} for fp in self.find(text)]


class OwnerLookup(Protocol):
    def owners(self, values: list[str]) -> dict[str, set[tuple[str, str | None]]]: ...


class LeakFilter:
    """Tells which values of a text belong to another tenant or subject (``reasons``)."""

    def __init__(self, prints: Fingerprints, lookup: OwnerLookup) -> None:
        self.prints = prints
        self.lookup = lookup

    def reasons(
        self, text: str, tenant: str, subject: str | None, vault: Vault | None = None
    ) -> tuple[str, ...]:
        """Why ``text`` may not enter a scope of ``tenant`` (and ``subject``); empty: it may.
        Names kinds and counts, never values."""
        found = self.prints.find(text)
        if not found:
            return ()
        mine, my_subject = self.prints.owner(tenant), self.prints.subject(tenant, subject)
        owners = self.lookup.owners([fp.value for fp in found])
        tenants: Counter[str] = Counter()
        subjects: Counter[str] = Counter()
        for fp in found:
            rows = owners.get(fp.value)
            if not rows:
                continue
            ours = [s for o, s in rows if o == mine]
            bound = {s for s in ours if s is not None}  # the subjects it is known to be about
            if not ours:
                tenants[fp.kind] += 1
            elif my_subject is not None and bound and my_subject not in bound:
                subjects[fp.kind] += 1
        if vault is not None:
            for fp_kind, n in _foreign_tokens(text, tenant, vault).items():
                tenants[fp_kind] += n
        out = [f"{n} {k} value(s) of another tenant" for k, n in sorted(tenants.items())]
        out += [f"{n} {k} value(s) of another subject" for k, n in sorted(subjects.items())]
        return tuple(out)


def _foreign_tokens(text: str, tenant: str, vault: Vault) -> Counter[str]:
    out: Counter[str] = Counter()
    for token in {m.group() for m in TOKEN.finditer(text)}:
        try:
            row = vault.store.get(token)
        except VaultError:
            out["token (vault unreadable)"] += 1  # fail closed: cannot tell whose it is
            continue
        if row is not None and row.tenant != tenant:
            out["token"] += 1
    return out


class LeakGuard(GateHooks):
    """The gate hook: drops content of another tenant or subject on its way into a session.

    ``subject_of`` gives the session's subject (from the policy's ``memory.subject``);
    ``record`` audits and alerts (it may raise: the content is then refused all the same)."""

    def __init__(
        self,
        leaks: LeakFilter,
        subject_of: Callable[[Session], str | None],
        record: Callable[[Session, str, tuple[str, ...]], None],
        vault: Vault | None,
    ) -> None:
        self.leaks = leaks
        self.subject_of = subject_of
        self.record = record
        self.vault = vault

    def check(self, session: Session, content: object, source: str) -> None:
        if source in PRINCIPAL_SOURCES:
            return  # the principal's own words
        subject = self.subject_of(session)
        reasons = self.leaks.reasons(render(content), session.tenant, subject, self.vault)
        if reasons:
            try:
                self.record(session, source, reasons)
            except Exception:  # refused all the same; the failure to record is logged
                log.exception("could not record a memory leak in session %s", session.id)
            raise MemoryLeakError(source, reasons)

    async def on_content(self, session: Session, content: object, source: str) -> None:
        await asyncio.to_thread(self.check, session, content, source)
