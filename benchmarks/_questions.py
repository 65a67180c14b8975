"""Seeded authorization questions for the decision benchmark, generated from the bench policy.

Every question is a ``DecisionRequest`` that the gate could send: a call of a declared tool with
valid arguments (values drawn around the thresholds the constraints test, so that allow, hold and
deny all occur), or a call that goes wrong in one of the ways real agents go wrong: an unknown
tool, arguments that break the tool's schema, the wrong agent, an environment the agent is not
granted, a rate counter at its limit, or a missing rate counter. The same seed gives the same
questions, so the benchmark and its test ask the same things.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proctor.model import Autonomy, Environment
from proctor.policy import CompiledPolicy, DecisionRequest, ToolPlan

if TYPE_CHECKING:  # the schema types are not re-exported; only their annotations are used here
    from proctor.policy._schema import ArgSpec

BENCH_DIR = Path(__file__).resolve().parent
POLICY_YAML = BENCH_DIR / "policies" / "bench.yaml"
POLICY_CEDAR = BENCH_DIR / "policies" / "bench.cedar"
SEED = 1729

OTHER_AGENT = "support-bot"
UNKNOWN_TOOLS = (
    "shell.exec",
    "db.drop_table",
    "payments.refund_all",
    "crm.lookup_customers",  # a typo of a real tool
    "files.delete",
    "email.send_all",
)
PRINCIPALS = ("u-ana", "u-bo", "u-chen", "u-dee")
TENANTS = ("acme-us", "acme-apac", "eu-acme-de", "eu-acme-fr")

# What the generator means to ask, and how often. Autonomy and tool-environment denials and all
# constraint verdicts come out of "call" (execute tools in production, thresholds crossed).
KIND_WEIGHTS: dict[str, float] = {
    "call": 0.80,
    "invalid-args": 0.08,
    "unknown-tool": 0.04,
    "rate-limited": 0.03,
    "wrong-agent": 0.02,
    "env-not-granted": 0.02,
    "usage-missing": 0.01,
}

# Agents read far more than they change: how often a tool is called, by its autonomy level.
TOOL_WEIGHTS: dict[Autonomy, float] = {
    Autonomy.READ: 3.0,
    Autonomy.DRAFT: 2.0,
    Autonomy.WRITE: 1.0,
    Autonomy.EXECUTE: 1.0,
}

_EMAIL_ARGS = frozenset({"to", "cc", "attendees"})
_EMAIL_DOMAINS = ("acme.test", "customers.acme.test", "gmail.test", "partner.test")
_EMAIL_DOMAIN_WEIGHTS = (0.6, 0.25, 0.1, 0.05)
_NAMES = ("ana", "bo", "chen", "dee", "eli", "fay")
_WORDS = ("refund", "order", "late", "thanks", "invoice", "plan", "upgrade", "please", "ticket")

# Strings a constraint looks into, by argument name; anything else is filler text.
_STRING_POOLS: dict[str, tuple[str, ...]] = {
    "channel": ("#general", "#support", "#exec-staff", "#exec", "#ext-acme-corp", "#sales"),
    "owner_email": (
        "ana@acme.test",
        "bo@acme.test",
        "contractor.chen@acme.test",
        "dee@partner.test",
    ),
    "contact_email": ("ana@acme.test", "buyer@customers.acme.test", "cfo@bigco.test"),
    "value": ("true", "false", "gold", "smb", "u-ana"),
    "flag_key": ("payments_v2_checkout", "payments_retry", "new_dashboard", "search_v3"),
    "period": ("2024-01", "2024-12", "2025-06", "2026-03"),
}
_ID_PATTERN = re.compile(r"^\^(?P<prefix>[A-Z-]*)\[0-9\]\{(?P<min>\d+)(?:,\d+)?\}\$$")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_WRONG_TYPE: dict[str, object] = {
    "string": 42,
    "integer": "many",
    "number": "lots",  # not a decimal literal, so Cedar's schema rejects it too
    "boolean": "yes",
    "array": "not-a-list",
}


@dataclass(frozen=True, slots=True)
class Question:
    """One authorization question and what the generator meant by it."""

    kind: str
    request: DecisionRequest


def generate(policy: CompiledPolicy, n: int, seed: int = SEED) -> list[Question]:
    """``n`` questions, the same ones for the same policy and seed."""
    return _Generator(policy, random.Random(seed)).questions(n)


def kind_counts(questions: Sequence[Question]) -> Counter[str]:
    return Counter(q.kind for q in questions)


class _Generator:
    def __init__(self, policy: CompiledPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.tools = sorted(policy.tools)
        self.tool_weights = [TOOL_WEIGHTS[policy.tools[t].autonomy] for t in self.tools]
        self.kinds = list(KIND_WEIGHTS)
        self.weights = list(KIND_WEIGHTS.values())
        self.marks = {name: _marks(plan) for name, plan in policy.tools.items()}

    def questions(self, n: int) -> list[Question]:
        return [self.question() for _ in range(n)]

    def question(self) -> Question:
        rng = self.rng
        kind = rng.choices(self.kinds, self.weights)[0]
        tool = rng.choices(self.tools, self.tool_weights)[0]
        if kind == "unknown-tool":
            tool = rng.choice(UNKNOWN_TOOLS)
            args: dict[str, object] = {"target": "C1001", "force": True}
        else:
            args = self.valid_args(self.policy.tools[tool])
            if kind == "invalid-args":
                args = self.broken_args(self.policy.tools[tool], args)
        env = Environment.PRODUCTION if rng.random() < 0.75 else Environment.STAGING
        if kind == "env-not-granted":
            env = Environment.DEV
        usage = {r.id: rng.randrange(r.rate.count) for r in self.policy.rate_rules_for(tool)}
        if kind == "rate-limited":
            rule = rng.choice(self.policy.rate_rules_for(tool))
            usage[rule.id] = rule.rate.count + rng.randrange(3)
        elif kind == "usage-missing":
            del usage[rng.choice(sorted(usage))]
        request = DecisionRequest(
            tool=tool,
            args=args,
            agent=OTHER_AGENT if kind == "wrong-agent" else self.policy.agent,
            environment=env,
            principal=rng.choice(PRINCIPALS),
            tenant=rng.choice(TENANTS),
            usage=usage,
        )
        return Question(kind, request)

    def valid_args(self, plan: ToolPlan) -> dict[str, object]:
        args: dict[str, object] = {}
        for name, spec in plan.spec.args.items():
            if spec.required or self.rng.random() < 0.6:
                args[name] = self.value(name, spec, self.marks[plan.name].get(name, ()))
        return args

    def value(self, name: str, spec: ArgSpec, marks: Sequence[float]) -> object:
        rng = self.rng
        if spec.enum is not None:
            return rng.choice(spec.enum)
        if spec.type == "boolean":
            return rng.random() < 0.5
        if spec.type == "integer":
            return self.integer(spec, marks)
        if spec.type == "number":
            return self.number(spec, marks)
        if spec.type == "array":
            return self.array(name, spec, marks)
        if spec.type == "string":
            return self.string(name, spec)
        raise ValueError(f"the generator cannot make a value of type {spec.type!r} for {name!r}")

    def integer(self, spec: ArgSpec, marks: Sequence[float]) -> int:
        rng = self.rng
        top = int(max(marks, default=10))
        lo = int(spec.minimum) if spec.minimum is not None else 0
        hi = int(spec.maximum) if spec.maximum is not None else max(100, 2 * top)
        if marks and rng.random() < 0.5:
            m = int(rng.choice(marks))
            v = rng.choice((m - 1, m, m + 1, m * 2, m // 2))
        else:
            v = rng.randint(lo, min(hi, max(lo + 10, 3 * top)))
        return min(max(v, lo), hi)

    def number(self, spec: ArgSpec, marks: Sequence[float]) -> float | int:
        rng = self.rng
        lo = spec.minimum if spec.minimum is not None else 0.0
        hi = spec.maximum if spec.maximum is not None else max(100.0, 2 * max(marks, default=0))
        if marks and rng.random() < 0.5:
            m = rng.choice(marks)
            v = rng.choice((m - 1, m, m + 0.01, m + 1, m * 1.5, m * 0.5))
        else:
            v = rng.uniform(lo, min(hi, 3 * max(marks, default=100.0)))
        v = round(min(max(v, lo), hi), 2)
        # Agents send whole amounts as JSON integers; the schema accepts them for numbers.
        return int(v) if v.is_integer() and rng.random() < 0.5 else v

    def array(self, name: str, spec: ArgSpec, marks: Sequence[float]) -> list[object]:
        rng = self.rng
        cap = spec.max_items if spec.max_items is not None else 100
        if marks and rng.random() < 0.4:
            m = int(rng.choice(marks))
            size = rng.choice((m - 1, m, m + 1))
        else:
            size = rng.randint(1, 4)
        size = min(max(size, 1), cap)
        if name in _EMAIL_ARGS:
            return [self.email() for _ in range(size)]
        return [self.identifier("^C[0-9]{4,10}$") for _ in range(size)]

    def string(self, name: str, spec: ArgSpec) -> str:
        rng = self.rng
        if name in _STRING_POOLS:
            text = rng.choice(_STRING_POOLS[name])
        elif spec.pattern is not None:
            text = self.identifier(spec.pattern)
        else:
            text = " ".join(rng.choices(_WORDS, k=rng.randint(1, 12)))
        if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
            raise ValueError(f"generated {text!r} for {name!r}, which breaks {spec.pattern!r}")
        return text[: spec.max_length] if spec.max_length is not None else text

    def identifier(self, pattern: str) -> str:
        m = _ID_PATTERN.match(pattern)
        if m is None:
            raise ValueError(f"no sampler for pattern {pattern!r}; add one to _STRING_POOLS")
        digits = int(m["min"])
        # A dozen ids per kind, so that ids repeat (merging a record into itself, same account).
        return f"{m['prefix']}{10 ** (digits - 1) + self.rng.randrange(12)}"

    def email(self) -> str:
        domain = self.rng.choices(_EMAIL_DOMAINS, _EMAIL_DOMAIN_WEIGHTS)[0]
        return f"{self.rng.choice(_NAMES)}@{domain}"

    def broken_args(self, plan: ToolPlan, args: dict[str, object]) -> dict[str, object]:
        """``args`` broken in one way that both engines see (never only a pattern or a length)."""
        rng = self.rng
        specs = plan.spec.args
        present = [n for n in args if n in specs]
        choices: dict[str, list[str]] = {
            "unknown": ["debug"],
            "missing": [n for n, s in specs.items() if s.required],
            "type": present,
            "enum": [n for n in present if specs[n].enum is not None],
            "range": [
                n
                for n in present
                if specs[n].type in ("integer", "number")
                and (specs[n].minimum is not None or specs[n].maximum is not None)
            ],
            "too-many": [n for n in present if specs[n].max_items is not None],
        }
        way = rng.choice([w for w, names in choices.items() if names])
        name = rng.choice(choices[way])
        spec = specs.get(name)
        if spec is None:  # "unknown"
            args[name] = True
        elif way == "missing":
            del args[name]
        elif way == "type":
            args[name] = _WRONG_TYPE[spec.type]
        elif way == "enum":
            args[name] = 7 if spec.type == "integer" else "bogus"
        elif way == "range":
            args[name] = self.out_of_range(spec)
        else:  # "too-many"
            size = (spec.max_items or 0) + 1
            email = name in _EMAIL_ARGS
            args[name] = [self.email() if email else f"C{1000 + i}" for i in range(size)]
        return args

    def out_of_range(self, spec: ArgSpec) -> int | float:
        step = 1 if spec.type == "integer" else 0.5
        if spec.minimum is not None and (spec.maximum is None or self.rng.random() < 0.5):
            v = spec.minimum - step
        elif spec.maximum is not None:
            v = spec.maximum + step
        else:
            raise ValueError("an argument without bounds cannot be out of range")
        return int(v) if spec.type == "integer" else float(v)


def _marks(plan: ToolPlan) -> dict[str, tuple[float, ...]]:
    """The numbers each argument's constraints compare it with (``args.amount > 100.0``: 100)."""
    marks: dict[str, set[float]] = {}
    for c in plan.constraints:
        numbers = {float(x) for x in _NUMBER.findall(_QUOTED.sub('""', c.expression.source))}
        for arg in c.expression.args:
            marks.setdefault(arg, set()).update(numbers)
    return {arg: tuple(sorted(ns)) for arg, ns in marks.items()}
