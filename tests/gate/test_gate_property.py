"""Property: whatever arguments an agent sends, the tool only ever runs with arguments that
satisfy the policy's schema and constraints — a DENY or HOLD never executes."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import proctor
from proctor import Gate, OutcomeStatus

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  payments.refund:
    autonomy: write
    args:
      order_id: {type: string, pattern: "^O[0-9]{4,10}$"}
      amount: {type: number, minimum: 0}
      currency: {type: string, enum: [USD, EUR, GBP]}
      note: {type: string, max_length: 20, required: false}
    constraints:
      - {id: refund.over-100, when: args.amount > 100.0, verdict: hold}
      - {id: refund.over-1000, when: args.amount > 1000.0, verdict: deny}
      - {id: refund.no-gbp-cents, when: args.currency == "GBP" && args.amount < 1.0, verdict: deny}
"""

KEYS = ("order_id", "amount", "currency", "note")
ORDER_ID = re.compile(r"O[0-9]{4,10}")


def schema_ok(args: dict[str, object]) -> bool:
    """The policy's argument schema, written out independently of the implementation."""
    if not set(args) <= set(KEYS) or not {"order_id", "amount", "currency"} <= set(args):
        return False
    order_id, amount, currency = args["order_id"], args["amount"], args["currency"]
    note = args.get("note")
    return (
        isinstance(order_id, str)
        and ORDER_ID.fullmatch(order_id) is not None
        and isinstance(amount, int | float)
        and not isinstance(amount, bool)
        and not math.isnan(amount)
        and amount >= 0
        and currency in ("USD", "EUR", "GBP")
        and isinstance(currency, str)
        and (note is None or (isinstance(note, str) and len(note) <= 20))
    )


def expected_status(args: dict[str, object]) -> OutcomeStatus:
    if not schema_ok(args):
        return OutcomeStatus.DENIED
    amount = args["amount"]
    assert isinstance(amount, int | float)
    if amount > 1000 or (args["currency"] == "GBP" and amount < 1):
        return OutcomeStatus.DENIED
    if amount > 100:
        return OutcomeStatus.PENDING
    return OutcomeStatus.EXECUTED


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=25),
    st.from_regex(ORDER_ID, fullmatch=True),
    st.sampled_from(["USD", "EUR", "GBP", "usd", "JPY", "O1234\n", " O1234"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=2),
)
arbitrary_args = st.dictionaries(
    st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), values, max_size=6
)
plausible_args = st.fixed_dictionaries(
    {
        "order_id": st.one_of(st.from_regex(ORDER_ID, fullmatch=True), st.text(max_size=12)),
        "amount": st.one_of(
            st.floats(min_value=-10, max_value=2000, allow_nan=False),
            st.integers(min_value=-10, max_value=2000),
            st.sampled_from([0, 0.0, -0.0, 1.0, 100, 100.0, 1000, 1000.0, math.inf, math.nan]),
        ),
        "currency": st.sampled_from(["USD", "EUR", "GBP", "gbp"]),
    },
    optional={"note": st.one_of(st.none(), st.text(max_size=25))},
)


@pytest.fixture(scope="module")
def refunds():
    gate = Gate(proctor.load_policy_text(POLICY))
    executed: list[dict[str, object]] = []

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float, currency: str, note: str | None = None) -> str:
        received = {"order_id": order_id, "amount": amount, "currency": currency, "note": note}
        executed.append(received)
        return "refunded"

    session = gate.open_session("support-bot", principal="alice", tenant="acme")
    yield gate, session, executed
    gate.close()


@settings(max_examples=300, deadline=None)
@given(args=st.one_of(arbitrary_args, plausible_args))
def test_only_allowed_arguments_ever_reach_the_tool(refunds, args):
    gate, session, executed = refunds
    before = len(executed)
    out = gate.call(session, "payments.refund", args)
    ran = executed[before:]
    event(f"status: {out.status}")

    assert out.status is expected_status(args), out.decision
    if out.status is OutcomeStatus.EXECUTED:
        assert len(ran) == 1
        received = ran[0]
        assert schema_ok(received)
        assert expected_status(received) is OutcomeStatus.EXECUTED
        assert received["amount"] == args["amount"]
    else:
        assert ran == []
