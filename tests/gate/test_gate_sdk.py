"""The SDK: ``@gate.tool`` derives schemas from signatures and checks them against the policy."""

from __future__ import annotations

import asyncio

import pytest

from proctor import GatedTool, Outcome, OutcomeStatus, RegistrationError, Verdict

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  crm.lookup:
    autonomy: read
    args:
      customer_id: string
      limit: {type: integer, required: false}
  payments.refund:
    autonomy: write
    args:
      order_id: string
      amount: number
  tickets.count:
    autonomy: read
    args:
      queue: string
      urgent: boolean
  crm.tag:
    autonomy: write
    args:
      customer_ids: {type: array, items: string}
      tag: string
"""


@pytest.fixture
def gate(make_gate):
    return make_gate(POLICY)


@pytest.fixture
def session(gate):
    return gate.open_session("support-bot", principal="alice", tenant="acme")


def test_schema_is_derived_from_the_signature(gate):
    @gate.tool("crm.lookup")
    def lookup(customer_id: str, limit: int | None = None) -> dict[str, str]:
        """Read a customer record."""
        return {"id": customer_id}

    assert isinstance(lookup, GatedTool)
    tool = lookup.tool
    assert gate.registered("crm.lookup") is tool
    assert tool.name == "crm.lookup"
    assert tool.description == "Read a customer record."
    assert tool.is_async is False
    schema = tool.input_schema
    assert set(schema["properties"]) == {"customer_id", "limit"}
    assert schema["properties"]["customer_id"]["type"] == "string"
    assert schema["required"] == ["customer_id"]
    assert schema["additionalProperties"] is False
    assert tool.output_schema == {"type": "object", "additionalProperties": {"type": "string"}}
    assert lookup.__name__ == "lookup"  # the wrapper looks like the function it wraps


def test_function_without_return_annotation_has_no_output_schema(gate):
    @gate.tool("crm.lookup")
    def lookup(customer_id: str, limit: int | None = None):
        return customer_id

    assert lookup.tool.output_schema is None


def test_description_argument_overrides_the_docstring(gate):
    @gate.tool("crm.lookup", description="Look a customer up.")
    def lookup(customer_id: str, limit: int | None = None) -> str:
        """Ignored."""
        return customer_id

    assert lookup.tool.description == "Look a customer up."


# -- functions that do not match the policy ----------------------------------------------------


def refund_missing_amount(order_id: str) -> str:
    return order_id


def refund_extra_arg(order_id: str, amount: float, note: str) -> str:
    return order_id


def refund_amount_as_str(order_id: str, amount: str) -> str:
    return order_id


def refund_amount_as_int(order_id: str, amount: int) -> str:
    return order_id  # policy `number` admits 1.5, which an int parameter refuses


def count_urgent_as_int(queue: str, urgent: int) -> int:
    return 0


def count_queue_as_list(queue: list[str], urgent: bool) -> int:
    return 0


def tag_ids_as_str(customer_ids: str, tag: str) -> None:
    return None


MISMATCHES = [
    pytest.param("payments.refund", refund_missing_amount, "does not take", id="missing-arg"),
    pytest.param("payments.refund", refund_extra_arg, "does not declare", id="extra-arg"),
    pytest.param(
        "payments.refund",
        refund_amount_as_str,
        "'amount' is number in the policy but string",
        id="number-vs-str",
    ),
    pytest.param(
        "payments.refund",
        refund_amount_as_int,
        "'amount' is number in the policy but integer",
        id="number-vs-int",
    ),
    pytest.param(
        "tickets.count",
        count_urgent_as_int,
        "'urgent' is boolean in the policy but integer",
        id="boolean-vs-int",
    ),
    pytest.param(
        "tickets.count",
        count_queue_as_list,
        "'queue' is string in the policy but array",
        id="string-vs-list",
    ),
    pytest.param(
        "crm.tag",
        tag_ids_as_str,
        "'customer_ids' is array in the policy but string",
        id="array-vs-str",
    ),
]


@pytest.mark.parametrize(("name", "fn", "message"), MISMATCHES)
def test_mismatched_function_is_refused_at_registration(gate, name, fn, message):
    with pytest.raises(RegistrationError, match=message) as info:
        gate.tool(name)(fn)
    assert repr(name) in str(info.value)
    assert gate.registered(name) is None


def refund_amount_as_float(order_id: str, amount: float) -> str:
    return order_id


def lookup_with_optional(customer_id: str, limit: int | None = None) -> str:
    return customer_id


def lookup_with_default(customer_id: str, limit: int = 10) -> str:
    return customer_id


def count_matching(queue: str, urgent: bool) -> int:
    return 0


def tag_matching(customer_ids: list[str], tag: str) -> None:
    return None


MATCHES = [
    pytest.param("payments.refund", refund_amount_as_float, id="number-as-float"),
    pytest.param("crm.lookup", lookup_with_optional, id="optional-int"),
    pytest.param("crm.lookup", lookup_with_default, id="int-with-default"),
    pytest.param("tickets.count", count_matching, id="str-and-bool"),
    pytest.param("crm.tag", tag_matching, id="list-of-str"),
]


@pytest.mark.parametrize(("name", "fn"), MATCHES)
def test_matching_function_registers(gate, name, fn):
    gated = gate.tool(name)(fn)
    assert gate.registered(name) is gated.tool


def test_integer_policy_accepts_a_float_parameter(make_gate):
    gate = make_gate(POLICY.replace("limit: {type: integer, required: false}", "limit: integer"))

    @gate.tool("crm.lookup")
    def lookup(customer_id: str, limit: float) -> float:
        return limit

    s = gate.open_session("support-bot", principal="alice", tenant="acme")
    out = lookup(s, customer_id="C1", limit=3)
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == 3.0


def test_tool_no_policy_names_is_refused(gate):
    def shell_exec(cmd: str) -> str:
        return cmd

    with pytest.raises(RegistrationError, match=r"no loaded policy names tool 'shell\.exec'"):
        gate.tool("shell.exec")(shell_exec)


def test_name_defaults_to_the_function_name(gate):
    def undeclared(x: str) -> str:
        return x

    with pytest.raises(RegistrationError, match="'undeclared'"):
        gate.tool()(undeclared)


def test_double_registration_is_refused_and_keeps_the_first(gate, session):
    @gate.tool("crm.lookup")
    def first(customer_id: str, limit: int | None = None) -> str:
        return "first"

    def second(customer_id: str, limit: int | None = None) -> str:
        return "second"

    with pytest.raises(RegistrationError, match="already registered"):
        gate.tool("crm.lookup")(second)
    assert gate.call(session, "crm.lookup", {"customer_id": "C1"}).result == "first"


def unannotated(customer_id, limit: int | None = None) -> str:
    return customer_id


def var_keyword(customer_id: str, **limit: int) -> str:
    return customer_id


def var_positional(customer_id: str, *limit: int) -> str:
    return customer_id


def positional_only(customer_id: str, /, limit: int | None = None) -> str:
    return customer_id


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        pytest.param(unannotated, "'customer_id' needs a type annotation", id="unannotated"),
        pytest.param(var_keyword, "'limit' must be a plain keyword", id="var-keyword"),
        pytest.param(var_positional, "'limit' must be a plain keyword", id="var-positional"),
        pytest.param(
            positional_only, "'customer_id' must be a plain keyword", id="positional-only"
        ),
    ],
)
def test_parameters_must_be_annotated_keywords(gate, fn, message):
    with pytest.raises(RegistrationError, match=message):
        gate.tool("crm.lookup")(fn)
    assert gate.registered("crm.lookup") is None


def test_unresolvable_annotation_is_a_registration_error(gate):
    def lookup(customer_id: NoSuchType, limit: int | None = None) -> str:  # type: ignore[name-defined] # noqa: F821
        return customer_id

    with pytest.raises(RegistrationError, match="cannot resolve type hints"):
        gate.tool("crm.lookup")(lookup)


def test_calling_the_gated_tool_returns_an_outcome(gate, session):
    seen = []

    @gate.tool("crm.lookup")
    def lookup(customer_id: str, limit: int | None = None) -> dict[str, str]:
        seen.append((customer_id, limit))
        return {"id": customer_id}

    out = lookup(session, customer_id="C1234")
    assert isinstance(out, Outcome)
    assert out.status is OutcomeStatus.EXECUTED
    assert out.ok
    assert out.result == {"id": "C1234"}
    assert out.decision.verdict is Verdict.ALLOW
    assert out.duration_ms is not None
    assert seen == [("C1234", None)]


def test_async_tool_runs_through_acall_and_call(gate, session):
    @gate.tool("crm.lookup")
    async def lookup(customer_id: str, limit: int | None = None) -> str:
        await asyncio.sleep(0)
        return customer_id.lower()

    assert lookup.tool.is_async is True
    out = asyncio.run(lookup.acall(session, customer_id="C1", limit=2))
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == "c1"
    assert lookup(session, customer_id="C2").result == "c2"


def test_gated_tool_refuses_arguments_the_policy_refuses(gate, session):
    calls = []

    @gate.tool("crm.lookup")
    def lookup(customer_id: str, limit: int | None = None) -> str:
        calls.append(customer_id)
        return customer_id

    out = lookup(session, customer_id=42)
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.rule_ids == ("schema.crm.lookup",)
    assert calls == []
