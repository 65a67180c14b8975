"""The policy of the AgentDojo replay: one generic default policy plus each suite's tool flags.

Every tool's arguments are declared from AgentDojo's own function schemas; its autonomy, flags,
output labels and argument roles come from ``_agentdojo_suites``. The flow rules are the
defaults of ``proctor.policy`` (nothing here is tuned per suite). Blanket flag holds are off:
a benchmark in which every payment waits for a human measures nothing, so the flow rules decide.
"""

from __future__ import annotations

from typing import Any

import yaml

from proctor.policy import CompiledPolicy, load_policy_text

AGENT = "agentdojo-assistant"

GENERIC: dict[str, Any] = {
    "version": 1,
    "agent": {
        "name": AGENT,
        "role": "svc-agentdojo",
        "owner": "bench@proctor.test",
        "description": "Generic default policy for replaying AgentDojo suites.",
    },
    "environments": {"production": {"max_autonomy": "execute"}},
    "defaults": {"approval": {"approvers": 1, "group": "owner"}},
    "flow": {},  # every flow rule at its default
}

_SCALARS = {"string", "integer", "number", "boolean", "object"}


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str):
        found: dict[str, Any] = defs.get(ref.rsplit("/", 1)[-1], {})
        return found
    return prop


def _arg(prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> dict[str, Any]:
    prop = _resolve(prop, defs)
    nullable = False
    if "anyOf" in prop:
        options = [_resolve(p, defs) for p in prop["anyOf"]]
        nullable = any(p.get("type") == "null" for p in options)
        prop = next((p for p in options if p.get("type") != "null"), {"type": "string"})
    typ = prop.get("type") or ("string" if "enum" in prop else "object")
    spec: dict[str, Any] = {"type": typ}
    if typ == "array":
        item = _resolve(prop.get("items", {}), defs)
        item_type = item.get("type") or ("string" if "enum" in item else "object")
        spec["items"] = item_type if item_type in _SCALARS else "object"
    if not required or nullable:
        spec["required"] = False
    return spec


def tool_args(schema: dict[str, Any]) -> dict[str, Any]:
    """Policy argument declarations from a function's JSON schema."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    return {
        name: _arg(prop, name in required, defs)
        for name, prop in schema.get("properties", {}).items()
    }


def suite_policy(
    suite: str,
    schemas: dict[str, dict[str, Any]],
    flags: dict[str, Any],
    flow: dict[str, Any] | None = None,
) -> str:
    """The YAML policy of one suite: the generic policy, plus one entry per tool."""
    tools: dict[str, Any] = {}
    for name, schema in schemas.items():
        tf = flags[name]  # a tool without flags is a bug in the suite table: fail loudly
        args = tool_args(schema)
        for arg, role in tf.get("roles", {}).items():
            args[arg]["role"] = role
        entry: dict[str, Any] = {
            "autonomy": tf["autonomy"],
            "flags": tf.get("flags", []),
            "approval": {"on_flags": False},
            "args": args,
        }
        if "output" in tf:
            entry["output"] = tf["output"]
        tools[name] = entry
    doc = {**GENERIC, "tools": tools, "flow": {**GENERIC["flow"], **(flow or {})}}
    doc["agent"] = {**GENERIC["agent"], "description": f"AgentDojo {suite} suite."}
    return yaml.safe_dump(doc, sort_keys=False)


def load_suite_policy(
    suite: str,
    schemas: dict[str, dict[str, Any]],
    flags: dict[str, Any],
    flow: dict[str, Any] | None = None,
) -> CompiledPolicy:
    """``flow`` overrides flow settings, for ablations only (the reported run passes none)."""
    return load_policy_text(suite_policy(suite, schemas, flags, flow), f"<agentdojo:{suite}>")
