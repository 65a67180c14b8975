"""``Memory``: the agent's long-term memory, owned by Proctor.

put, get, search and delete take a ``Scope`` (there is no call without one); reviewers list,
show, approve and reject pending items of a tenant; ``erase`` forgets everything about a
subject; ``sweep`` purges expired items. Every write is audited when an ``AuditLog`` is given.

The API is synchronous and thread-safe (each call is one or two short transactions); an HTTP
layer calls it from a worker thread, as the gate's async methods do.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import Engine

from proctor.audit import AuditLog
from proctor.detect import DetectorRegistry, default_registry
from proctor.errors import MemoryItemError, MemoryLeakError, MemoryVectorError
from proctor.flow import Trust, instruction_like, normalize
from proctor.memory import _audit as events
from proctor.memory._leak import Fingerprints, LeakFilter, LeakGuard
from proctor.memory._model import ErasureReport, MemoryItem, Origin, Status
from proctor.memory._rules import MemoryRules, check_kind
from proctor.memory._scope import Scope, check_name, require_scope
from proctor.memory._store import CANDIDATES, MemoryStore
from proctor.memory._vectors import SearchMode, check_mode, embed_one, fuse
from proctor.model import Environment, Session, new_id
from proctor.policy import PolicySet
from proctor.policy._memory_schema import MemoryPolicy
from proctor.types import Embedder
from proctor.vault import KeyedDigest, Vault

log = logging.getLogger("proctor.memory")
MAX_TEXT = 16_000
MAX_TERMS = 8
_WORD = re.compile(r"\w{2,}")
_MAX_FINDINGS = 3


def terms_of(query: str) -> list[str]:
    """The keywords of a query: normalized words of two characters or more, at most 8."""
    return list(dict.fromkeys(_WORD.findall(normalize(query))))[:MAX_TERMS]


class Memory:
    """Tenant-isolated, expiring, reviewed agent memory.

    ``digest`` keys the fingerprints of values (use the deployment's digest key, the same in
    every replica: ``KeyedDigest.from_env()`` or the vault keyring's). ``policies``: each
    agent's ``memory:`` section (None: the defaults for every agent). ``audit``: where writes,
    reviews, erasures and leaks are recorded. ``registry``: the detectors that find
    instruction-like text (default: the packaged registry). ``vault``: tells whose tokens are
    whose (the gate passes its own). ``embedder``: makes the vectors of vector search (each
    ``put`` stores its text's vector); None: keyword search only, and a vector search raises
    ``MemoryVectorError``.
    """

    def __init__(
        self,
        store: MemoryStore | Engine,
        *,
        digest: KeyedDigest,
        policies: PolicySet | None = None,
        audit: AuditLog | None = None,
        registry: DetectorRegistry | None = None,
        vault: Vault | None = None,
        clock: Callable[[], float] = time.time,
        embedder: Embedder | None = None,
    ) -> None:
        self.store = store if isinstance(store, MemoryStore) else MemoryStore(store)
        self.digest = digest
        self.policies = policies
        self.audit = audit
        self.registry = registry if registry is not None else default_registry()
        self.vault = vault
        self.clock = clock
        self.embedder = embedder
        self.prints = Fingerprints(digest)
        self.leaks = LeakFilter(self.prints, self.store)

    # -- rules --------------------------------------------------------------------------

    def rules(self, agent: str, policy: MemoryPolicy | None = None) -> MemoryRules:
        """The memory rules of ``agent``: ``policy`` if given, else its policy's section
        (``UnknownAgentError`` if ``policies`` declares no such agent), else the defaults."""
        if policy is None and self.policies is not None:
            policy = self.policies.require(agent, Environment.PRODUCTION).spec.memory
        return MemoryRules(policy)

    def instructions(self, text: str) -> tuple[str, ...]:
        """Why ``text`` reads as instructions (detector findings and instruction-like
        phrases); empty if it does not. A detector that fails counts as a finding."""
        found: list[str] = []
        phrase = instruction_like(normalize(text))
        if phrase is not None:
            found.append(f"instruction-like phrase {phrase[:60]!r}")
        try:
            judgement = self.registry.check(text)
            floor = self.registry.near_miss_threshold
            hits = sorted(
                (f for f in judgement.findings if f.errored or f.score >= floor),
                key=lambda f: -f.score,
            )
            found += [f"{f.detector}: {f.explanation}" for f in hits[:_MAX_FINDINGS]]
        except Exception as exc:  # fail closed: a text that cannot be judged is not trusted
            found.append(f"detectors failed ({type(exc).__name__}); not trusted")
        return tuple(found)

    # -- the agent's operations ---------------------------------------------------------

    def put(
        self,
        scope: Scope,
        text: str,
        *,
        kind: str = "note",
        origin: Origin | None = None,
        policy: MemoryPolicy | None = None,
        vault: Vault | None = None,
    ) -> MemoryItem:
        """Store ``text`` as an item of ``kind`` in ``scope``. ``origin``: where it came from
        (None: unknown, hence untrusted). ``vault``: whose tokens are whose (default: this
        memory's). Raises ``MemoryLeakError`` (nothing stored, audited)
        if it carries values or tokens of another tenant or subject."""
        scope = require_scope(scope)
        kind = check_kind(kind)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise MemoryItemError(
                f"memory text must be a non-empty string of at most {MAX_TEXT} characters"
            )
        if "\x00" in text:  # PostgreSQL text cannot hold it; no store holds it either
            raise MemoryItemError("memory text must not contain NUL characters")
        origin = origin if origin is not None else Origin("unknown", Trust.UNTRUSTED)
        rules = self.rules(scope.agent, policy)
        vault = vault if vault is not None else self.vault
        reasons = self.leaks.reasons(text, scope.tenant, scope.subject, vault)
        if reasons:
            self.record_leak(
                origin.session_id, scope.tenant, f"memory.put:{origin.source}", reasons
            )
            raise MemoryLeakError(f"memory.put:{origin.source}", reasons)
        findings = self.instructions(text)
        vector = None  # computed before the write is recorded: a failed embedder stores nothing
        if self.embedder is not None:
            vector = (self.embedder.name, embed_one(self.embedder, text, "put"))
        trusted = origin.trust is Trust.TRUSTED and not findings
        review = rules.always_review(kind) or (not trusted and rules.untrusted(kind) == "review")
        now = self.clock()
        item = MemoryItem(
            id=new_id("mem"),
            scope=scope,
            kind=kind,
            text=text,
            status=Status.PENDING if review else Status.ACTIVE,
            trusted=trusted,
            confidentiality=origin.confidentiality,
            source=origin.source,
            session_id=origin.session_id,
            contents=origin.contents,
            audit_id=None,
            findings=findings,
            created_at=now,
            expires_at=now + rules.ttl(kind, scope),
        )
        if self.audit is not None:  # recorded first: an unrecorded write never happens
            rec = self.audit.append(events.written(item, self.digest, origin.records))
            item = _with_audit(item, rec.id)
        prints = self.prints.rows(text, scope.tenant, scope.subject)
        self.store.insert(item, normalize(text), prints, vector)
        return item

    def get(self, scope: Scope, item_id: str) -> MemoryItem | None:
        """The item, if ``scope`` may see it, it is not awaiting review, and not expired."""
        scope = require_scope(scope)
        return self.store.get(scope, item_id, self.clock())

    def search(
        self, scope: Scope, query: str = "", *, limit: int = 10, mode: SearchMode = "keyword"
    ) -> list[MemoryItem]:
        """Items of ``scope`` for ``query``, best first. Never an item awaiting review or
        expired. ``mode``: ``keyword`` (items containing the query's words; an empty query:
        the newest items), ``vector`` (items nearest the query's vector, among those embedded
        by this memory's embedder) or ``hybrid`` (both rankings fused). ``vector`` and
        ``hybrid`` raise ``MemoryVectorError`` without an embedder or a query."""
        scope = require_scope(scope)
        mode = check_mode(mode)
        if mode != "keyword":
            return self._nearest(scope, query, min(max(limit, 0), 200), mode)
        terms = terms_of(query)
        if limit < 1 or (query.strip() and not terms):
            return []
        return self.store.search(scope, terms, self.clock(), min(limit, 200))

    def _nearest(self, scope: Scope, query: str, limit: int, mode: SearchMode) -> list[MemoryItem]:
        if not isinstance(query, str) or not query.strip():
            raise MemoryVectorError(f"{mode} search needs a query (an empty one has no vector)")
        embedder = self.embedder
        vector = embed_one(embedder, query, f"{mode} search")
        if embedder is None or limit < 1:  # (embed_one raised without one)
            return []
        now = self.clock()
        wanted = limit if mode == "vector" else max(limit, CANDIDATES)
        near = self.store.nearest(scope, embedder.name, vector, embedder.dimensions, now, wanted)
        if mode == "vector":
            return near
        terms = terms_of(query)
        words = self.store.search(scope, terms, now, CANDIDATES) if terms else []
        by_id = {i.id: i for i in (*near, *words)}
        return [by_id[i] for i in fuse([i.id for i in words], [i.id for i in near])[:limit]]

    def delete(self, scope: Scope, item_id: str, *, by: str = "agent") -> bool:
        """Delete an item ``scope`` may see (whatever its status). True if one was deleted."""
        scope = require_scope(scope)
        gone = self.store.delete(scope, item_id)
        if gone is not None and self.audit is not None:
            self.audit.append(events.deleted([gone], self.digest, by=by, why="delete"))
        return gone is not None

    # -- reviewers ----------------------------------------------------------------------

    def pending(
        self,
        tenant: str,
        *,
        workspace: str | None = None,
        agent: str | None = None,
        limit: int = 50,
    ) -> list[MemoryItem]:
        """Items of ``tenant`` awaiting review (oldest first), with their provenance."""
        check_name(tenant, "tenant")
        return self.store.pending(
            tenant, self.clock(), workspace=workspace, agent=agent, limit=limit
        )

    def item(self, tenant: str, item_id: str) -> MemoryItem | None:
        """An item of ``tenant`` whatever its status, for a reviewer to see with its source."""
        check_name(tenant, "tenant")
        return self.store.find(tenant, item_id)

    def review(
        self, tenant: str, item_id: str, *, approve: bool, by: str, note: str | None = None
    ) -> MemoryItem | None:
        """Approve (the item becomes active; trusted unless its text is instruction-like) or
        reject (it is deleted) an item awaiting review. Returns the approved item, or None
        when rejected. Raises ``MemoryItemError`` if no such item awaits review."""
        check_name(tenant, "tenant")
        if not isinstance(by, str) or not by.strip():
            raise MemoryItemError("a review names its reviewer (by=...)")
        found = self.store.find(tenant, item_id)
        if found is None or not found.pending:
            raise MemoryItemError(f"no memory item {item_id!r} awaits review in tenant {tenant!r}")
        if found.expires_at <= self.clock():
            raise MemoryItemError(f"memory item {item_id!r} has expired")
        if approve:
            done = self.store.review(
                tenant, item_id, trusted=not found.findings, by=by, at=self.clock()
            )
        else:
            done = self.store.reject(tenant, item_id)
        if done is None:  # reviewed by someone else in between
            raise MemoryItemError(f"memory item {item_id!r} is no longer awaiting review")
        if self.audit is not None:
            self.audit.append(
                events.reviewed(done, self.digest, approved=approve, by=by, note=note)
            )
        return done if approve else None

    # -- expiry and erasure -------------------------------------------------------------

    def erase(self, tenant: str, subject: str, *, by: str, reason: str = "") -> ErasureReport:
        """Delete everything memory holds about ``subject`` in ``tenant`` (every workspace,
        agent and status), and the fingerprints of its values; audited; returns the report."""
        check_name(tenant, "tenant")
        check_name(subject, "subject")
        if not isinstance(by, str) or not by.strip():
            raise MemoryItemError("an erasure names who asked for it (by=...)")
        items, prints = self.store.erase_subject(tenant, subject)
        report = ErasureReport(
            tenant,
            subject,
            tuple(sorted(i.id for i in items)),
            dict(Counter(i.kind for i in items)),
            dict(Counter(i.scope.workspace for i in items)),
            prints,
        )
        if self.audit is not None:
            rec = self.audit.append(events.erased(report, self.digest, by=by, reason=reason))
            report = replace(report, audit_id=rec.id)
        return report

    def sweep(self, *, batch: int = 1000) -> int:
        """Purge every expired item (of every tenant); return how many were deleted."""
        total = 0
        while True:
            n = self.store.sweep(self.clock(), batch=batch)
            total += n
            if n < batch:
                break
        if total and self.audit is not None:
            self.audit.append(events.swept(total))
        return total

    # -- leaks --------------------------------------------------------------------------

    def record_leak(
        self, session_id: str | None, tenant: str, source: str, reasons: Sequence[str]
    ) -> None:
        """Audit a dropped content (a ``memory.leak`` record and an ``alert``) and log it."""
        log.warning("memory leak filter dropped content from %s: %s", source, "; ".join(reasons))
        if self.audit is not None:
            self.audit.append_many(events.leak(session_id, tenant, source, reasons))

    def guard(self, policies: PolicySet, vault: Vault | None) -> LeakGuard:
        """The gate hook that drops foreign content on its way into a session."""

        def subject_of(session: Session) -> str | None:
            pol = policies.require(session.agent, session.environment)
            return MemoryRules(pol.spec.memory).subject_of(session)

        def record(session: Session, source: str, reasons: tuple[str, ...]) -> None:
            self.record_leak(session.id, session.tenant, source, reasons)

        return LeakGuard(self.leaks, subject_of, record, vault)


def _with_audit(item: MemoryItem, audit_id: str) -> MemoryItem:
    return replace(item, audit_id=audit_id)
