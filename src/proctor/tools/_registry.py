"""Tools: typed Python functions, with input and output schemas derived from their signatures.

A registered tool must match its policy declaration: the same argument names, and for each
argument a Python type compatible with the declared type. A mismatch fails at registration,
not at the first call in production.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from proctor.errors import RegistrationError
from proctor.policy import ToolPlan

_JSON_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


@dataclass(frozen=True)
class Tool:
    """A callable the gate may execute, with the validators derived from its signature."""

    name: str
    fn: Callable[..., Any]
    description: str
    is_async: bool
    params_model: type[BaseModel]
    output: TypeAdapter[Any] | None  # None: the function declares no return type

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.params_model.model_json_schema()

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self.output.json_schema() if self.output is not None else None


def tool_from_function(fn: Callable[..., Any], name: str, description: str | None = None) -> Tool:
    """Build a ``Tool`` from a typed function. Every parameter needs a type annotation."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:
        raise RegistrationError(f"tool {name!r}: cannot resolve type hints: {exc}") from None
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise RegistrationError(
                f"tool {name!r}: parameter {pname!r} must be a plain keyword parameter"
            )
        if pname not in hints:
            raise RegistrationError(f"tool {name!r}: parameter {pname!r} needs a type annotation")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (hints[pname], default)
    model = create_model(
        f"Params_{name.replace('.', '_').replace('-', '_')}",
        __config__=ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=False),
        **fields,
    )
    ret = hints.get("return")
    output = TypeAdapter(ret) if ret is not None and ret is not type(None) else None
    return Tool(
        name=name,
        fn=fn,
        description=description or inspect.getdoc(fn) or "",
        is_async=inspect.iscoroutinefunction(fn),
        params_model=model,
        output=output,
    )


def check_against_policy(tool: Tool, plan: ToolPlan) -> None:
    """Raise ``RegistrationError`` if the function does not take exactly the declared args."""
    declared = plan.spec.args
    params = tool.params_model.model_fields
    missing = sorted(set(declared) - set(params))
    extra = sorted(set(params) - set(declared))
    problems = []
    if missing:
        problems.append(
            f"the policy declares argument(s) {', '.join(missing)} that the function does not take"
        )
    if extra:
        problems.append(
            f"the function takes argument(s) {', '.join(extra)} that the policy does not declare"
        )
    schema = tool.input_schema.get("properties", {})
    for arg, spec in declared.items():
        prop = schema.get(arg)
        if prop is None:
            continue
        found = {p.get("type") for p in prop.get("anyOf", [prop])} - {"null", None}
        want = _JSON_TYPES[spec.type]
        # a float parameter takes every integer; an int parameter does not take 1.5
        compatible = want in found or (want == "integer" and "number" in found) or not found
        if not compatible:
            problems.append(
                f"argument {arg!r} is {spec.type} in the policy but "
                f"{'/'.join(sorted(t for t in found if t))} in the function"
            )
    if problems:
        raise RegistrationError(
            f"tool {plan.name!r} does not match its policy: " + "; ".join(problems)
        )
