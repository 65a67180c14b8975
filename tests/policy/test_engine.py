"""``evaluate``: every verdict path, read as a table of requests and the decisions they get."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from proctor.model import (
    ApprovalRequirement,
    Decision,
    Environment,
    RuleHit,
    Step,
    StepResult,
    StepStatus,
    Verdict,
)
from proctor.policy import DecisionRequest, evaluate

from ._texts import MAIN, RATED, UNRATED, load, request

POLICY = load(MAIN)
ALLOW, HOLD, DENY = Verdict.ALLOW, Verdict.HOLD, Verdict.DENY
DEV, STAGING, PRODUCTION = Environment.DEV, Environment.STAGING, Environment.PRODUCTION
REFUND = {"currency": "USD"}
INTERNAL = ["ann@example.test", "bo@example.test"]


def decide(req: DecisionRequest) -> Decision:
    return evaluate(POLICY, req)


# (id, request, verdict, rule ids of the deciding hits)
PATHS = [
    ("allowlisted-read", request("lookup", {"id": "C1"}), ALLOW, ("schema.lookup", "allow.lookup")),
    (
        "optional-args-given",
        request("lookup", {"id": "C1", "limit": 5, "verbose": True, "tags": ["a"]}),
        ALLOW,
        ("schema.lookup", "allow.lookup"),
    ),
    ("unnamed-tool-default-deny", request("shell.exec", {"cmd": "ls"}), DENY, ("default-deny",)),
    ("tool-name-case-matters", request("Lookup", {"id": "C1"}), DENY, ("default-deny",)),
    ("agent-mismatch", request("lookup", {"id": "C1"}, agent="other"), DENY, ("boundary.agent",)),
    (
        "environment-not-granted",
        request("lookup", {"id": "C1"}, env=PRODUCTION),
        DENY,
        ("boundary.environment",),
    ),
    (
        "tool-restricted-to-other-env",
        request("db.migrate", env=STAGING),
        DENY,
        ("boundary.db.migrate.environment",),
    ),
    ("tool-restricted-env-itself", request("db.migrate", env=DEV), ALLOW, None),
    (
        "autonomy-above-grant",
        request("customer.delete", {"id": "C1"}, env=STAGING),
        DENY,
        ("boundary.autonomy",),
    ),
    (
        "irreversible-holds",
        request("customer.delete", {"id": "C1"}, env=DEV),
        HOLD,
        ("flags.customer.delete",),
    ),
    ("moves-money-holds", request("wire", {"amount": 1.0}), HOLD, ("flags.wire",)),
    (
        "customer-visible-holds",
        request("email.send", {"to": ["x@other.test"], "subject": "hi"}),
        HOLD,
        ("flags.email.send",),
    ),
    ("external-alone-allows", request("publish"), ALLOW, ("schema.publish", "allow.publish")),
    (
        "on-flags-false-waives-flag-hold",
        request("refund", {"amount": 100.0, **REFUND}),
        ALLOW,
        ("schema.refund", "allow.refund"),
    ),
    (
        "allow-constraint-waives-flag-hold",
        request("email.send", {"to": INTERNAL, "subject": "hi"}),
        ALLOW,
        ("schema.email.send", "allow.email.send", "flags.email.send", "email.internal"),
    ),
    (
        "allow-constraint-never-waives-constraint-hold",
        request("email.send", {"to": INTERNAL, "subject": "URGENT: hi"}),
        HOLD,
        ("email.urgent",),
    ),
    (
        "allow-constraint-never-waives-constraint-deny",
        request(
            "email.send", {"to": [*INTERNAL, "c@example.test", "d@example.test"], "subject": "hi"}
        ),
        DENY,
        ("email.too-many",),
    ),
    (
        "constraint-hold",
        request("refund", {"amount": 100.01, **REFUND}),
        HOLD,
        ("refund.over-100",),
    ),
    (
        "deny-beats-hold",
        request("refund", {"amount": 1000.5, **REFUND}),
        DENY,
        ("refund.over-1000",),
    ),
    (
        "flag-hold-and-constraint-hold",
        request("email.send", {"to": ["x@other.test"], "subject": "URGENT"}),
        HOLD,
        ("flags.email.send", "email.urgent"),
    ),
    (
        "constraint-deny-beats-flag-hold",
        request(
            "email.send", {"to": ["a@o.test", "b@o.test", "c@o.test", "d@o.test"], "subject": "x"}
        ),
        DENY,
        ("email.too-many",),
    ),
]


@pytest.mark.parametrize(
    ("req", "verdict", "rule_ids"), [c[1:] for c in PATHS], ids=[c[0] for c in PATHS]
)
def test_verdict_path(
    req: DecisionRequest, verdict: Verdict, rule_ids: tuple[str, ...] | None
) -> None:
    decision = decide(req)
    assert decision.verdict is verdict
    if rule_ids is not None:
        assert decision.rule_ids == rule_ids
    assert decision.policy == POLICY.name
    assert decision.tool == req.tool


# (id, args for `lookup` or `refund`, fragment of the reason). Strict: nothing is coerced.
INVALID_ARGS = [
    ("missing-required", "lookup", {}, "id: Field required"),
    ("extra-arg", "lookup", {"id": "C1", "sudo": True}, "sudo: Extra inputs are not permitted"),
    ("wrong-type", "lookup", {"id": 7}, "id: Input should be a valid string"),
    ("pattern-mismatch", "lookup", {"id": "X1"}, "id: String should match pattern"),
    (
        "string-for-number",
        "refund",
        {"amount": "10", **REFUND},
        "amount: Input should be a valid number",
    ),
    (
        "bool-for-number",
        "refund",
        {"amount": True, **REFUND},
        "amount: Input should be a valid number",
    ),
    (
        "bool-for-integer",
        "lookup",
        {"id": "C1", "limit": True},
        "limit: Input should be a valid integer",
    ),
    (
        "float-for-integer",
        "lookup",
        {"id": "C1", "limit": 5.0},
        "limit: Input should be a valid integer",
    ),
    (
        "string-for-integer",
        "lookup",
        {"id": "C1", "limit": "5"},
        "limit: Input should be a valid integer",
    ),
    (
        "int-for-boolean",
        "lookup",
        {"id": "C1", "verbose": 1},
        "verbose: Input should be a valid boolean",
    ),
    (
        "string-for-boolean",
        "lookup",
        {"id": "C1", "verbose": "true"},
        "verbose: Input should be a valid boolean",
    ),
    (
        "below-minimum",
        "lookup",
        {"id": "C1", "limit": 0},
        "limit: Input should be greater than or equal to 1",
    ),
    (
        "above-maximum",
        "lookup",
        {"id": "C1", "limit": 101},
        "limit: Input should be less than or equal to 100",
    ),
    (
        "too-many-items",
        "lookup",
        {"id": "C1", "tags": ["a", "b", "c", "d"]},
        "tags: List should have at most 3",
    ),
    (
        "wrong-item-type",
        "lookup",
        {"id": "C1", "tags": ["a", 1]},
        "tags.1: Input should be a valid string",
    ),
    ("string-for-array", "lookup", {"id": "C1", "tags": "a"}, "tags: Input should be a valid list"),
    (
        "not-in-enum",
        "refund",
        {"amount": 1.0, "currency": "BTC"},
        "currency: Input should be 'USD' or 'EUR'",
    ),
    (
        "nan",
        "refund",
        {"amount": float("nan"), **REFUND},
        "amount: Input should be a finite number",
    ),
    (
        "infinity",
        "refund",
        {"amount": float("inf"), **REFUND},
        "amount: Input should be a finite number",
    ),
    (
        "minus-infinity",
        "refund",
        {"amount": float("-inf"), **REFUND},
        "amount: Input should be a finite number",
    ),
    ("too-long", "note.add", {"text": "x" * 11}, "text: String should have at most 10 characters"),
]


@pytest.mark.parametrize(
    ("tool", "args", "fragment"), [c[1:] for c in INVALID_ARGS], ids=[c[0] for c in INVALID_ARGS]
)
def test_invalid_arguments_deny_at_resolve(tool: str, args: dict, fragment: str) -> None:
    decision = decide(request(tool, args))
    assert decision.verdict is DENY
    assert decision.rule_ids == (f"schema.{tool}",)
    (reason,) = decision.reasons
    assert reason.startswith("invalid arguments: ")
    assert fragment in reason
    resolve = decision.step(Step.RESOLVE)
    assert resolve is not None
    assert (resolve.verdict, resolve.status) == (DENY, StepStatus.OK)


def test_every_invalid_argument_is_named() -> None:
    decision = decide(request("lookup", {"limit": "5", "extra": 1}))
    (reason,) = decision.reasons
    assert "id: Field required" in reason
    assert "limit: Input should be a valid integer" in reason
    assert "extra: Extra inputs are not permitted" in reason


def test_an_integer_is_a_valid_number() -> None:
    decision = decide(request("refund", {"amount": 150, **REFUND}))
    assert decision.verdict is HOLD
    assert decision.seen == {"refund.over-100": {"amount": 150.0}}


def test_any_mapping_is_accepted_as_arguments() -> None:
    args = MappingProxyType({"id": "C1"})
    req = DecisionRequest("lookup", args, "bot", DEV)
    assert decide(req).verdict is ALLOW


@pytest.mark.parametrize(
    ("req", "after"),
    [
        (request("nope"), Step.RESOLVE),
        (request("lookup", {"id": 1}), Step.RESOLVE),
        (request("lookup", {"id": "C1"}, env=PRODUCTION), Step.BOUNDARY),
        (request("customer.delete", {"id": "C1"}, env=STAGING), Step.BOUNDARY),
    ],
    ids=["unnamed-tool", "invalid-args", "env-not-granted", "autonomy-above-grant"],
)
def test_steps_after_an_early_deny_are_skipped(req: DecisionRequest, after: Step) -> None:
    flow = StepResult(Step.FLOW, HOLD, hits=(RuleHit("flow.x", HOLD, "tainted"),))
    req = replace(req, usage={}, extra_steps=(flow,))
    decision = decide(req)
    order = [Step.RESOLVE, Step.BOUNDARY, Step.LIMITS, Step.FLOW, Step.RATE]
    assert [s.step for s in decision.steps] == order
    ran = order.index(after) + 1
    skipped = [s for s in decision.steps[ran:] if s.step is not Step.FLOW]
    assert [s.status for s in skipped] == [StepStatus.SKIPPED] * (4 - ran)
    assert {s.note for s in skipped} == {f"skipped: denied at {after}"}
    # flow findings survive an early deny: the audit must show what flow control saw
    assert decision.step(Step.FLOW) == flow
    assert decision.verdict is DENY


def test_full_pipeline_runs_every_step_in_order() -> None:
    flow = StepResult(Step.FLOW, ALLOW)
    decision = evaluate(load(RATED), request("ping", usage=USAGE, extra=[flow]))
    assert [s.step for s in decision.steps] == [
        Step.RESOLVE,
        Step.BOUNDARY,
        Step.LIMITS,
        Step.FLOW,
        Step.RATE,
    ]
    assert {s.status for s in decision.steps} == {StepStatus.OK}


def test_constraint_hold_carries_its_approvers_and_group() -> None:
    decision = decide(request("refund", {"amount": 500.0, **REFUND}))
    assert decision.approval == ApprovalRequirement(2, ("finance",))
    assert decision.reasons == ("Refunds above 100 need finance.",)


def test_flag_hold_uses_default_approval_group() -> None:
    decision = decide(request("wire", {"amount": 1.0}))
    assert decision.approval == ApprovalRequirement(1, ("leads",))
    assert decision.reasons == ("tool 'wire' is moves_money: needs approval",)


def test_flag_hold_uses_tool_approval() -> None:
    decision = decide(request("email.send", {"to": ["x@o.test"], "subject": "hi"}))
    assert decision.approval == ApprovalRequirement(2, ("comms",))


def test_several_holds_merge_max_approvers_and_union_of_groups() -> None:
    decision = decide(request("email.send", {"to": ["x@o.test"], "subject": "URGENT"}))
    assert decision.approval == ApprovalRequirement(2, ("comms", "legal"))


def test_approval_group_defaults_to_the_owner() -> None:
    text = MAIN.replace("defaults:\n  approval: {approvers: 1, group: leads}\n", "")
    decision = evaluate(load(text), request("wire", {"amount": 1.0}))
    assert decision.approval == ApprovalRequirement(1, ("owners@example.test",))


def test_allow_and_deny_decisions_need_no_approval() -> None:
    assert decide(request("lookup", {"id": "C1"})).approval is None
    assert decide(request("refund", {"amount": 5000.0, **REFUND})).approval is None


def test_deny_keeps_the_hold_it_overrode_in_its_steps() -> None:
    decision = decide(request("refund", {"amount": 5000.0, **REFUND}))
    limits = decision.step(Step.LIMITS)
    assert limits is not None
    assert [(h.rule_id, h.verdict) for h in limits.hits] == [
        ("refund.over-100", HOLD),
        ("refund.over-1000", DENY),
    ]
    assert decision.reasons == ("Refunds above 1000 are never made by an agent.",)
    assert decision.seen == {"refund.over-1000": {"amount": 5000.0}}


def test_autonomy_reason_names_tool_need_and_grant() -> None:
    decision = decide(request("customer.delete", {"id": "C1"}, env=STAGING))
    assert decision.reasons == (
        "tool 'customer.delete' needs autonomy execute; agent 'bot' is granted write in staging",
    )


def test_default_deny_reason_names_tool_and_agent() -> None:
    decision = decide(request("shell.exec"))
    assert decision.reasons == (
        "tool 'shell.exec' is not named in the policy of agent 'bot' (default deny)",
    )


def test_waiver_reason_names_the_waiving_rule() -> None:
    decision = decide(request("email.send", {"to": INTERNAL, "subject": "hi"}))
    boundary = decision.step(Step.BOUNDARY)
    assert boundary is not None
    assert boundary.hits[-1].reason == "customer_visible: approval waived by email.internal"


def test_constraints_see_context_variables() -> None:
    text = MAIN.replace(
        "  publish:\n    autonomy: write\n",
        "  publish:\n    autonomy: write\n    constraints:\n"
        "      - id: publish.ctx\n"
        '        when: env == "dev" && agent == "bot" && tool == "publish"'
        ' && principal == "alice" && tenant == "acme"\n'
        "        verdict: deny\n",
    )
    policy = load(text)
    assert evaluate(policy, request("publish")).rule_ids == ("publish.ctx",)
    assert evaluate(policy, request("publish", tenant="globex")).verdict is ALLOW


# ---- rate limits ----------------------------------------------------------------------------

RATED_POLICY = load(RATED)
USAGE = {
    "rate.refund.session": 0,
    "rate.refund.agent": 0,
    "rate.search.session": 0,
    "rate.session": 0,
    "rate.agent": 0,
}


def used(**counts: int) -> dict[str, int]:
    return {**USAGE, **{k.replace("__", "."): v for k, v in counts.items()}}


# (id, tool, usage, verdict, deciding rule ids)
RATES = [
    ("under-tool-limit", "refund", used(rate__refund__session=4), ALLOW, None),
    (
        "at-tool-session-limit",
        "refund",
        used(rate__refund__session=5),
        DENY,
        ("rate.refund.session",),
    ),
    (
        "over-tool-session-limit",
        "refund",
        used(rate__refund__session=9),
        DENY,
        ("rate.refund.session",),
    ),
    ("under-tool-agent-limit", "refund", used(rate__refund__agent=99), ALLOW, None),
    ("at-tool-agent-limit", "refund", used(rate__refund__agent=100), DENY, ("rate.refund.agent",)),
    (
        "session-default-applies-to-every-tool",
        "ping",
        used(rate__session=200),
        DENY,
        ("rate.session",),
    ),
    (
        "agent-default-applies-to-every-tool",
        "refund",
        used(rate__agent=1000),
        DENY,
        ("rate.agent",),
    ),
    ("under-session-default", "ping", used(rate__session=199), ALLOW, None),
    ("on-exceed-hold", "search", used(rate__search__session=10), HOLD, ("rate.search.session",)),
    (
        "deny-beats-hold-across-rules",
        "search",
        used(rate__search__session=10, rate__session=200),
        DENY,
        ("rate.session",),
    ),
    (
        "several-limits-reached",
        "refund",
        used(rate__refund__session=5, rate__agent=1000),
        DENY,
        ("rate.refund.session", "rate.agent"),
    ),
]


@pytest.mark.parametrize(
    ("tool", "usage", "verdict", "rule_ids"), [c[1:] for c in RATES], ids=[c[0] for c in RATES]
)
def test_rate_step(
    tool: str, usage: dict[str, int], verdict: Verdict, rule_ids: tuple | None
) -> None:
    args = {"amount": 1.0} if tool == "refund" else {}
    decision = evaluate(RATED_POLICY, request(tool, args, usage=usage))
    assert decision.verdict is verdict
    rate = decision.step(Step.RATE)
    assert rate is not None
    assert rate.status is StepStatus.OK
    if rule_ids is not None:
        assert decision.rule_ids == rule_ids
    else:
        assert rate.hits == ()


def test_rate_hit_explains_limit_and_count() -> None:
    decision = evaluate(
        RATED_POLICY, request("refund", {"amount": 1.0}, usage=used(rate__refund__session=5))
    )
    assert decision.reasons == (
        "rate limit 5/hour per session for tool 'refund' reached (5 calls in the window)",
    )
    assert decision.seen == {"rate.refund.session": {"count": 5}}


def test_rate_hold_uses_the_tools_flag_approval() -> None:
    decision = evaluate(RATED_POLICY, request("search", usage=used(rate__search__session=10)))
    assert decision.approval == ApprovalRequirement(1, ("leads",))


def test_session_default_hold_uses_default_approval() -> None:
    text = RATED.replace("per_agent: 1000/day}", "per_agent: 1000/day, on_exceed: hold}")
    decision = evaluate(load(text), request("ping", usage=used(rate__session=200)))
    assert decision.verdict is HOLD
    assert decision.approval == ApprovalRequirement(1, ("leads",))


def test_unknown_usage_skips_the_rate_step() -> None:
    decision = evaluate(RATED_POLICY, request("refund", {"amount": 1.0}, usage=None))
    rate = decision.step(Step.RATE)
    assert rate is not None
    assert (rate.verdict, rate.status) == (ALLOW, StepStatus.SKIPPED)
    assert rate.note == "no usage supplied: rate limits not evaluated"
    assert decision.verdict is ALLOW


def test_no_rate_rules_is_ok_even_without_usage() -> None:
    decision = evaluate(load(UNRATED), request("ping", usage=None))
    rate = decision.step(Step.RATE)
    assert rate is not None
    assert (rate.verdict, rate.status) == (ALLOW, StepStatus.OK)


@pytest.mark.parametrize(
    "missing", ["rate.refund.session", "rate.refund.agent", "rate.session", "rate.agent"]
)
def test_usage_missing_a_rule_fails_closed(missing: str) -> None:
    usage = {k: v for k, v in USAGE.items() if k != missing}
    decision = evaluate(RATED_POLICY, request("refund", {"amount": 1.0}, usage=usage))
    assert decision.verdict is DENY
    rate = decision.step(Step.RATE)
    assert rate is not None
    assert (rate.verdict, rate.status) == (DENY, StepStatus.ERROR)
    assert decision.rule_ids == (missing,)
    assert decision.reasons == (
        f"check failed, denying (fail closed): no usage count for rate rule {missing}",
    )


def test_rate_rules_of_other_tools_are_not_required() -> None:
    usage = {"rate.session": 0, "rate.agent": 0}
    assert evaluate(RATED_POLICY, request("ping", usage=usage)).verdict is ALLOW


# ---- extra steps (flow control) ---------------------------------------------------------------


def flow(verdict: Verdict, approval: ApprovalRequirement | None = None) -> StepResult:
    return StepResult.ok(
        Step.FLOW, [RuleHit("flow.taint", verdict, "untrusted input", {}, approval)]
    )


@pytest.mark.parametrize(
    ("tool", "args", "extra", "verdict"),
    [
        ("lookup", {"id": "C1"}, flow(ALLOW), ALLOW),
        ("lookup", {"id": "C1"}, flow(HOLD), HOLD),
        ("lookup", {"id": "C1"}, flow(DENY), DENY),
        ("wire", {"amount": 1.0}, flow(ALLOW), HOLD),
        ("wire", {"amount": 1.0}, flow(DENY), DENY),
        ("lookup", {"id": "C1"}, StepResult.error(Step.FLOW, "flow.error", "boom"), DENY),
    ],
    ids=[
        "allow-stays-allow",
        "hold-tightens-allow",
        "deny-tightens-allow",
        "allow-cannot-loosen-hold",
        "deny-tightens-hold",
        "errored-flow-denies",
    ],
)
def test_extra_steps_fold_in_and_only_tighten(
    tool: str, args: dict, extra: StepResult, verdict: Verdict
) -> None:
    decision = decide(request(tool, args, extra=[extra]))
    assert decision.verdict is verdict
    assert decision.step(Step.FLOW) == extra


def test_flow_hold_approval_merges_with_flag_hold() -> None:
    extra = flow(HOLD, ApprovalRequirement(3, ("security",)))
    decision = decide(request("wire", {"amount": 1.0}, extra=[extra]))
    assert decision.approval == ApprovalRequirement(3, ("leads", "security"))
    assert decision.rule_ids == ("flags.wire", "flow.taint")
