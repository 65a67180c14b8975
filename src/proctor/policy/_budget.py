"""Budgets compiled for evaluation, and the budget step of ``evaluate``: pure, no I/O.

A budget's amounts are exact: every amount is converted to integer micro-units (millionths of
the unit), rounded up, so that sums never drift and a call never costs less than it says.
The gate reads what each budget key has spent or reserved (``DecisionRequest.budget_usage``,
by ledger key) from a ``proctor.budgets`` ledger, and reserves atomically at enforcement.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from proctor.model import ApprovalRequirement, RuleHit, Step, StepResult, StepStatus, Verdict
from proctor.policy._cel import CelCheckError, Expression, compile_for_args, execute

if TYPE_CHECKING:
    from proctor.policy._engine import DecisionRequest
    from proctor.policy._schema import PolicySpec

SCALE = 1_000_000
"""Micro-units per unit: amounts are kept as integers of millionths."""
MAX_UNITS = 10**15  # one amount above 10^9 units is refused (sums stay exact in a double)
_MAX_KEY = 128


class BudgetAmountError(ValueError):
    """A budget expression yielded something that cannot be spent: not a number, not finite,
    negative, too large; or a key that is not a non-empty string or an integer."""


def to_units(value: object, what: str = "amount") -> int:
    """``value`` (an int or float from CEL) as micro-units, rounded up. Raises
    ``BudgetAmountError`` for anything else, and for negative amounts: a call can never give
    budget back."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BudgetAmountError(f"{what} is {type(value).__name__} {value!r}, expected a number")
    d = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if not d.is_finite():
        raise BudgetAmountError(f"{what} is {value!r}, expected a finite number")
    if d < 0:
        raise BudgetAmountError(f"{what} is {value!r}: negative amounts are refused")
    units = int((d * SCALE).to_integral_value(ROUND_CEILING))
    if units > MAX_UNITS:
        raise BudgetAmountError(f"{what} {value!r} is too large")
    return units


def limit_units(text: str) -> int:
    return int(Decimal(text) * SCALE)


def show(units: int) -> str:
    """Micro-units for people: ``2,000`` or ``12.5``."""
    d = (Decimal(units) / SCALE).normalize()
    whole, _, frac = f"{d:f}".partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")


def plain(units: int) -> str:
    """Micro-units as a plain decimal string, for JSON: ``2000`` or ``12.5``."""
    return f"{(Decimal(units) / SCALE).normalize():f}"


def window_text(seconds: int) -> str:
    for unit, secs in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % secs == 0:
            n = seconds // secs
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"


@dataclass(frozen=True, slots=True)
class Charge:
    """What one call would add to one budget account. ``key``: the ledger account (budget and
    scope); ``budget``: the budget's ledger name (``agent/name``); amounts in micro-units.
    ``enforce`` false: reserve without checking the limit (people lifted the hold)."""

    rule_id: str
    budget: str
    key: str
    amount: int
    limit: int
    window: int
    enforce: bool = True
    said: str = field(default="", compare=False)  # the amount as the expression gave it

    def shown(self) -> str:
        """The amount for a reason: as the expression gave it (``45.0``: the audit log's
        scrubber then replaces it by the argument it came from), else in units."""
        return self.said or show(self.amount)


@dataclass(frozen=True, slots=True)
class CompiledTerm:
    amount: Expression
    key: Expression | None


@dataclass(frozen=True, slots=True)
class CompiledBudget:
    """One budget of one policy, ready for ``evaluate``."""

    name: str
    agent: str
    limit: int  # micro-units
    unit: str
    window: int  # seconds
    scope: Literal["agent", "tenant", "session", "key"]
    verdict: Verdict
    approval: ApprovalRequirement | None
    reason: str
    terms: Mapping[str, CompiledTerm] = field(default_factory=dict)

    @property
    def rule_id(self) -> str:
        return f"budget.{self.name}"

    @property
    def ledger_name(self) -> str:
        return f"{self.agent}/{self.name}"

    def account(self, req: DecisionRequest, key: object = None) -> str:
        """The ledger key of the scope this request spends from. Parts are quoted, so no two
        scopes share a key; a key value is stored as a digest of its clear, normalized form
        (``account_key``), never as given."""
        parts = [self.ledger_name]
        if self.scope == "tenant":
            parts.append("tenant:" + req.tenant)
        elif self.scope == "session":
            parts.append("session:" + req.session)
        elif self.scope == "key":
            if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
                raise BudgetAmountError(
                    f"key is {type(key).__name__} {key!r}, expected a non-empty string or integer"
                )
            value = account_key(str(key), req.tenant, req.budget_clear)
            parts += ["tenant:" + req.tenant, "key:" + value]
        else:
            parts.append("agent")
        return "|".join(quote(p, safe=":/@.-_") for p in parts)

    def charge(self, tool: str, args: Mapping[str, object], req: DecisionRequest) -> Charge:
        """What a call of ``tool`` with (validated) ``args`` adds. Raises on a CEL error or an
        amount or key that cannot be spent from."""
        term = self.terms[tool]
        raw = _run(term.amount, args, req)
        amount = to_units(raw)
        key = _run(term.key, args, req) if term.key is not None else None
        return Charge(
            self.rule_id,
            self.ledger_name,
            self.account(req, key),
            amount,
            self.limit,
            self.window,
            said=repr(raw),
        )

    def describe(self) -> str:
        per = {"agent": "by this agent", "tenant": "in this tenant", "session": "in this session"}
        return per.get(self.scope, "for this key")


def steerable_budgets(budgets: tuple[CompiledBudget, ...]) -> list[str]:
    """Warnings for ``proctor policy check``: a ``key`` or ``session`` budget whose tools no
    ``agent`` or ``tenant`` budget also caps. The agent steers those scopes (it chooses the
    key's argument and can open a new session): alone, they are no cap (docs/budgets.md)."""
    capped = {t for b in budgets if b.scope in ("agent", "tenant") for t in b.terms}
    out = []
    for b in budgets:
        loose = sorted(t for t in b.terms if t not in capped)
        if b.scope in ("key", "session") and loose:
            out.append(
                f"budget {b.name} (scope {b.scope}) is steerable by the agent and no agent- or "
                f"tenant-wide budget caps {', '.join(loose)}: add one"
            )
    return out


def normalize_key(value: str) -> str:
    """A key value as one account sees it: NFKC (a fullwidth digit is the digit), without format
    characters (zero-width spaces, bidi marks), trimmed, case-folded. Raises
    ``BudgetAmountError`` for a key left empty."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.strip().casefold()
    if not text:
        raise BudgetAmountError("key is empty once normalized")
    return text


def account_key(value: str, tenant: str, clear: Callable[[str], str] | None = None) -> str:
    """The account part of a ``key`` budget: vault tokens in ``value`` replaced by their clear
    values (``clear``, given by the gate: tokens differ per session, the value does not), then
    normalized, then digested with the tenant, so that the ledger and ``proctor budget status``
    never hold the clear value (an e-mail address, a customer id)."""
    if clear is not None:
        value = clear(value)
    text = normalize_key(value)
    digest = hashlib.sha256(f"{tenant}\x00{text}".encode()).hexdigest()[:32]
    return "sha256:" + digest


def _run(expr: Expression, args: Mapping[str, object], req: DecisionRequest) -> object:
    def context(name: str) -> object:
        return req.environment.value if name == "env" else getattr(req, name)

    return execute(expr, args, context)


def charges(
    budgets: tuple[CompiledBudget, ...], tool: str, args: Mapping[str, object], req: DecisionRequest
) -> tuple[Charge, ...]:
    """The charges a call makes; a budget whose charge cannot be computed is left out (the
    budget step of ``evaluate`` denies the call for it)."""
    out = []
    for b in budgets:
        try:
            out.append(b.charge(tool, args, req))
        except Exception:  # noqa: S112 - evaluate reports it (fail closed there)
            continue
    return tuple(out)


def budget_step(
    budgets: tuple[CompiledBudget, ...], tool: str, args: Mapping[str, object], req: DecisionRequest
) -> StepResult:
    """The budgets' verdict on one call, given what each account has spent or reserved. Every
    budget the tool spends from adds a hit, within budget or not, so that the audit shows it."""
    if req.budget_usage is None:
        return StepResult.skipped(Step.RATE, "no budget usage supplied: budgets not evaluated")
    hits: list[RuleHit] = []
    errored = False
    for b in budgets:
        try:
            c = b.charge(tool, args, req)
        except Exception as exc:
            errored = True
            why = (
                f"budget {b.name}: what this call spends could not be computed, denying (fail "
                f"closed): {type(exc).__name__}: {exc}"
            )
            hits.append(RuleHit(b.rule_id, Verdict.DENY, why))
            continue
        spent = req.budget_usage.get(c.key)
        if spent is None:
            errored = True
            why = f"budget {b.name}: no usage supplied for its account, denying (fail closed)"
            hits.append(RuleHit(b.rule_id, Verdict.DENY, why))
            continue
        over = spent + c.amount > b.limit
        unit = f" {b.unit}" if b.unit else ""
        seen = {
            "account": c.key,
            "spent": show(spent),
            "amount": show(c.amount),
            "limit": show(b.limit),
            "over": over,
        }
        said = (
            f"{show(spent)}{unit} spent or reserved {b.describe()} in the last "
            f"{window_text(b.window)}, this call adds {c.shown()}{unit}, limit "
            f"{show(b.limit)}{unit}"
        )
        if over:
            extra = f": {b.reason}" if b.reason else ""
            hits.append(
                RuleHit(
                    b.rule_id,
                    b.verdict,
                    f"budget {b.name} would be exceeded ({said}){extra}",
                    seen,
                    b.approval,
                )
            )
        else:
            hits.append(RuleHit(b.rule_id, Verdict.ALLOW, f"within budget {b.name} ({said})", seen))
    step = StepResult.ok(Step.RATE, hits)
    if errored:
        step = StepResult(Step.RATE, Verdict.DENY, StepStatus.ERROR, step.hits)
    return step


def compile_budgets(
    spec: PolicySpec,
) -> tuple[tuple[CompiledBudget, ...], list[tuple[tuple[str | int, ...], str]]]:
    """The policy's budgets, compiled, and every problem found: (path, message)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    out: list[CompiledBudget] = []
    for name, b in spec.budgets.items():
        base: tuple[str | int, ...] = ("budgets", name)
        if b.on_exceed != "hold" and (b.approvers is not None or b.group is not None):
            problems.append((base, "approvers and group only apply to on_exceed 'hold'"))
        if b.scope != "key" and (b.key is not None or any(t.key for t in b.tools.values())):
            problems.append((base, f"a key only applies to scope 'key' (scope is {b.scope!r})"))
        terms: dict[str, CompiledTerm] = {}
        for tool, term in b.tools.items():
            path = (*base, "tools", tool)
            declared = spec.tools.get(tool)
            if declared is None:
                problems.append((path, f"tool {tool!r} is not one of the policy's tools"))
                continue
            try:
                amount = compile_for_args(term.amount, declared.args)
            except CelCheckError as exc:
                problems.append(((*path, "amount"), str(exc)))
                continue
            source = (term.key or b.key) if b.scope == "key" else None
            key = None
            if b.scope == "key" and source is None:
                problems.append((path, "scope 'key' needs a key expression (budget or tool)"))
                continue
            if source is not None:
                try:
                    key = compile_for_args(source, declared.args)
                except CelCheckError as exc:
                    where = (*path, "key") if term.key else (*base, "key")
                    problems.append((where, f"{exc} (for tool {tool!r})"))
                    continue
            terms[tool] = CompiledTerm(amount, key)
        approval = None
        verdict = Verdict.HOLD if b.on_exceed == "hold" else Verdict.DENY
        if verdict is Verdict.HOLD:
            group = b.group or spec.defaults.approval.group or spec.agent.owner
            approvers = b.approvers or spec.defaults.approval.approvers
            approval = ApprovalRequirement(approvers, (group,))
        out.append(
            CompiledBudget(
                name,
                spec.agent.name,
                limit_units(b.limit),
                b.unit,
                b.window,
                b.scope,
                verdict,
                approval,
                b.reason,
                terms,
            )
        )
    return tuple(out), problems
