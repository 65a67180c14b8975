"""Memory in a session: what the gate's ``context`` and ``remember`` do.

``assemble`` finds the items a session may see (its scope, per the policy's ``memory:``
section; never an item awaiting review or expired) and puts each through the gate's ingest
path: the leak filter (an item carrying another tenant's or subject's values is dropped,
audited, alerted), data access controls (masked, tokenized or withheld as the data rules say),
labels and provenance (an untrusted item is fenced, and its values count as untrusted for the
flow rules), and the content detectors. What comes out is ready to be put into a prompt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from proctor.errors import MemoryLeakError, VaultError
from proctor.flow import Confidentiality, Labeled, Trust
from proctor.memory._memory import Memory
from proctor.memory._model import MemoryItem, Origin
from proctor.memory._scope import Scope
from proctor.model import Session
from proctor.policy._memory_schema import MemoryPolicy
from proctor.vault import TOKEN, Vault

log = logging.getLogger("proctor.memory")

Ingest = Callable[[Session, str, str, Trust, Confidentiality], Awaitable[Labeled]]
"""The gate's ingest path: (session, text, source, trust, confidentiality) -> Labeled."""


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One memory item as the model may see it. ``content_id``: the content it entered the
    session as (the flow rules and the audit log know it by this id)."""

    id: str
    kind: str
    text: str
    trusted: bool
    content_id: str
    source: str


@dataclass(frozen=True, slots=True)
class MemoryContext:
    """The memory items a session may see, labeled, fenced and masked. ``dropped``: ids of
    items the leak filter dropped; ``withheld``: ids of items the detectors or the data
    controls withheld."""

    scope: Scope
    items: tuple[ContextItem, ...]
    dropped: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()

    @property
    def prompt(self) -> str:
        """The items as one block of text for a prompt, each headed by its kind and trust."""
        parts = []
        for i in self.items:
            mark = "trusted" if i.trusted else "untrusted"
            parts.append(f"[memory {i.id} ({i.kind}, {mark})]\n{i.text}")
        return "\n\n".join(parts)


def source_of(item: MemoryItem) -> str:
    return f"memory:{item.kind}:{item.id}"


async def assemble(
    memory: Memory,
    session: Session,
    query: str,
    ingest: Ingest,
    *,
    policy: MemoryPolicy,
    limit: int | None = None,
) -> MemoryContext:
    """The context of ``session`` for ``query`` (see the module's docstring)."""
    rules = memory.rules(session.agent, policy)
    scope = rules.scope_of(session)
    wanted = limit if limit is not None else policy.context_limit
    mode = policy.context_search
    items = await asyncio.to_thread(lambda: memory.search(scope, query, limit=wanted, mode=mode))
    out: list[ContextItem] = []
    dropped: list[str] = []
    withheld: list[str] = []
    for item in items:
        trust = Trust.TRUSTED if item.trusted else Trust.UNTRUSTED
        try:
            labeled = await ingest(session, item.text, source_of(item), trust, item.confidentiality)
        except MemoryLeakError:
            dropped.append(item.id)  # audited and alerted by the leak guard
            continue
        except Exception as exc:  # hostile, or data controls refused it: withheld (fail closed)
            log.warning("memory item %s withheld from session %s: %s", item.id, session.id, exc)
            withheld.append(item.id)
            continue
        out.append(
            ContextItem(item.id, item.kind, labeled.text, labeled.trusted, labeled.id, item.source)
        )
    return MemoryContext(scope, tuple(out), tuple(dropped), tuple(withheld))


async def remember(
    memory: Memory,
    session: Session,
    text: str,
    *,
    kind: str,
    derived_from: Sequence[Labeled],
    policy: MemoryPolicy,
    vault: Vault | None,
) -> MemoryItem:
    """Store what ``session``'s agent wants remembered, in the session's memory scope.

    Its origin is the contents it derives from (``derived_from``; none: the agent's own
    words, untrusted). Tokens this session minted become their values (memory outlives the
    session, its tokens do not); any other token stays, and one of another tenant makes the
    leak filter refuse the item."""
    scope = memory.rules(session.agent, policy).scope_of(session)
    if vault is not None:

        def clear(token: str) -> str:
            try:
                return vault.detokenize(token, tenant=session.tenant, session_id=session.id).value
            except VaultError:
                return token

        text = await asyncio.to_thread(lambda: TOKEN.sub(lambda m: clear(m.group()), text))
    origin = (
        Origin.of(derived_from, session_id=session.id)
        if derived_from
        else Origin("agent", Trust.UNTRUSTED, session_id=session.id)
    )
    return await asyncio.to_thread(
        lambda: memory.put(scope, text, kind=kind, origin=origin, policy=policy, vault=vault)
    )
