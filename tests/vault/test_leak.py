"""The leak test: a mis-scoped query returns records of tenants A and B to a session of tenant
A. The model sees A's records only; B's are dropped, the drop is audited and raises an alert,
and none of B's values appears in the model's text, the audit log or any response."""

from __future__ import annotations

import json
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor import Gate, GateHooks, OutcomeStatus, load_policy_text
from proctor.audit import AuditHook, AuditLog, EventKind
from proctor.flow._ingest import render

from ._policy import SUPPORT, customer


def _values(record: dict[str, object]) -> list[str]:
    return [str(v) for v in record.values()] + [str(v).lower() for v in record.values()]


def _said_in(value: str, said: str) -> bool:
    """Whether ``value`` appears in ``said``; a number only as a whole token, since the audit
    log's hex digests and timestamps hold any short run of digits by chance (a salary of 50003
    once matched inside a digest)."""
    if not value.isdigit():
        return value in said
    return re.search(rf"(?<![0-9A-Za-z]){value}(?![0-9A-Za-z])", said) is not None


def _everything_said(outcome, texts: list[str], log: AuditLog | None) -> str:
    parts = [repr(outcome), render(outcome.result), str(outcome.error), *texts]
    parts += [str(r) for s in outcome.decision.steps for r in s.hits]
    if log is not None:
        parts += [r.as_json() for r in log.records()]
    return "\n".join(parts)


def test_a_mis_scoped_query_reaches_the_model_with_the_sessions_tenant_only(
    make_gate, audit_log: AuditLog
):
    ours = [customer("acme", 1, "annabel"), customer("acme", 2, "arthur")]
    theirs = [customer("globex", 3, "bartholomew"), customer("globex", 4, "beatrix")]
    gate: Gate = make_gate(hooks=[AuditHook(audit_log)])

    def output() -> dict:
        return {"results": [ours[0], theirs[0], ours[1], theirs[1]]}  # a mis-scoped query

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict:
        return output()

    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    outcome = gate.call(session, "crm.find_customers", {"query": "everyone"})
    assert outcome.status is OutcomeStatus.EXECUTED
    shown = outcome.result["results"]
    assert [r["id"] for r in shown] == ["annabel-1", "arthur-2"]  # A's records, in order
    assert all(r["tenant"] == "acme" for r in shown)
    # what the model reads of the same output, through ingest
    labeled = gate.ingest(session, output(), "tool:crm.find_customers")
    assert "annabel" in labeled.text.lower()

    said = _everything_said(outcome, [labeled.text], audit_log)
    shared = {"GB82WEST12345698765432"}  # the one value both tenants' records carry
    leaked = [v for rec in theirs for v in _values(rec) if _said_in(v, said) and v not in shared]
    assert leaked == []
    assert "globex" not in said.lower()  # not even the other tenant's name

    records = list(audit_log.records(session_id=session.id))
    alerts = [r for r in records if r.kind == EventKind.ALERT]
    assert len(alerts) == 2  # one per ingest of the mis-scoped output
    body = alerts[0].body
    assert body["alert"] == "data.out_of_scope"
    assert body["detail"]["reason"] == "tenant"
    assert body["detail"]["count"] == 2
    assert body["detail"]["resource"] == "customer"
    (owner,) = body["detail"]["owners"]  # the other tenant, as a keyed digest only
    assert owner.startswith("hmac-sha256:")
    access = [r for r in records if r.kind == EventKind.DATA_ACCESS]
    assert access
    assert access[0].body["drops"][0]["count"] == 2
    assert alerts[0].links == (access[0].id,)


def test_records_without_a_tenant_are_dropped_too(make_gate):
    gate: Gate = make_gate()
    orphan = customer("acme", 5, "orphaned")
    del orphan["tenant"]
    session = gate.open_session("support-bot", principal="ticket:T-2", tenant="acme")
    seen: list = []

    class Spy(GateHooks):
        async def on_data(self, session, report):
            seen.append(report)

    gate.hooks.append(Spy())
    labeled = gate.ingest(session, {"results": [orphan]}, "tool:crm.find_customers")
    assert "orphaned" not in labeled.text
    assert seen[0].drops[0].reason == "tenant"


_CONSONANTS = "".join(c for c in string.ascii_lowercase if c not in "aeiouy")
_WORD = st.text(alphabet=_CONSONANTS, min_size=8, max_size=14)


@settings(max_examples=40, deadline=None)
@given(
    tenants=st.lists(st.sampled_from(["acme", "globex", "initech"]), min_size=1, max_size=8),
    names=st.lists(_WORD, min_size=8, max_size=8, unique=True),
    as_text=st.booleans(),
)
def test_no_value_of_another_tenant_ever_reaches_the_model(tenants, names, as_text):
    gate = Gate(load_policy_text(SUPPORT))
    try:
        session = gate.open_session("support-bot", principal="ticket:T-3", tenant="acme")
        records = [customer(t, i, names[i]) for i, t in enumerate(tenants)]
        output: object = {"results": records}
        if as_text:  # the same records as a JSON string: scoped all the same
            output = json.dumps(output)
        labeled = gate.ingest(session, output, "tool:crm.find_customers")
        text = labeled.text + json.dumps([v.value for v in labeled.values])
        for i, rec in enumerate(records):
            if rec["tenant"] == "acme":
                assert rec["id"] in text
            else:
                assert names[i] not in text  # every value of the record contains its name
    finally:
        gate.close()


def test_a_number_counts_as_said_only_as_a_whole_token():
    assert _said_in("50003", '{"salary": 50003}')
    assert _said_in("50003", "salary 50003.0")
    assert not _said_in("50003", "sha256:9f0a50003bc1")  # inside a digest: chance, not a leak
    assert not _said_in("50003", "2026-11-26T14:30:05.500031")
    assert _said_in("bartholomew-3", "id bartholomew-3x")  # words stay substring matches
