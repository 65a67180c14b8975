"""A policy compiled for evaluation: per-tool plans with CEL programs and argument validators."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from proctor.model import HOLDING_FLAGS, ApprovalRequirement, Autonomy, Environment, Flag, Verdict
from proctor.policy._budget import CompiledBudget
from proctor.policy._cel import Expression
from proctor.policy._schema import ArgSpec, PolicySpec, Rate, ToolSpec

_PY_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict[str, Any],
}


_EXACT: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _of_declared_type(kind: str) -> Any:
    """Reject values of another type before the enum compares them (36.0 == 36 in Python)."""
    accepted = _EXACT.get(kind)

    def check(value: object) -> object:
        if accepted is not None and (
            not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted)
        ):
            raise ValueError(f"expected {kind}, got {type(value).__name__}")
        return value

    return BeforeValidator(check)


def _field_type(spec: ArgSpec) -> Any:
    if spec.enum is not None:
        return Annotated[Literal[tuple(spec.enum)], _of_declared_type(spec.type)]
    if spec.type == "array":
        item = _PY_TYPES[spec.items or "string"]
        return list[item]  # type: ignore[valid-type]
    return _PY_TYPES[spec.type]


def build_args_model(tool: str, args: dict[str, ArgSpec]) -> type[BaseModel]:
    """A strict Pydantic model for a tool's arguments: no coercion, no unknown arguments."""
    fields: dict[str, Any] = {}
    for name, spec in args.items():
        kwargs: dict[str, Any] = {"description": spec.description or None}
        if spec.minimum is not None:
            kwargs["ge"] = spec.minimum
        if spec.maximum is not None:
            kwargs["le"] = spec.maximum
        if spec.min_length is not None:
            kwargs["min_length"] = spec.min_length
        if spec.max_length is not None:
            kwargs["max_length"] = spec.max_length
        if spec.max_items is not None:
            kwargs["max_length"] = spec.max_items
        if spec.pattern is not None:
            kwargs["pattern"] = spec.pattern
        typ = _field_type(spec)
        if spec.required:
            fields[name] = (typ, Field(**kwargs))
        else:
            fields[name] = (typ | None, Field(default=spec.default, **kwargs))
    model_name = "Args_" + re.sub(r"\W", "_", tool)
    config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    return create_model(model_name, __config__=config, **fields)


@dataclass(frozen=True, slots=True)
class CompiledConstraint:
    id: str
    expression: Expression
    verdict: Verdict
    reason: str
    approval: ApprovalRequirement | None
    waiver: bool  # an `allow` constraint: waives the flag hold when it matches


@dataclass(frozen=True, slots=True)
class RateRule:
    id: str
    scope: Literal["session", "agent"]
    tool: str | None  # None: counts every tool
    rate: Rate
    verdict: Verdict
    approval: ApprovalRequirement | None

    def key(self, agent: str, session_id: str) -> str:
        """The counter this rule reads: one per (scope, tool) and session or agent."""
        who = f"agent:{agent}" if self.scope == "agent" else f"session:{session_id}"
        return f"{who}|tool:{self.tool or '*'}|{self.rate.seconds}"


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """How a held call of one tool is approved, beyond who (``Decision.approval``): the
    two-person rule, how long the request waits, what expiry does, and the confidence below
    which a call holds."""

    expires_seconds: int = 86400
    on_expiry: Literal["deny", "escalate"] = "deny"
    escalate_to: str = ""  # the workflow owner (agent.owner)
    two_person: bool = False
    min_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class ToolPlan:
    name: str
    spec: ToolSpec
    autonomy: Autonomy
    holding_flags: tuple[Flag, ...]
    flag_approval: ApprovalRequirement
    args_model: type[BaseModel]
    constraints: tuple[CompiledConstraint, ...]
    rate_rules: tuple[RateRule, ...]
    # What the constraints read, so the engine hands CEL only that (conversion is the hot path):
    cel_variables: frozenset[str] = frozenset()
    cel_args: frozenset[str] | None = frozenset()  # None: some expression needs all of args
    all_rate_rules: tuple[RateRule, ...] = ()  # rate_rules, then the policy-wide rules
    # flattened expressions read arguments as top-level variables (see _cel._flatten):
    cel_flat_args: frozenset[str] = frozenset()  # _arg_x
    cel_has_args: frozenset[str] = frozenset()  # _has_x
    cel_size_args: frozenset[str] = frozenset()  # _size_x
    approval_rule: ApprovalRule = ApprovalRule()


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """One loaded policy file, ready for ``evaluate``. Immutable and shareable across threads."""

    spec: PolicySpec
    file: str
    digest: str  # sha256 of the file's bytes: which version of the policy decided
    tools: dict[str, ToolPlan]
    session_rate_rules: tuple[RateRule, ...]
    budgets: tuple[CompiledBudget, ...] = ()  # docs/budgets.md
    # monitoring.value, compiled: tool -> what a call moves (None: the defaults, which the
    # monitor derives from the budgets and the arguments whose role is amount)
    values: Mapping[str, Expression] | None = None
    name: str = field(init=False)  # "agent@digest12": which policy version decided
    _budgets_by_tool: dict[str, tuple[CompiledBudget, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"{self.spec.agent.name}@{self.digest[:12]}")
        by_tool = {t: tuple(b for b in self.budgets if t in b.terms) for t in self.tools}
        object.__setattr__(self, "_budgets_by_tool", {t: b for t, b in by_tool.items() if b})

    def budgets_for(self, tool: str) -> tuple[CompiledBudget, ...]:
        """The budgets a call of ``tool`` spends from (none: the empty tuple)."""
        return self._budgets_by_tool.get(tool, ())

    @property
    def agent(self) -> str:
        return self.spec.agent.name

    def grant(self, env: Environment) -> Autonomy | None:
        g = self.spec.environments.get(env)
        return g.max_autonomy if g else None

    def rate_rules_for(self, tool: str) -> tuple[RateRule, ...]:
        """The tool's own rate rules, then the policy-wide ones."""
        plan = self.tools.get(tool)
        return plan.all_rate_rules if plan is not None else self.session_rate_rules


def holding_flags(spec: ToolSpec) -> tuple[Flag, ...]:
    if spec.approval is not None and not spec.approval.on_flags:
        return ()
    return tuple(f for f in spec.flags if f in HOLDING_FLAGS)


def compile_tool_plan(
    policy: PolicySpec,
    name: str,
    spec: ToolSpec,
    constraints: tuple[CompiledConstraint, ...],
) -> ToolPlan:
    default_group = policy.defaults.approval.group or policy.agent.owner
    appr = spec.approval
    flag_approval = ApprovalRequirement(
        appr.approvers if appr else policy.defaults.approval.approvers,
        ((appr.group if appr and appr.group else None) or default_group,),
    )
    rules: list[RateRule] = []
    rl = spec.rate_limit
    if rl is not None:
        verdict = Verdict.HOLD if rl.on_exceed == "hold" else Verdict.DENY
        appr_req = flag_approval if verdict is Verdict.HOLD else None
        if rl.per_session is not None:
            rules.append(
                RateRule(f"rate.{name}.session", "session", name, rl.per_session, verdict, appr_req)
            )
        if rl.per_agent is not None:
            rules.append(
                RateRule(f"rate.{name}.agent", "agent", name, rl.per_agent, verdict, appr_req)
            )
    return ToolPlan(
        approval_rule=approval_rule(policy, spec),
        name=name,
        spec=spec,
        autonomy=spec.autonomy,
        holding_flags=holding_flags(spec),
        flag_approval=flag_approval,
        args_model=build_args_model(name, spec.args),
        constraints=constraints,
        rate_rules=tuple(rules),
        all_rate_rules=(*rules, *session_rate_rules(policy)),
        cel_variables=frozenset().union(*(c.expression.variables for c in constraints)),
        cel_args=(
            None
            if any(c.expression.whole_args for c in constraints)
            else frozenset(
                a for c in constraints if not c.expression.flat for a in c.expression.value_args
            )
        ),
        cel_flat_args=frozenset(
            a for c in constraints if c.expression.flat for a in c.expression.value_args
        ),
        cel_has_args=frozenset(a for c in constraints for a in c.expression.has_args),
        cel_size_args=frozenset(a for c in constraints for a in c.expression.size_args),
    )


def session_rate_rules(policy: PolicySpec) -> tuple[RateRule, ...]:
    rl = policy.defaults.rate_limits
    verdict = Verdict.HOLD if rl.on_exceed == "hold" else Verdict.DENY
    group = policy.defaults.approval.group or policy.agent.owner
    appr = (
        ApprovalRequirement(policy.defaults.approval.approvers, (group,))
        if verdict is Verdict.HOLD
        else None
    )
    rules = []
    if rl.per_session is not None:
        rules.append(RateRule("rate.session", "session", None, rl.per_session, verdict, appr))
    if rl.per_agent is not None:
        rules.append(RateRule("rate.agent", "agent", None, rl.per_agent, verdict, appr))
    return tuple(rules)


def approval_rule(policy: PolicySpec, spec: ToolSpec | None) -> ApprovalRule:
    """The tool's approval settings, each unset one taken from ``defaults.approval``."""
    base = policy.defaults.approval
    tool = spec.approval if spec is not None else None

    def pick(name: str) -> Any:
        value = getattr(tool, name) if tool is not None else None
        return getattr(base, name) if value is None else value

    return ApprovalRule(
        expires_seconds=pick("expires_after"),
        on_expiry=pick("on_expiry"),
        escalate_to=policy.agent.owner,
        two_person=pick("two_person"),
        min_confidence=pick("min_confidence"),
    )
