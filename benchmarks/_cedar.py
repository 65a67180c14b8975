"""The Cedar side of the benchmark: schema, request translation and the three-way verdict.

bench.cedar holds the policies, written by hand. The schema is derived here from bench.yaml
because it only restates types: each tool becomes an action in the group of its autonomy level,
with a context record typed from the tool's declared arguments (numbers as ``decimal``, arrays as
sets), the facts the policies need and the tool's rate counters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cedarpy

from proctor.model import Autonomy, Environment, Verdict
from proctor.policy import CompiledPolicy, DecisionRequest

if TYPE_CHECKING:  # the schema types are not re-exported; only their annotations are used here
    from proctor.policy._schema import ArgSpec

CedarRequest = dict[str, object]

# Arrays whose recipients' domains the policies check (Cedar has no quantifiers or suffix test
# over a set, so the request carries the set of domains).
DOMAIN_FACTS = frozenset({"to", "cc"})
OTHER_AGENTS = ("support-bot",)

_TYPES = {"string": "String", "integer": "Long", "number": "decimal", "boolean": "Bool"}


@dataclass(frozen=True, slots=True)
class CedarEngine:
    """Pre-parsed policies, entities and schema: the fastest way cedarpy offers to ask."""

    policies: cedarpy.PolicySet
    entities: cedarpy.Entities
    schema: cedarpy.Schema
    size: int  # number of policies
    slices: Mapping[str, cedarpy.PolicySet]  # per tool, the policies that can apply to it

    @staticmethod
    def load(policy: CompiledPolicy, cedar_file: Path) -> CedarEngine:
        """Parse ``cedar_file`` and check it against the schema derived from ``policy``."""
        text = cedar_file.read_text(encoding="utf-8")
        schema_text = cedar_schema(policy)
        schema = cedarpy.Schema.from_str(schema_text)
        result = cedarpy.validate_policies(text, schema)
        if not result.validation_passed:
            problems = "\n".join(f"  {e}" for e in result.errors[:10])
            raise ValueError(f"{cedar_file} does not validate against the schema:\n{problems}")
        policies = cedarpy.PolicySet.from_str(text)
        entities = cedarpy.Entities.from_json_str(json.dumps(_entities(policy)), schema)
        slices = _slices(text, policy.tools)
        return CedarEngine(policies, entities, schema, len(policies), slices)

    def decide(self, request: CedarRequest, policies: cedarpy.PolicySet | None = None) -> Verdict:
        """Cedar's verdict on ``request``, by all policies or by the ``policies`` given."""
        result = cedarpy.is_authorized(
            request, policies or self.policies, self.entities, self.schema
        )
        return cedar_verdict(result)

    def slice_for(self, tool: str) -> cedarpy.PolicySet:
        """The policies whose action scope can match ``tool`` (all of them for unknown tools)."""
        return self.slices.get(tool, self.policies)

    def explain(self, request: CedarRequest) -> str:
        """The policies that decided, or the errors: for showing a disagreement."""
        result = cedarpy.is_authorized(request, self.policies, self.entities, self.schema)
        diag = result.diagnostics
        ids = sorted(diag.id_annotations_by_reason.values())
        return f"{result.decision.value} {ids or ''} {diag.errors or ''}".strip()


def cedar_verdict(result: cedarpy.AuthzResult) -> Verdict:
    """Cedar's answer as ALLOW/HOLD/DENY: a Deny decided only by ``hold:*`` policies is HOLD.

    An error (a request that breaks the schema, a policy that failed) is DENY: Cedar skips a
    policy that errors, so an errored forbid must not turn into an allow.
    """
    diag = result.diagnostics
    if diag.errors:
        return Verdict.DENY
    if result.decision is cedarpy.Decision.Allow:
        return Verdict.ALLOW
    ids = diag.id_annotations_by_reason.values()
    if ids and all(i.startswith("hold:") for i in ids):
        return Verdict.HOLD
    return Verdict.DENY


def cedar_request(policy: CompiledPolicy, req: DecisionRequest) -> CedarRequest:
    """The same question for Cedar: arguments in the context, numbers as decimals, plus facts."""
    if req.usage is None:
        raise ValueError("the Cedar policies need usage counts; pass usage for every question")
    plan = policy.tools.get(req.tool)
    specs: Mapping[str, ArgSpec] = plan.spec.args if plan else {}
    args = {k: _value(v, specs.get(k)) for k, v in req.args.items() if v is not None}
    facts: dict[str, object] = {}
    for name, spec in specs.items():
        value = req.args.get(name)
        if spec.type == "array" and isinstance(value, list | tuple):
            facts[f"{name}_count"] = len(value)
            if name in DOMAIN_FACTS:
                facts[f"{name}_domains"] = sorted({_domain(v) for v in value if isinstance(v, str)})
    context = {
        "principal": req.principal,
        "tenant": req.tenant,
        "args": args,
        "facts": facts,
        "usage": dict(req.usage),
    }
    return {
        "principal": {"type": "Agent", "id": req.agent},
        "action": {"type": "Action", "id": req.tool},
        "resource": {"type": "Env", "id": req.environment.value},
        "context": context,
    }


def cedar_schema(policy: CompiledPolicy) -> str:
    """A Cedar schema (human-readable syntax) for the tools of ``policy``."""
    lines = ["entity Agent;", "entity Env;"]
    levels = list(Autonomy)
    for level, parent in zip(levels, [*levels[1:], None], strict=True):
        parents = f' in ["autonomy.{parent}"]' if parent is not None else ""
        lines.append(f'action "autonomy.{level}"{parents};')
    for name, plan in policy.tools.items():
        args = ", ".join(
            f"{json.dumps(a)}{'' if s.required else '?'}: {_type(a, s)}"
            for a, s in plan.spec.args.items()
        )
        facts: list[str] = []
        for a, s in plan.spec.args.items():
            if s.type == "array":
                opt = "" if s.required else "?"
                facts.append(f'"{a}_count"{opt}: Long')
                if a in DOMAIN_FACTS:
                    facts.append(f'"{a}_domains"{opt}: Set<String>')
        usage = ", ".join(f"{json.dumps(r.id)}: Long" for r in policy.rate_rules_for(name))
        lines.append(
            f'action {json.dumps(name)} in ["autonomy.{plan.autonomy}"] appliesTo {{\n'
            "  principal: [Agent], resource: [Env],\n"
            "  context: { principal: String, tenant: String,\n"
            f"    args: {{ {args} }},\n"
            f"    facts: {{ {', '.join(facts)} }},\n"
            f"    usage: {{ {usage} }} }}\n"
            "};"
        )
    return "\n".join(lines) + "\n"


def _type(name: str, spec: ArgSpec) -> str:
    if spec.type == "array":
        return f"Set<{_TYPES[spec.items or 'string']}>"
    if spec.type not in _TYPES:
        raise ValueError(f"argument {name!r}: type {spec.type!r} has no Cedar equivalent here")
    return _TYPES[spec.type]


def _value(value: object, spec: ArgSpec | None) -> object:
    if (
        spec is not None
        and spec.type == "number"
        and isinstance(value, int | float)
        and not isinstance(value, bool)  # an int to Python, not a number to either engine
    ):
        return {"__extn": {"fn": "decimal", "arg": _decimal(value)}}
    if isinstance(value, tuple):
        return list(value)
    return value


def _decimal(value: float) -> str:
    """``value`` as a Cedar decimal literal, exactly: Cedar keeps at most 4 decimal places."""
    text = repr(float(value))
    whole, _, frac = text.partition(".")
    if "e" in text or "n" in text or len(frac) > 4:
        raise ValueError(f"{value!r} is not exactly representable as a Cedar decimal")
    return f"{whole}.{frac or '0'}"


def _domain(address: str) -> str:
    """What follows the last ``@``: ``r.endsWith("@d")`` is true exactly when this equals d."""
    _, at, domain = address.rpartition("@")
    return domain if at else ""


def _slices(text: str, tools: Iterable[str]) -> dict[str, cedarpy.PolicySet]:
    """Per tool, the policies without an ``action ==`` scope or with that tool's: a policy scoped
    to another action never applies, so a slice decides exactly as the whole set. It is what
    Proctor does by looking up the tool's plan, and what a Cedar deployment with many tools does
    (policy slicing); Cedar's authorizer itself evaluates every policy of the set it is given."""
    est: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))

    def applies(policy: dict[str, Any], tool: str) -> bool:
        scope = policy["action"]
        return bool(scope["op"] != "==" or scope["entity"]["id"] == tool)

    return {
        tool: cedarpy.PolicySet.from_json_str(
            json.dumps(
                {
                    "staticPolicies": {
                        pid: pol for pid, pol in est["staticPolicies"].items() if applies(pol, tool)
                    },
                    "templates": {},
                    "templateLinks": [],
                }
            )
        )
        for tool in tools
    }


def _entities(policy: CompiledPolicy) -> list[dict[str, object]]:
    uids = [("Agent", a) for a in (policy.agent, *OTHER_AGENTS)]
    uids += [("Env", e.value) for e in Environment]
    return [{"uid": {"type": t, "id": i}, "attrs": {}, "parents": []} for t, i in uids]
