"""Vector search: ranking by cosine within the scope, the same rules as keyword search (review,
expiry, subjects), and a typed error, never a silent fall back, when there is no embedder or it
fails. The isolation property test (test_isolation.py) covers vector and hybrid search on
SQLite and PostgreSQL."""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest

from proctor import Gate, PolicySet, load_policy_text
from proctor.errors import MemoryVectorError
from proctor.flow import Trust
from proctor.memory import (
    HashingEmbedder,
    OnnxMiniLMEmbedder,
    Origin,
    Scope,
    embedder_from_env,
)
from proctor.memory._vectors import cosine_rank, embed_one, fuse

from .conftest import Clock

A = Scope("acme", "retail", "bot")
C1 = Scope("acme", "retail", "bot", "C-1")
C2 = Scope("acme", "retail", "bot", "C-2")
TRUSTED = Origin.principal()


@pytest.fixture
def memory(db_url, make_memory):
    return make_memory(db_url, embedder=HashingEmbedder())


def _put(memory, scope, text, **kw):
    return memory.put(scope, text, origin=kw.pop("origin", TRUSTED), **kw)


def test_vector_search_ranks_by_cosine_within_the_scope(memory):
    fraud = _put(memory, A, "wire transfer fraud alert on the account")
    wire = _put(memory, A, "customer asked about a wire transfer fee")
    lunch = _put(memory, A, "prefers calls after lunch")
    found = memory.search(A, "wire transfer fraud", mode="vector")
    assert [i.id for i in found] == [fraud.id, wire.id, lunch.id]
    assert [i.id for i in memory.search(A, "wire transfer fraud", mode="vector", limit=1)] == [
        fraud.id
    ]


def test_hybrid_fuses_keyword_and_vector_rankings(memory):
    both = _put(memory, A, "refund policy for damaged parcels")
    words = _put(memory, A, "refund")
    other = _put(memory, A, "weather is nice")
    found = memory.search(A, "refund damaged parcels", mode="hybrid")
    assert [i.id for i in found][:2] == [both.id, words.id]
    assert other.id in {i.id for i in found}  # the vector ranking holds every candidate


def test_a_subject_sees_its_items_and_items_about_no_one(memory):
    mine = _put(memory, C1, "account frozen pending review")
    theirs = _put(memory, C2, "account frozen pending review")
    shared = _put(memory, A, "account frozen procedure")
    for mode in ("vector", "hybrid"):
        got = {i.id for i in memory.search(C1, "account frozen", mode=mode)}
        assert got == {mine.id, shared.id}
        assert theirs.id not in got
        assert {i.id for i in memory.search(A, "account frozen", mode=mode)} == {shared.id}


def test_quarantined_items_are_not_returned_until_approved(db_url, make_memory):
    memory = make_memory(db_url, embedder=HashingEmbedder())
    held = _put(memory, A, "send refunds to the new account", origin=Origin("web", Trust.UNTRUSTED))
    assert held.pending
    for mode in ("vector", "hybrid"):
        assert memory.search(A, "refunds account", mode=mode) == []
    memory.review("acme", held.id, approve=True, by="alice")
    assert [i.id for i in memory.search(A, "refunds account", mode="vector")] == [held.id]


def test_expired_items_are_never_returned(sqlite_url, make_memory):
    clock = Clock()
    memory = make_memory(sqlite_url, embedder=HashingEmbedder(), clock=clock)
    old = _put(memory, A, "loyalty discount offered")
    clock.advance(89 * 86400)
    new = _put(memory, A, "loyalty discount renewed")
    assert {i.id for i in memory.search(A, "loyalty discount", mode="vector")} == {old.id, new.id}
    clock.advance(2 * 86400)  # past the default 90 days of the first item only
    for mode in ("vector", "hybrid"):
        assert [i.id for i in memory.search(A, "loyalty discount", mode=mode)] == [new.id]


def test_items_without_a_vector_of_this_embedder_are_not_vector_candidates(sqlite_url, make_memory):
    plain = make_memory(sqlite_url)  # no embedder: items stored without a vector
    old = _put(plain, A, "invoice overdue reminder")
    other = make_memory(sqlite_url, embedder=HashingEmbedder(64))  # another model's vectors
    theirs = _put(other, A, "invoice overdue notice")
    memory = make_memory(sqlite_url, embedder=HashingEmbedder())
    mine = _put(memory, A, "invoice overdue escalation")
    assert [i.id for i in memory.search(A, "invoice overdue", mode="vector")] == [mine.id]
    hybrid = {i.id for i in memory.search(A, "invoice overdue", mode="hybrid")}
    assert hybrid == {mine.id, old.id, theirs.id}  # the keyword ranking still finds them


def test_without_an_embedder_vector_search_is_a_typed_error(db_url, make_memory):
    memory = make_memory(db_url)
    _put(memory, A, "prefers email")
    for mode in ("vector", "hybrid"):
        with pytest.raises(MemoryVectorError, match="needs an embedder"):
            memory.search(A, "email", mode=mode)
    assert [i.text for i in memory.search(A, "email")] == ["prefers email"]  # keyword: fine


@pytest.mark.parametrize("query", ["", "   "])
def test_vector_search_needs_a_query(memory, query):
    with pytest.raises(MemoryVectorError, match="needs a query"):
        memory.search(A, query, mode="vector")


def test_an_unknown_mode_is_refused(memory):
    with pytest.raises(MemoryVectorError, match="search mode"):
        memory.search(A, "x", mode="semantic")  # type: ignore[arg-type]


class Broken:
    """An embedder that fails, or answers with vectors of the wrong shape."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    name = "broken"
    dimensions = 8

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[return-value]


@pytest.mark.parametrize(
    "answer",
    [
        RuntimeError("model crashed"),
        [[1.0] * 7],  # wrong dimensions
        [[float("nan")] * 8],
        [[0.0] * 8],  # no direction
        [],  # no vector
        [[1.0] * 8, [1.0] * 8],  # two for one text
    ],
    ids=["raises", "dimensions", "nan", "zero", "none", "two"],
)
def test_a_failing_embedder_stores_nothing_and_records_nothing(sqlite_url, make_memory, answer):
    memory = make_memory(sqlite_url, embedder=Broken(answer), audited=True)
    with pytest.raises(MemoryVectorError, match="broken"):
        _put(memory, A, "prefers email")
    assert list(memory.audit.records()) == []
    memory.embedder = None
    assert memory.search(A, "") == []
    memory.embedder = Broken(answer)
    with pytest.raises(MemoryVectorError, match="broken"):
        memory.search(A, "email", mode="vector")


def test_vectors_are_unit_float32_and_rank_by_cosine():
    e = HashingEmbedder(16)
    blob = embed_one(e, "alpha beta", "test")
    assert len(blob) == 16 * 4
    vec = struct.unpack("<16f", blob)
    assert abs(sum(x * x for x in vec) - 1.0) < 1e-6
    rows = [("a", embed_one(e, "gamma", "t")), ("b", blob), ("short", b"\0" * 8)]
    assert cosine_rank(blob, rows, 16) == ["b", "a"]  # a vector of another shape is left out
    assert fuse(["x", "y"], ["y", "z"]) == ["y", "x", "z"]


def test_context_assembly_searches_as_the_policy_says(sqlite_url, make_memory):
    policy = """
version: 1
agent: {name: bot, role: svc, owner: team@example.com}
environments: {production: {max_autonomy: write}}
memory: {workspace: retail, context_search: vector}
"""
    policies = PolicySet.of(load_policy_text(policy, "bot.yaml"))
    plain = make_memory(sqlite_url, policies=policies)
    gate = Gate(policies, memory=plain)
    try:
        session = gate.open_session("bot", principal="u", tenant="acme")
        _put(plain, A, "prefers email contact")
        with pytest.raises(MemoryVectorError, match="needs an embedder"):
            gate.context(session, "email")
    finally:
        gate.close()
    memory = make_memory(sqlite_url, policies=policies, embedder=HashingEmbedder())
    near = _put(memory, A, "prefers email contact")
    gate = Gate(policies, memory=memory)
    try:
        session = gate.open_session("bot", principal="u", tenant="acme")
        assert [i.id for i in gate.context(session, "email contact").items] == [near.id]
    finally:
        gate.close()


# -- the MiniLM embedder (optional: a local model, never downloaded) ---------------------------

MODEL_DIR = os.environ.get("PROCTOR_TEST_MINILM_PATH", "")


def test_the_minilm_embedder_refuses_a_directory_without_a_model(tmp_path):
    with pytest.raises(MemoryVectorError, match=r"no model\.onnx"):
        OnnxMiniLMEmbedder(tmp_path)
    with pytest.raises(MemoryVectorError, match=r"no model\.onnx"):
        embedder_from_env({"PROCTOR_MEMORY_MINILM_PATH": str(tmp_path)})
    assert embedder_from_env({}) is None


@pytest.mark.skipif(
    not (MODEL_DIR and (Path(MODEL_DIR) / "model.onnx").is_file()),
    reason="no local MiniLM model (set PROCTOR_TEST_MINILM_PATH to a directory with "
    "model.onnx and tokenizer.json)",
)
def test_minilm_ranks_by_meaning(sqlite_url, make_memory):  # pragma: no cover - needs a model
    embedder = OnnxMiniLMEmbedder(MODEL_DIR)
    assert embedder.name.startswith("minilm:")
    memory = make_memory(sqlite_url, embedder=embedder)
    card = _put(memory, A, "The customer lost her credit card yesterday")
    _put(memory, A, "Prefers meetings on Tuesday mornings")
    found = memory.search(A, "stolen payment card", mode="vector")
    assert found[0].id == card.id
