"""``evaluate(policy, request) -> Decision``: pure, no I/O, no clock, no randomness.

Steps run in pipeline order — resolve, boundary, limits, [flow], rate — and each can only
tighten the verdict. A DENY at resolve or boundary skips the rest (nothing can loosen a DENY,
and later steps need valid arguments). Any exception inside a step becomes that step's DENY,
with the error in the reason: evaluate never raises for a bad request and never allows on error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import cel
from pydantic import BaseModel, ValidationError

from proctor.model import (
    Autonomy,
    Decision,
    Environment,
    RuleHit,
    Step,
    StepResult,
    StepStatus,
    Verdict,
)
from proctor.policy._budget import Charge, budget_step, charges
from proctor.policy._cel import bind_flat
from proctor.policy._compiled import CompiledConstraint, CompiledPolicy, ToolPlan


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """One authorization question: may ``agent`` call ``tool`` with ``args`` here and now?

    ``usage`` holds the current count of every rate rule that applies (by rule id); ``None``
    means rate state is unknown and the rate step is skipped (``policy explain`` does this; the
    gate always supplies it). ``extra_steps`` are results of checks that live outside the pure
    engine (flow control), folded in after limits. ``confidence`` is the agent's stated
    confidence; it can only add a HOLD (``approval.min_confidence``), never loosen a verdict.
    """

    tool: str
    args: Mapping[str, object]
    agent: str
    environment: Environment
    principal: str = ""
    tenant: str = ""
    usage: Mapping[str, int] | None = None
    extra_steps: Sequence[StepResult] = field(default_factory=tuple)
    confidence: float | None = None  # the agent's own; below the tool's min_confidence: HOLD
    # budgets (docs/budgets.md): the session id (for scope `session`), and what each budget
    # account has spent or reserved, in micro-units by ledger key; None: budgets not evaluated
    session: str = ""
    budget_usage: Mapping[str, int] | None = None
    # tokens in a `key` budget's key -> their clear values (the gate's vault); None: as given
    budget_clear: Callable[[str], str] | None = field(default=None, compare=False)


def _skip_rest(steps: list[StepResult], after: Step, req: DecisionRequest, policy: str) -> Decision:
    """Finish a decision denied early. Flow findings are kept: the audit must show them."""
    note = f"skipped: denied at {after}"
    for s in (Step.RESOLVE, Step.BOUNDARY, Step.LIMITS):
        if s is not after and not any(r.step is s for r in steps):
            steps.append(StepResult.skipped(s, note))
    steps.extend(req.extra_steps)
    steps.append(StepResult.skipped(Step.RATE, note))
    return Decision.combine(req.tool, steps, policy)


def _present(validated: BaseModel) -> dict[str, object]:
    """The arguments CEL sees: every non-null value, given or defaulted. An optional argument
    that was omitted and one sent as an explicit null (as model tool calls often do) are the
    same: ``has(args.note)`` is false for both."""
    return {k: v for k, v in validated.__dict__.items() if v is not None}


def _resolve(policy: CompiledPolicy, req: DecisionRequest) -> tuple[StepResult, dict[str, object]]:
    plan = policy.tools.get(req.tool)
    if plan is None:
        hit = RuleHit(
            "default-deny",
            Verdict.DENY,
            f"tool {req.tool!r} is not named in the policy of agent {policy.agent!r} "
            "(default deny)",
        )
        return StepResult(Step.RESOLVE, Verdict.DENY, StepStatus.OK, (hit,)), {}
    try:
        # any Mapping, as the type promises; strict Pydantic alone accepts only a dict
        args = req.args
        if type(args) is not dict and isinstance(args, Mapping):
            args = dict(args)
        validated = plan.args_model.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        hit = RuleHit(f"schema.{req.tool}", Verdict.DENY, f"invalid arguments: {problems}")
        return StepResult(Step.RESOLVE, Verdict.DENY, StepStatus.OK, (hit,)), {}
    return _resolved(req.tool), _present(validated)


@functools.lru_cache(maxsize=4096)
def _resolved(tool: str) -> StepResult:
    hit = RuleHit(f"schema.{tool}", Verdict.ALLOW, "arguments match the declared schema")
    return StepResult(Step.RESOLVE, Verdict.ALLOW, StepStatus.OK, (hit,))


@functools.lru_cache(maxsize=4096)
def _allowed(tool: str, autonomy: Autonomy, grant: Autonomy, env: Environment) -> StepResult:
    hit = _allow_hit(tool, autonomy, grant, env)
    return StepResult(Step.BOUNDARY, Verdict.ALLOW, StepStatus.OK, (hit,))


@functools.lru_cache(maxsize=4096)
def _allow_hit(tool: str, autonomy: Autonomy, grant: Autonomy, env: Environment) -> RuleHit:
    """The same few hits recur on every call; build each once (this is the hot path)."""
    return RuleHit(
        f"allow.{tool}",
        Verdict.ALLOW,
        f"tool {tool!r} is allowlisted; autonomy {autonomy} is within the grant ({grant}) "
        f"in {env.value}",
    )


def _boundary(policy: CompiledPolicy, plan: ToolPlan, req: DecisionRequest) -> StepResult | None:
    """The boundary's DENY conditions: wrong agent, environment not granted, tool restricted to
    other environments, autonomy above the grant. None: the call is inside the boundary."""
    if req.agent != policy.agent:
        return StepResult.ok(
            Step.BOUNDARY,
            [
                RuleHit(
                    "boundary.agent",
                    Verdict.DENY,
                    f"policy governs agent {policy.agent!r}, not {req.agent!r}",
                )
            ],
        )
    grant = policy.grant(req.environment)
    if grant is None:
        granted = ", ".join(e.value for e in policy.spec.environments)
        return StepResult.ok(
            Step.BOUNDARY,
            [
                RuleHit(
                    "boundary.environment",
                    Verdict.DENY,
                    f"agent {policy.agent!r} may not run in {req.environment.value} "
                    f"(granted: {granted})",
                )
            ],
        )
    envs = plan.spec.environments
    if envs is not None and req.environment not in envs:
        return StepResult.ok(
            Step.BOUNDARY,
            [
                RuleHit(
                    f"boundary.{plan.name}.environment",
                    Verdict.DENY,
                    f"tool {plan.name!r} is restricted to {', '.join(e.value for e in envs)}",
                )
            ],
        )
    if plan.autonomy > grant:
        return StepResult.ok(
            Step.BOUNDARY,
            [
                RuleHit(
                    "boundary.autonomy",
                    Verdict.DENY,
                    f"tool {plan.name!r} needs autonomy {plan.autonomy}; agent "
                    f"{policy.agent!r} is granted {grant} in {req.environment.value}",
                )
            ],
        )
    return None


def _flags(
    plan: ToolPlan, grant: Autonomy, req: DecisionRequest, waivers: Sequence[RuleHit]
) -> StepResult:
    """The boundary step of a call inside the grant: allowed, or held for its risk flags unless
    an ``allow`` constraint waived them."""
    if not plan.holding_flags:
        return _allowed(plan.name, plan.autonomy, grant, req.environment)
    allow = _allow_hit(plan.name, plan.autonomy, grant, req.environment)
    flags = ", ".join(f.value for f in plan.holding_flags)
    if waivers:
        ids = ", ".join(w.rule_id for w in waivers)
        hit = RuleHit(f"flags.{plan.name}", Verdict.ALLOW, f"{flags}: approval waived by {ids}")
    else:
        hit = RuleHit(
            f"flags.{plan.name}",
            Verdict.HOLD,
            f"tool {plan.name!r} is {flags}: needs approval",
            approval=plan.flag_approval,
        )
    return StepResult.ok(Step.BOUNDARY, [allow, hit])


def _cel_variables(
    plan: ToolPlan, args: dict[str, object], req: DecisionRequest
) -> dict[str, object]:
    """Only what the tool's constraints read: converting values into CEL dominates the cost of
    a decision, and a 20 KB email body that no rule looks at need not be converted."""
    out: dict[str, object] = {}
    for name in plan.cel_variables:
        if name == "args":
            wanted = plan.cel_args
            out["args"] = args if wanted is None else {k: args[k] for k in wanted if k in args}
        elif name == "env":
            out["env"] = req.environment.value
        else:
            out[name] = getattr(req, name)  # agent, tool, principal, tenant
    bind_flat(out, args, plan.cel_flat_args, plan.cel_has_args, plan.cel_size_args)
    return out


def _seen(c: CompiledConstraint, args: Mapping[str, object]) -> dict[str, object]:
    return {a: args.get(a) for a in c.expression.args}


def _limits(
    plan: ToolPlan, args: dict[str, object], req: DecisionRequest
) -> tuple[StepResult, list[RuleHit]]:
    if not plan.constraints:
        return _NO_LIMITS, []
    ctx = cel.Context(variables=_cel_variables(plan, args, req))
    hits: list[RuleHit] = []
    waivers: list[RuleHit] = []
    errored = False
    for c in plan.constraints:
        try:
            result = c.expression.program.execute(ctx)
        except Exception as exc:  # CEL runtime error: missing key, wrong type, overflow
            errored = True
            why = f"constraint {c.id} failed, denying (fail closed): {type(exc).__name__}: {exc}"
            hits.append(RuleHit(c.id, Verdict.DENY, why, _seen(c, args)))
            continue
        if result is True:
            hit = RuleHit(c.id, c.verdict, c.reason, _seen(c, args), c.approval)
            (waivers if c.waiver else hits).append(hit)
        elif result is not False:
            errored = True
            why = (
                f"constraint {c.id} returned {type(result).__name__}, expected bool; "
                "denying (fail closed)"
            )
            hits.append(RuleHit(c.id, Verdict.DENY, why, _seen(c, args)))
    step = StepResult.ok(Step.LIMITS, [*hits, *waivers])
    if errored:
        step = StepResult(Step.LIMITS, Verdict.DENY, StepStatus.ERROR, step.hits)
    return step, waivers


_NO_LIMITS = StepResult(Step.LIMITS, Verdict.ALLOW)
_NO_RATE = StepResult(Step.RATE, Verdict.ALLOW)


def _rate(policy: CompiledPolicy, req: DecisionRequest) -> StepResult:
    rules = policy.rate_rules_for(req.tool)
    if not rules:
        return _NO_RATE
    if req.usage is None:
        return StepResult.skipped(Step.RATE, "no usage supplied: rate limits not evaluated")
    hits = []
    for rule in rules:
        count = req.usage.get(rule.id)
        if count is None:
            return StepResult.error(Step.RATE, rule.id, f"no usage count for rate rule {rule.id}")
        if count >= rule.rate.count:
            scope = f"tool {rule.tool!r}" if rule.tool else "all tools"
            hits.append(
                RuleHit(
                    rule.id,
                    rule.verdict,
                    f"rate limit {rule.rate} per {rule.scope} for {scope} reached "
                    f"({count} calls in the window)",
                    {"count": count},
                    rule.approval,
                )
            )
    return StepResult.ok(Step.RATE, hits)


def _confidence(plan: ToolPlan, confidence: float) -> StepResult | None:
    """A HOLD when the agent's stated confidence is below the tool's threshold (or is not a
    number between 0 and 1); None otherwise, so that decisions without one are unchanged."""
    floor = plan.approval_rule.min_confidence
    if floor is None:
        return None
    number = isinstance(confidence, int | float) and not isinstance(confidence, bool)
    if not (number and 0.0 <= confidence <= 1.0):
        why = f"stated confidence {confidence!r} is not a number from 0 to 1: needs approval"
    elif confidence < floor:
        why = (
            f"the agent's stated confidence {confidence:g} is below {floor:g}, the threshold "
            f"of tool {plan.name!r}: needs approval"
        )
    else:
        return None
    hit = RuleHit(
        f"confidence.{plan.name}",
        Verdict.HOLD,
        why,
        {"confidence": confidence, "min_confidence": floor},
        plan.flag_approval,
    )
    return StepResult.ok(Step.VERDICT, [hit])


def evaluate(policy: CompiledPolicy, req: DecisionRequest) -> Decision:
    """Decide one request. Pure: same policy and request, same decision."""
    steps: list[StepResult] = []
    name = policy.name
    try:
        resolve, args = _resolve(policy, req)
    except Exception as exc:
        resolve, args = StepResult.error(Step.RESOLVE, "resolve.error", exc), {}
    steps.append(resolve)
    if resolve.verdict is Verdict.DENY:
        return _skip_rest(steps, Step.RESOLVE, req, name)
    plan = policy.tools[req.tool]

    try:  # deny conditions first: no CEL runs for a call outside the boundary
        denied = _boundary(policy, plan, req)
    except Exception as exc:
        denied = StepResult.error(Step.BOUNDARY, "boundary.error", exc)
    if denied is not None:
        steps.append(denied)
        return _skip_rest(steps, Step.BOUNDARY, req, name)
    try:
        limits, waivers = _limits(plan, args, req)
    except Exception as exc:
        limits, waivers = StepResult.error(Step.LIMITS, "limits.error", exc), []
    try:
        grant = policy.grant(req.environment)
        if grant is None:  # _boundary denied this already; never allow on a missing grant
            raise LookupError(f"no grant for {req.environment.value}")
        steps.append(_flags(plan, grant, req, waivers))
    except Exception as exc:
        steps.append(StepResult.error(Step.BOUNDARY, "boundary.error", exc))
    steps.append(limits)
    steps.extend(req.extra_steps)
    try:
        steps.append(_rate(policy, req))
    except Exception as exc:
        steps.append(StepResult.error(Step.RATE, "rate.error", exc))
    budgets = policy.budgets_for(req.tool)
    if budgets:
        try:
            steps.append(budget_step(budgets, req.tool, args, req))
        except Exception as exc:
            steps.append(StepResult.error(Step.RATE, "budget.error", exc))
    if req.confidence is not None:
        try:
            low = _confidence(plan, req.confidence)
        except Exception as exc:
            low = StepResult.error(Step.VERDICT, "confidence.error", exc)
        if low is not None:
            steps.append(low)
    return Decision.combine(req.tool, steps, name)


def budget_charges(policy: CompiledPolicy, req: DecisionRequest) -> tuple[Charge, ...]:
    """What ``req`` would add to each budget it spends from, computed as ``evaluate`` computes
    it (over the validated arguments). A charge that cannot be computed is left out: the budget
    step of ``evaluate`` denies the call for it. Never raises."""
    budgets = policy.budgets_for(req.tool)
    if not budgets:
        return ()
    try:
        resolved, args = _resolve(policy, req)
    except Exception:
        return ()
    if resolved.verdict is not Verdict.ALLOW:
        return ()
    return charges(budgets, req.tool, args, req)
