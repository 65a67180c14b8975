"""A call judged again on the clear values its tool will receive.

The gate decides a call on the arguments the model wrote, which hold tokens. A tool the policy
lets see a class gets the clear values behind them at execution time; an argument constraint
(``args.to.endsWith("@example.com")``) or schema (``max_length``) said nothing about those. So,
once detokenization changed an argument, the gate checks the tool's own signature and runs the
policy again on the clear arguments, before the tool runs. Whatever it says about them names
tokens, never the values: the values stay inside the gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from proctor.errors import DataAccessError
from proctor.model import Decision, RuleHit, Session, StepStatus, ToolCall, Verdict
from proctor.policy import CompiledPolicy, DecisionRequest, evaluate
from proctor.vault._access import Detokenization

NOTE = " [judged on the values of the call's tokens]"


def fit_clear(tool: str, params: type[BaseModel], clear: Detokenization) -> dict[str, Any]:
    """The tool's keyword arguments from the clear arguments, validated by its signature.
    Raises ``DataAccessError`` naming the arguments and the problems, never the values."""
    try:
        return params.model_validate(clear.args).__dict__
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        )
        raise DataAccessError(
            clear.retoken(
                f"with the values of their tokens, the arguments do not fit {tool!r}: {problems}"
            )
        ) from None


def _hits(decision: Decision, verdict: Verdict) -> list[RuleHit]:
    return [h for s in decision.steps for h in s.hits if h.verdict is verdict]


def judge_clear(
    policy: CompiledPolicy, session: Session, call: ToolCall, clear: Detokenization
) -> list[RuleHit]:
    """The policy's verdict on ``call`` with its clear arguments, as DENY hits naming the
    rules that refuse it; none: it may run. A DENY refuses; so does a HOLD that the call with
    its tokens did not raise (nobody approved that one, and no break-glass waived it). Rate
    and flow are not judged again: the call's rate slot is taken, and flow is about where its
    arguments came from, which the tokens already say. The hits carry retokenized reasons and
    never what the rules saw."""

    def judge(args: Mapping[str, object]) -> Decision:
        return evaluate(
            policy,
            DecisionRequest(
                tool=call.tool,
                args=args,
                agent=session.agent,
                environment=session.environment,
                principal=session.principal,
                tenant=session.tenant,
                confidence=call.confidence,
            ),
        )

    judged = judge(clear.args if clear.args is not None else {})
    if judged.verdict is Verdict.DENY:
        against = _hits(judged, Verdict.DENY) or [RuleHit("execute.clear_args", Verdict.DENY, "")]
    elif judged.verdict is Verdict.HOLD:
        held = {h.rule_id for h in _hits(judge(call.args), Verdict.HOLD)}
        against = [h for h in _hits(judged, Verdict.HOLD) if h.rule_id not in held]
    else:
        return []
    if not against:
        return []
    errored = {h.rule_id for s in judged.steps if s.status is StepStatus.ERROR for h in s.hits}
    out: list[RuleHit] = []
    for h in against:
        if h.rule_id in errored or not h.reason:  # an error may quote a value in any shape
            why = f"rule {h.rule_id} failed on them, denying (fail closed)"
        elif h.verdict is Verdict.HOLD:
            why = f"{clear.retoken(h.reason)} (held for {h.rule_id}, which was not approved)"
        else:
            why = clear.retoken(h.reason)
        out.append(RuleHit(h.rule_id, Verdict.DENY, why + NOTE))
    return out
