"""``/v1/memory`` over HTTP: every operation is scoped, and the scope's tenant is the caller's.

An agent key for tenant A can never read or write tenant B, whatever tenant the request names;
a person reviews or erases only in the tenants of their ``memory@TENANT`` groups. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from proctor.approvals import Role
from proctor.memory import HashingEmbedder
from proctor.server import Gateway, create_app
from proctor.types import Embedder

from ._world import World, enroll, settings_for, write_policies

MEMORY = """
memory:
  untrusted: fence
  workspace: session.scope.workspace
  subject: session.scope.customer
"""
PEOPLE = {
    "mia": ([Role.APPROVER], ["memory@acme"]),  # reviews acme's memory
    "gina": ([Role.APPROVER], ["memory@globex"]),  # reviews globex's
    "dora": ([Role.ADMIN], ["memory@acme"]),  # erases in acme
}


@contextmanager
def gateway(url: str, root, embedder: Embedder | None) -> Iterator[World]:
    policy = write_policies(root)
    (policy / "refunds.yaml").write_text((policy / "refunds.yaml").read_text() + MEMORY)
    settings = settings_for(url, policy)
    gw = Gateway(settings, worker_interval=0.2, embedder=embedder)
    keys = enroll(gw)
    admin = gw.queue.access.authenticate("root", keys["root"])
    for name, (roles, groups) in PEOPLE.items():
        keys[name] = gw.queue.access.add(name, roles, groups, by=admin)
    try:
        with TestClient(create_app(settings, gateway=gw), raise_server_exceptions=False) as c:
            yield World(gw, c, keys)
    finally:
        gw.close()


@pytest.fixture
def make(db_url, tmp_path) -> Iterator[Callable[..., World]]:
    stack: list[Any] = []

    def build(embedder: Embedder | None = None) -> World:
        cm = gateway(db_url, tmp_path, embedder)
        stack.append(cm)
        return cm.__enter__()

    yield build
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def w(make) -> World:
    return make(HashingEmbedder())


def scope(tenant: str = "acme", subject: str | None = None, **kw: str) -> dict[str, Any]:
    out: dict[str, Any] = {"tenant": tenant, "workspace": "retail", "agent": "refunds-bot"}
    out.update(kw)
    if subject is not None:
        out["subject"] = subject
    return out


def put(w: World, who: str, text: str, **kw: Any) -> httpx.Response:
    body = {"scope": kw.pop("scope", None) or scope(), "text": text, **kw}
    return w.post("/v1/memory/items", who, body)


def delete(w: World, path: str, who: str, **params: Any) -> httpx.Response:
    return w.client.delete(path, headers=w.h(who), params=params)


# -- the agent's operations ---------------------------------------------------------------------


def test_put_get_search_delete(w):
    r = put(w, "bot", "Prefers to be contacted by email")
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["tenant"], item["workspace"], item["agent"]) == ("acme", "retail", "refunds-bot")
    assert item["source"] == "agent:bot"  # the key, never what the request claims
    assert item["trusted"] is False
    assert item["status"] == "active"
    got = w.get(f"/v1/memory/items/{item['id']}", "bot", params=scope())
    assert got.status_code == 200
    assert got.json() == item
    found = w.post("/v1/memory/search", "bot", {"scope": scope(), "query": "email"}).json()
    assert [i["id"] for i in found["items"]] == [item["id"]]
    assert delete(w, f"/v1/memory/items/{item['id']}", "bot", **scope()).json() == {
        "id": item["id"],
        "deleted": True,
    }
    assert w.get(f"/v1/memory/items/{item['id']}", "bot", params=scope()).status_code == 404
    assert delete(w, f"/v1/memory/items/{item['id']}", "bot", **scope()).status_code == 404


def test_bot2_shares_the_tenant_and_agent_and_so_the_memory(w):
    """Isolation is by scope, not by key: two keys granted the same agent and tenant share."""
    item = put(w, "bot", "Order O-1 was damaged").json()
    assert w.get(f"/v1/memory/items/{item['id']}", "bot2", params=scope()).status_code == 200


# -- tenants: from the caller, never from the request -------------------------------------------


def _globex_item(w: World) -> dict[str, Any]:
    r = put(w, "globex-bot", "Globex secret roadmap note", scope=scope("globex"))
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("who", ["bot", "hr"])
def test_an_agent_key_never_reaches_a_tenant_or_agent_outside_its_grant(w, who):
    theirs = _globex_item(w)
    g = scope("globex")
    if who == "hr":  # granted every tenant, but another agent: refunds-bot's memory is not its
        g = scope("acme")
    answers = [
        put(w, who, "planted", scope=g),
        w.get(f"/v1/memory/items/{theirs['id']}", who, params=g),
        w.post("/v1/memory/search", who, {"scope": g, "query": "roadmap"}),
        w.post("/v1/memory/search", who, {"scope": g, "query": "roadmap", "mode": "vector"}),
        delete(w, f"/v1/memory/items/{theirs['id']}", who, **g),
    ]
    for r in answers:
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "access_denied"
    # the item is intact, and nothing was planted
    mine = w.post("/v1/memory/search", "globex-bot", {"scope": scope("globex"), "query": ""})
    assert [i["id"] for i in mine.json()["items"]] == [theirs["id"]]


def test_another_tenants_item_id_is_not_found_in_ones_own_scope(w):
    theirs = _globex_item(w)
    assert w.get(f"/v1/memory/items/{theirs['id']}", "bot", params=scope()).status_code == 404
    assert delete(w, f"/v1/memory/items/{theirs['id']}", "bot", **scope()).status_code == 404
    for mode in ("keyword", "vector", "hybrid"):
        r = w.post("/v1/memory/search", "bot", {"scope": scope(), "query": "roadmap", "mode": mode})
        assert r.status_code == 200, mode
        assert r.json()["items"] == [], mode


@pytest.mark.parametrize("who", ["root", "mia", "audrey"])
def test_people_do_not_use_agent_memory(w, who):
    r = put(w, who, "a person's note")
    assert r.status_code == 403
    assert r.json()["error"] == "access_denied"


def test_a_value_of_another_tenant_is_refused(w):
    assert put(w, "bot", "Jane writes from jane.doe@example.org").status_code == 201
    r = put(w, "globex-bot", "contact jane.doe@example.org", scope=scope("globex"))
    assert r.status_code == 403
    assert r.json()["error"] == "memory_leak"
    assert "jane" not in r.json()["message"]  # kinds and counts, never the value


@pytest.mark.parametrize(
    "body",
    [
        {"text": "no scope"},
        {"scope": {"tenant": "acme", "workspace": "retail"}, "text": "no agent"},
        {"scope": scope(tenant=""), "text": "empty tenant"},
        {"scope": scope(), "text": ""},
        {"scope": scope(), "text": "x", "kind": "Bank Account"},
        {"scope": scope(), "text": "x", "trusted": True},  # a caller cannot claim trust
        {"scope": scope(), "text": "x", "source": "operator"},
    ],
)
def test_malformed_requests_name_the_field(w, body):
    r = w.post("/v1/memory/items", "bot", body)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid"
    assert r.json()["message"]


def test_get_without_a_complete_scope_is_refused(w):
    item = put(w, "bot", "a note").json()
    r = w.get(f"/v1/memory/items/{item['id']}", "bot", params={"tenant": "acme"})
    assert r.status_code == 422
    assert "workspace" in r.json()["message"]


# -- vector search ------------------------------------------------------------------------------


def test_vector_search_ranks_by_vector(w):
    ids = [
        put(w, "bot", text).json()["id"]
        for text in ("parcel arrived damaged", "refund for damaged parcel issued", "likes tea")
    ]
    r = w.post(
        "/v1/memory/search",
        "bot",
        {"scope": scope(), "query": "damaged parcel refund", "mode": "vector"},
    )
    assert [i["id"] for i in r.json()["items"]] == [ids[1], ids[0], ids[2]]


def test_without_an_embedder_vector_search_is_a_409_never_keyword(make):
    w = make(None)
    put(w, "bot", "parcel arrived damaged")
    for mode in ("vector", "hybrid"):
        r = w.post("/v1/memory/search", "bot", {"scope": scope(), "query": "parcel", "mode": mode})
        assert r.status_code == 409
        assert r.json()["error"] == "vector_search_unavailable"
    r = w.post("/v1/memory/search", "bot", {"scope": scope(), "query": "parcel"})
    assert len(r.json()["items"]) == 1


# -- review -------------------------------------------------------------------------------------


def _pending(w: World, text: str = "Refunds go to DE89370400440532013000") -> dict[str, Any]:
    r = put(w, "bot", text, kind="bank_account", scope=scope(subject="C-1"))
    assert r.status_code == 201
    assert r.json()["status"] == "pending"
    return dict(r.json())


def test_review_shows_the_source_and_approval_makes_the_item_visible(w):
    item = _pending(w)
    s = scope(subject="C-1")
    assert w.get(f"/v1/memory/items/{item['id']}", "bot", params=s).status_code == 404
    listed = w.get("/v1/memory/review", "mia", params={"tenant": "acme"}).json()["items"]
    assert [i["id"] for i in listed] == [item["id"]]
    shown = w.get(f"/v1/memory/review/{item['id']}", "mia", params={"tenant": "acme"}).json()
    assert shown["item"]["text"] == item["text"]
    assert shown["item"]["source"] == "agent:bot"
    assert [r["kind"] for r in shown["records"]] == ["memory.written"]
    assert shown["records"][0]["id"] == item["audit_id"]
    assert "DE89" not in str(shown["records"])  # the record holds digests, not the text
    r = w.post(f"/v1/memory/review/{item['id']}/approve", "mia", {"tenant": "acme", "note": "ok"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    assert r.json()["reviewed_by"] == "mia"
    assert r.json()["trusted"] is True  # a person vouched for it
    assert w.get(f"/v1/memory/items/{item['id']}", "bot", params=s).status_code == 200
    again = w.post(f"/v1/memory/review/{item['id']}/approve", "mia", {"tenant": "acme"})
    assert again.status_code == 409


def test_reject_deletes(w):
    item = _pending(w)
    r = w.post(f"/v1/memory/review/{item['id']}/reject", "mia", {"tenant": "acme"})
    assert r.json() == {"id": item["id"], "rejected": True}
    assert w.get("/v1/memory/review", "mia", params={"tenant": "acme"}).json()["items"] == []
    gone = w.post(f"/v1/memory/review/{item['id']}/reject", "mia", {"tenant": "acme"})
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("who", "tenant"),
    [
        ("gina", "acme"),  # a reviewer of another tenant, naming this one
        ("alice", "acme"),  # an approver of payments, not of memory
        ("dora", "acme"),  # in the group, but not an approver
        ("bot", "acme"),  # an agent never reviews its own memory
        ("root", "acme"),
    ],
)
def test_only_the_tenants_memory_reviewers_review(w, who, tenant):
    item = _pending(w)
    answers = [
        w.get("/v1/memory/review", who, params={"tenant": tenant}),
        w.get(f"/v1/memory/review/{item['id']}", who, params={"tenant": tenant}),
        w.post(f"/v1/memory/review/{item['id']}/approve", who, {"tenant": tenant}),
        w.post(f"/v1/memory/review/{item['id']}/reject", who, {"tenant": tenant}),
    ]
    for r in answers:
        assert r.status_code == 403, r.text
    assert w.get("/v1/memory/review", "mia", params={"tenant": "acme"}).json()["items"]


def test_a_reviewer_of_another_tenant_sees_nothing_of_this_one_in_their_own(w):
    item = _pending(w)
    r = w.get(f"/v1/memory/review/{item['id']}", "gina", params={"tenant": "globex"})
    assert r.status_code == 404
    assert w.get("/v1/memory/review", "gina", params={"tenant": "globex"}).json()["items"] == []
    r = w.post(f"/v1/memory/review/{item['id']}/approve", "gina", {"tenant": "globex"})
    assert r.status_code == 404


# -- erasure ------------------------------------------------------------------------------------


def test_erasure_forgets_the_subject_with_a_report(w):
    a = put(w, "bot", "Jane prefers email", scope=scope(subject="C-1")).json()
    b = put(w, "bot", "Jane asked about loans", scope=scope(subject="C-1", workspace="loans"))
    other = put(w, "bot", "Joe prefers calls", scope=scope(subject="C-2")).json()
    theirs = put(w, "globex-bot", "their C-1", scope=scope("globex", subject="C-1")).json()
    body = {"tenant": "acme", "subject": "C-1", "reason": "erasure request 42"}
    for who in ("mia", "bot", "root"):  # an approver, an agent, an admin of no memory group
        assert w.post("/v1/memory/erase", who, body).status_code == 403
    r = w.post("/v1/memory/erase", "dora", body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["count"] == 2
    assert set(report["items"]) == {a["id"], b.json()["id"]}
    assert report["by_workspace"] == {"loans": 1, "retail": 1}
    assert report["audit_id"]
    assert (
        w.get(f"/v1/memory/items/{a['id']}", "bot", params=scope(subject="C-1")).status_code == 404
    )
    assert (
        w.get(f"/v1/memory/items/{other['id']}", "bot", params=scope(subject="C-2")).status_code
        == 200
    )
    g = scope("globex", subject="C-1")
    assert w.get(f"/v1/memory/items/{theirs['id']}", "globex-bot", params=g).status_code == 200
    r = w.post("/v1/memory/erase", "dora", {**body, "tenant": "globex"})
    assert r.status_code == 403


# -- in a session -------------------------------------------------------------------------------


def _session(w: World, who: str = "bot", customer: str = "C-1") -> str:
    r = w.post(
        "/v1/sessions",
        who,
        {
            "agent": "refunds-bot",
            "principal": "ticket:T-1",
            "tenant": "acme",
            "scope": {"workspace": "retail", "customer": customer},
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_remember_takes_the_trust_of_its_sources_and_context_returns_it(w):
    sid = _session(w)
    said = w.post(
        f"/v1/sessions/{sid}/ingest", "bot", {"content": "I prefer email", "source": "user"}
    ).json()
    web = w.post(
        f"/v1/sessions/{sid}/ingest", "bot", {"content": "a forum says call", "source": "web"}
    ).json()
    r = w.post(
        f"/v1/sessions/{sid}/remember",
        "bot",
        {"text": "Prefers email", "derived_from": [said["content_id"]]},
    )
    assert r.status_code == 201, r.text
    trusted = r.json()
    assert trusted["trusted"] is True
    assert trusted["subject"] == "C-1"
    assert trusted["contents"] == [said["content_id"]]
    mixed = w.post(
        f"/v1/sessions/{sid}/remember",
        "bot",
        {"text": "Prefers calls", "derived_from": [said["content_id"], web["content_id"]]},
    ).json()
    assert mixed["trusted"] is False
    later = _session(w)
    ctx = w.post(f"/v1/sessions/{later}/context", "bot", {"query": "prefers"}).json()
    assert {i["id"]: i["trusted"] for i in ctx["items"]} == {
        trusted["id"]: True,
        mixed["id"]: False,
    }
    assert "untrusted" in ctx["prompt"]
    other = _session(w, customer="C-2")  # another subject sees neither
    assert (
        w.post(f"/v1/sessions/{other}/context", "bot", {"query": "prefers"}).json()["items"] == []
    )


def test_remember_refuses_content_the_session_does_not_hold(w):
    sid, elsewhere = _session(w), _session(w)
    cid = w.post(
        f"/v1/sessions/{elsewhere}/ingest", "bot", {"content": "I prefer email", "source": "user"}
    ).json()["content_id"]
    r = w.post(f"/v1/sessions/{sid}/remember", "bot", {"text": "x", "derived_from": [cid]})
    assert r.status_code == 422
    assert cid in r.json()["message"]


def test_another_keys_session_does_not_exist(w):
    sid = _session(w)
    for who in ("bot2", "globex-bot"):
        assert w.post(f"/v1/sessions/{sid}/context", who, {"query": ""}).status_code == 404
        r = w.post(f"/v1/sessions/{sid}/remember", who, {"text": "planted"})
        assert r.status_code == 404
    assert w.post(f"/v1/sessions/{sid}/context", "mia", {"query": ""}).status_code == 403


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_vector_search_without_a_query_is_malformed(w, mode):
    r = w.post("/v1/memory/search", "bot", {"scope": scope(), "query": " ", "mode": mode})
    assert r.status_code == 422
    assert "needs a query" in r.json()["message"]
