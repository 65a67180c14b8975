"""put, get, search, delete: what each returns, subjects, keyword ranking, provenance."""

from __future__ import annotations

import pytest

from proctor.flow import Confidentiality, Trust
from proctor.memory import Origin, Scope, Status, terms_of

A = Scope("acme", "retail", "support-bot")
A_C1 = Scope("acme", "retail", "support-bot", "C-1")
A_C2 = Scope("acme", "retail", "support-bot", "C-2")


@pytest.fixture
def memory(memory_url, make_memory):
    return make_memory(memory_url)


def test_put_then_get_and_search(memory):
    item = memory.put(
        A_C1,
        "Prefers email over phone calls",
        kind="preference",
        origin=Origin.principal(session_id="ses_1"),
    )
    assert item.status is Status.ACTIVE
    assert item.trusted
    assert memory.get(A_C1, item.id) == item
    assert [i.id for i in memory.search(A_C1, "EMAIL")] == [item.id]
    assert memory.search(A_C1, "invoice") == []


def test_subjects_see_their_items_and_general_ones_never_another_subjects(memory):
    general = memory.put(A, "The shop closes at six", origin=Origin.principal())
    c1 = memory.put(A_C1, "C-1 likes the shop", origin=Origin.principal())
    c2 = memory.put(A_C2, "C-2 dislikes the shop", origin=Origin.principal())
    assert {i.id for i in memory.search(A_C1, "shop")} == {general.id, c1.id}
    assert {i.id for i in memory.search(A_C2, "shop")} == {general.id, c2.id}
    assert {i.id for i in memory.search(A, "shop")} == {general.id}  # no subject: general only
    assert memory.get(A_C2, c1.id) is None
    assert memory.get(A, c1.id) is None


def test_search_ranks_by_terms_matched_then_newest(memory):
    one = memory.put(A, "refund policy", origin=Origin.principal())
    two = memory.put(A, "refund policy for damaged goods", origin=Origin.principal())
    three = memory.put(A, "damaged parcel", origin=Origin.principal())
    found = memory.search(A, "damaged refund policy")
    assert [i.id for i in found] == [two.id, one.id, three.id]
    assert [i.id for i in memory.search(A, "", limit=2)] == [three.id, two.id]


def test_like_wildcards_in_a_query_are_literal(memory):
    memory.put(A, "plain text", origin=Origin.principal())
    assert memory.search(A, "%%") == []
    assert memory.search(A, "__") == []
    assert terms_of("Ünïcode  FOO foo a") == ["ünïcode", "foo"]  # case-folded, deduplicated


def test_delete_only_within_scope(memory):
    item = memory.put(A_C1, "secret plan", origin=Origin.principal())
    assert not memory.delete(A_C2, item.id)
    assert not memory.delete(Scope("globex", "retail", "support-bot", "C-1"), item.id)
    assert memory.delete(A_C1, item.id)
    assert memory.get(A_C1, item.id) is None
    assert not memory.delete(A_C1, item.id)


def test_an_item_records_its_provenance(memory):
    origin = Origin(
        "tool:crm.lookup", Trust.TRUSTED, Confidentiality.PERSONAL, "ses_9", ("cnt_1", "cnt_2")
    )
    item = memory.put(A_C1, "Account opened in 2019", kind="fact", origin=origin)
    got = memory.get(A_C1, item.id)
    assert got is not None
    assert (got.source, got.session_id, got.contents) == (
        "tool:crm.lookup",
        "ses_9",
        ("cnt_1", "cnt_2"),
    )
    assert got.confidentiality is Confidentiality.PERSONAL
    assert got.trusted


def test_an_item_of_unknown_origin_is_untrusted_and_quarantined_by_default(memory):
    item = memory.put(A, "Customer said the parcel never arrived")
    assert not item.trusted
    assert item.status is Status.PENDING
    assert memory.get(A, item.id) is None
    assert memory.search(A, "parcel") == []
