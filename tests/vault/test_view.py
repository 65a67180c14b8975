"""Every data class in every form, in structured output and in free text; scopes; the sources
that are and are not masked."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor import GateHooks, OutcomeStatus, load_policy_text
from proctor.errors import DataAccessError, PolicyError
from proctor.vault import TOKEN, DataAccess, Vault

from ._policy import SUPPORT, card, customer

BASE = """
version: 1
agent: {{name: bot, role: svc, owner: team@example.test}}
environments: {{production: {{max_autonomy: write}}}}
tools:
  db.read: {{autonomy: read, args: {{q: string}}, output: {{trust: trusted}}}}
data:
  resources:
    rec:
      tools: [db.read]
      fields: {{value: {cls}}}
  access:
    classes: {{{cls}: {form}}}
"""


def _secret() -> str:
    return "sk-" + "proj-" + "Zq9" * 16


VALUES = {
    "customer": ("jane.doe@example.com", "j***@example.com"),
    "employee": ("Jane Doe", "J*** D***"),
    "financial": (card(2), f"**** **** **** {card(2)[-4:]}"),
    "regulated": ("536-22-4242", "***-**-4242"),
    "secret": (_secret(), "[secret]****"),  # a classified field shows no prefix
}


class Reports(GateHooks):
    def __init__(self) -> None:
        self.reports: list = []

    async def on_data(self, session, report) -> None:
        self.reports.append(report)


def _view(make_gate, cls: str, form: str, content: object, source: str = "tool:db.read"):
    spy = Reports()
    gate = make_gate(BASE.format(cls=cls, form=form), hooks=[spy])
    session = gate.open_session("bot", principal="u:1", tenant="acme")
    view = gate.data.view_sync(session, content, source)
    labeled = gate.ingest(session, content, source)
    return gate, session, view, labeled, spy


@pytest.mark.parametrize("cls", sorted(VALUES))
@pytest.mark.parametrize("form", ["clear", "masked", "tokenized", "none"])
def test_a_classified_field_reaches_the_model_in_its_form(make_gate, cls, form):
    value, masked = VALUES[cls]
    if cls == "secret" and form in ("clear", "tokenized"):
        with pytest.raises(PolicyError, match="secret"):
            load_policy_text(BASE.format(cls=cls, form=form))
        return
    gate, session, view, labeled, spy = _view(make_gate, cls, form, {"value": value, "id": 7})
    shown = view.content
    assert shown["id"] == 7
    if form == "clear":
        assert shown["value"] == value
    elif form == "masked":
        assert shown["value"] == masked
        assert value not in labeled.text
    elif form == "tokenized":
        token = shown["value"]
        assert TOKEN.fullmatch(token)
        assert value not in labeled.text
        assert token in labeled.text
        clear = gate.data.vault.detokenize(token, tenant="acme", session_id=session.id)
        assert (clear.value, str(clear.data_class)) == (value, cls)
    else:
        assert "value" not in shown
        assert value not in labeled.text
    read = [r for r in spy.reports[0].reads if r.field == "value"]
    assert [(r.resource, str(r.data_class), str(r.form), r.count) for r in read] == [
        ("rec", cls, form, 1)
    ]


TEXT_VALUES = {  # free text: classes the detectors find
    "customer": ("Write to jane.doe@example.com today", "j***@example.com", "email"),
    "financial": (f"Card {card(3)} on file", f"**** **** **** {card(3)[-4:]}", "card"),
    "regulated": ("SSN 536-22-4242 on file", "***-**-4242", "ssn"),
}


@pytest.mark.parametrize("cls", sorted(TEXT_VALUES))
@pytest.mark.parametrize("form", ["clear", "masked", "tokenized", "none"])
def test_pii_in_free_text_takes_its_class_form(make_gate, cls, form):
    text, masked, kind = TEXT_VALUES[cls]
    _gate, _session, view, labeled, spy = _view(make_gate, cls, form, text, "email")
    value = re.search(r"\S+@\S+|\d[\d -]{10,}\d|\d{3}-\d{2}-\d{4}", text).group(0)
    shown = view.content
    if form == "clear":
        assert shown == text
    else:
        assert value not in shown
        assert value not in labeled.text
    if form == "masked":
        assert masked in shown
    if form == "tokenized":
        assert re.search(rf"tok_{kind}_[0-9a-f]{{32}}", shown)
    if form == "none":
        assert f"[{kind} withheld]" in shown
    (read,) = spy.reports[0].reads
    assert (read.field, str(read.form)) == (f"text.{kind}", form)
    (finding,) = spy.reports[0].findings
    assert value not in finding.excerpt
    assert finding.explanation


def test_a_secret_in_free_text_is_masked_even_without_a_data_section(make_gate):
    policy = BASE.format(cls="customer", form="clear").split("data:")[0]
    key = _secret()
    spy = Reports()
    gate = make_gate(policy, hooks=[spy])
    assert gate.data.scanner.pii is None  # no data section: Presidio is not even loaded
    session = gate.open_session("bot", principal="u:1", tenant="acme")
    labeled = gate.ingest(session, f"config: api_key={key} mail jane@example.com", "web")
    assert key not in labeled.text
    assert "jane@example.com" in labeled.text  # PII rules come with a data section
    assert spy.reports[0].findings[0].detector in {"openai_key", "credential_assignment"}


def test_the_users_own_words_keep_their_pii_but_never_a_secret(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    key = _secret()
    labeled = gate.ingest(session, f"my email is me@example.com and my key {key}", "user")
    assert "me@example.com" in labeled.text
    assert key not in labeled.text


def test_unlisted_fields_are_dropped_when_the_resource_is_an_allowlist(make_gate):
    policy = BASE.format(cls="customer", form="clear").replace(
        "fields: {value: customer}", "fields: {value: customer}\n      unlisted: none"
    )
    gate = make_gate(policy)
    session = gate.open_session("bot", principal="u:1", tenant="acme")
    view = gate.data.view_sync(
        session,
        {"value": "x", "note": "n", "tags": ["a"], "nested": [{"value": "y", "z": 1}]},
        "tool:db.read",
    )
    assert view.content == {"value": "x", "nested": [{"value": "y"}]}


def test_dynamic_scope_keeps_only_the_tickets_customer(make_gate):
    gate = make_gate(SUPPORT)
    mine = {"customer_id": "C-1", "tenant": "acme", "email": "mine@example.com"}
    other = {"customer_id": "C-2", "tenant": "acme", "email": "other@example.com"}
    session = gate.open_session(
        "support-bot", principal="ticket:T-9", tenant="acme", scope={"customer": "C-1"}
    )
    kept = gate.data.view_sync(session, [mine, other], "tool:crm.get_customer")
    assert [r["customer_id"] for r in kept.content] == ["C-1"]
    assert [(d.reason, d.count, d.fields) for d in kept.report.drops] == [
        ("scope", 1, ("customer_id",))
    ]
    single = gate.data.view_sync(session, other, "tool:crm.get_customer")
    assert single.content == {}
    unscoped = gate.open_session("support-bot", principal="ticket:T-9", tenant="acme")
    none = gate.data.view_sync(unscoped, [mine], "tool:crm.get_customer")
    assert none.content == []
    assert none.report.drops[0].reason == "unscoped"


def test_an_output_without_the_declared_records_list_is_withheld(make_gate):
    gate = make_gate(SUPPORT)

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict:
        return {"rows": [customer("acme", 1, "ann")]}

    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    outcome = gate.call(session, "crm.find_customers", {"query": "x"})
    assert outcome.status is OutcomeStatus.FAILED
    assert "withheld" in outcome.error
    assert outcome.result is None


def test_tokens_are_stable_in_a_session_and_differ_across_sessions(make_gate):
    gate = make_gate(SUPPORT)
    out = {"results": [customer("acme", 1, "ann")]}
    one = gate.open_session("support-bot", principal="u:1", tenant="acme")
    two = gate.open_session("support-bot", principal="u:1", tenant="acme")
    a = gate.data.view_sync(one, out, "tool:crm.find_customers").content["results"][0]["email"]
    b = gate.data.view_sync(one, out, "tool:crm.find_customers").content["results"][0]["email"]
    c = gate.data.view_sync(two, out, "tool:crm.find_customers").content["results"][0]["email"]
    assert a == b != c


def test_numbers_and_unlisted_strings_are_scanned(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    rec = {
        **customer("acme", 1, "ann"),
        "backup_card": int(card(5)),
        "memo": "iban GB82WEST12345698765432",
    }
    view = gate.data.view_sync(session, {"results": [rec]}, "tool:crm.find_customers")
    shown = view.content["results"][0]
    assert shown["backup_card"].startswith("tok_card_")  # acme reads financial tokenized
    assert "GB82WEST12345698765432" not in shown["memo"]


def test_content_without_anything_sensitive_is_returned_as_is(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    original = {"status": "ok", "items": [1, 2, 3]}
    view = gate.data.view_sync(session, original, "tool:notes.read")
    assert view.content is original
    assert view.report.empty
    assert not view.changed


def test_a_data_access_without_presidio_refuses_to_start(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_presidio(name, *args, **kwargs):
        if name.startswith("presidio_analyzer"):
            raise ImportError("No module named 'presidio_analyzer'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_presidio)
    from proctor.errors import DataAccessError
    from proctor.policy import PolicySet

    with pytest.raises(DataAccessError, match=r"proctor\[pii\]"):
        DataAccess(PolicySet.of(load_policy_text(SUPPORT)), vault=Vault.ephemeral())


# -- a resource tool that returns text (review finding 1) ----------------------------------


def _github() -> str:
    return "gh" + "p_" + "Rk7" * 12  # 36 characters after the prefix, assembled at run time


def test_a_resource_tool_returning_json_text_is_scoped_and_classified(make_gate):
    gate = make_gate(SUPPORT)
    ours, theirs = customer("acme", 1, "ann"), customer("globex", 2, "bartholomew")

    @gate.tool("crm.find_customers")
    def find(query: str) -> str:
        return json.dumps({"results": [ours, theirs]})  # the records, as a JSON string

    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    out = gate.call(session, "crm.find_customers", {"query": "x"})
    assert out.status is OutcomeStatus.EXECUTED, out.error
    assert isinstance(out.result, str)  # still text, as the tool declared
    said = out.result + repr(out)
    assert "bartholomew" not in said  # every value of the other tenant's record holds it
    assert "globex" not in said
    (shown,) = json.loads(out.result)["results"]
    assert shown["id"] == "ann-1"
    assert "salary" not in shown  # employee: none
    assert "ssn" not in shown  # regulated: none
    assert shown["api_token"] == "[secret]****"
    assert TOKEN.fullmatch(shown["email"])
    assert ours["api_token"] not in said


def test_a_resource_tool_returning_free_text_is_withheld(make_gate):
    gate = make_gate(SUPPORT)

    @gate.tool("crm.find_customers")
    def find(query: str) -> str:
        rec = customer("globex", 2, "bartholomew")
        return f"found {rec['name']} of globex, salary {rec['salary']}"

    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    out = gate.call(session, "crm.find_customers", {"query": "x"})
    assert out.status is OutcomeStatus.FAILED
    assert out.result is None
    assert "must be structured" in out.error
    assert "bartholomew" not in repr(out).lower()
    with pytest.raises(DataAccessError, match="must be structured; withheld"):
        gate.ingest(session, "Bartholomew, globex", "tool:crm.find_customers")
    deep = "[" * 100_000 + "]" * 100_000  # too deep for the parser: refused, not a crash
    with pytest.raises(DataAccessError, match="must be structured; withheld"):
        gate.ingest(session, deep, "tool:crm.find_customers")


def test_text_from_a_tool_without_a_resource_is_still_free_text(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    view = gate.data.view_sync(session, "no json here, write to jo@example.com", "tool:notes.read")
    assert view.content == "no json here, write to j***@example.com"


# -- keys and clear-form fields are scanned (review finding 5) -------------------------------


def test_a_secret_in_a_key_is_masked_and_the_path_does_not_quote_it(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    key = _github()
    content = {"k": {key: 1, "inner": {key: "mail ann@example.com"}}}
    for source in ("web", "tool:notes.read"):
        view = gate.data.view_sync(session, content, source)
        said = json.dumps(view.content) + repr(view.report)
        assert key not in said
        assert view.content["k"]["ghp_****"] == 1
        assert view.content["k"]["inner"] == {"ghp_****": "mail a***@example.com"}
        wheres = sorted(f.where for f in view.report.findings)
        assert wheres == ["$.k.ghp_****", "$.k.inner.ghp_****", "$.k.inner.ghp_****"]
    assert content == {"k": {key: 1, "inner": {key: "mail ann@example.com"}}}  # untouched


def test_keys_that_mask_alike_keep_both_values(make_gate):
    gate = make_gate(SUPPORT)
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    one, two = _github(), "gh" + "p_" + "Wm3" * 12
    view = gate.data.view_sync(session, {one: "a", two: "b", "ghp_****": "c"}, "web")
    assert list(view.content.values()) == ["a", "b", "c"]
    assert one not in repr(view.content)
    assert two not in repr(view.content)


def test_a_clear_field_still_masks_secrets_and_more_sensitive_pii(make_gate):
    gate = make_gate(SUPPORT)  # customer.name is clear; regulated is none; financial masked
    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    rec = customer("acme", 1, "ann")
    key = _github()
    rec["name"] = f"Ann Person {key} ssn 536-22-4242 mail ann@example.com"
    view = gate.data.view_sync(session, {"results": [rec]}, "tool:crm.find_customers")
    name = view.content["results"][0]["name"]
    assert key not in name
    assert "536-22-4242" not in name
    assert name.startswith("Ann Person ghp_****")
    assert "[ssn withheld]" in name  # regulated: none
    assert "ann@example.com" in name  # customer data in a customer field the policy clears


_KEY_TREES = st.recursive(
    st.one_of(st.integers(), st.text(alphabet="abc xyz", max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(alphabet="abcdef", min_size=1, max_size=4), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_KEY_TREES, data=st.data())
def test_no_secret_in_any_key_at_any_depth_reaches_the_model(make_gate, tree, data):
    gate = make_gate(SUPPORT)
    session = gate.open_session(
        "support-bot", principal="u:1", tenant="acme", scope={"customer": "C-1"}
    )
    key = _github()
    top: dict = {"tenant": "acme", "customer_id": "C-1", "root": tree}
    node = top
    while True:  # walk down to a random dict and put the secret in as a key
        dicts = [v for v in node.values() if isinstance(v, dict)]
        if not dicts or not data.draw(st.booleans()):
            break
        node = data.draw(st.sampled_from(dicts))
    node[key] = data.draw(st.sampled_from([1, "value", [key], {"x": 1}]))
    for source in ("web", "tool:notes.read", "tool:crm.get_customer"):
        view = gate.data.view_sync(session, top, source)
        said = json.dumps(view.content) + repr(view.report)
        assert key not in said
