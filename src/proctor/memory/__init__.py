"""Agent memory: tenant-isolated, expiring, reviewed (docs/memory.md).

``Memory`` is the API (put, get, search, delete; pending, review; erase, sweep), each call
with a ``Scope``. Isolation is enforced in every query and, on PostgreSQL, by row-level
security. ``Gate(..., memory=...)`` wires it into the gate: ``gate.context(session, query)``
assembles what a session may see; ``gate.remember(session, text)`` stores what its agent
learned; a leak filter drops content of another tenant or subject on its way into a session.
With an ``Embedder`` (``HashingEmbedder`` for tests, ``OnnxMiniLMEmbedder`` for a local
MiniLM model), ``search(..., mode="vector" | "hybrid")`` ranks a scope's items by vector.
"""

from __future__ import annotations

from proctor.memory._context import ContextItem, MemoryContext, assemble, remember
from proctor.memory._leak import Fingerprints, LeakFilter, LeakGuard
from proctor.memory._memory import Memory, terms_of
from proctor.memory._model import ErasureReport, MemoryItem, Origin, Status
from proctor.memory._onnx import OnnxMiniLMEmbedder
from proctor.memory._rules import MemoryRules
from proctor.memory._scope import Scope, require_scope
from proctor.memory._settings import deployment_digest, embedder_from_env, open_memory
from proctor.memory._store import MemoryStore
from proctor.memory._vectors import HashingEmbedder, SearchMode
from proctor.types import Embedder

__all__ = [
    "ContextItem",
    "Embedder",
    "ErasureReport",
    "Fingerprints",
    "HashingEmbedder",
    "LeakFilter",
    "LeakGuard",
    "Memory",
    "MemoryContext",
    "MemoryItem",
    "MemoryRules",
    "MemoryStore",
    "OnnxMiniLMEmbedder",
    "Origin",
    "Scope",
    "SearchMode",
    "Status",
    "assemble",
    "deployment_digest",
    "embedder_from_env",
    "open_memory",
    "remember",
    "require_scope",
    "terms_of",
]
