"""CEL expressions: compiled once at load, checked against the tool's declared arguments.

The ``cel`` package reports which variables an expression uses (``args``) but not which
fields of them; we find ``args.x`` and ``args["x"]`` ourselves, on the source with its string
literals masked, so that a typo in an argument name fails at load instead of denying every
call at run time.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import cel

CONTEXT_VARIABLES = frozenset({"args", "env", "agent", "tool", "principal", "tenant"})

_STRING = re.compile(
    r"""[rRbB]{0,2}('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.DOTALL,
)
_FIELD = re.compile(r"\bargs\s*\.\s*([A-Za-z_]\w*)")
_INDEX = re.compile(r"\bargs\s*\[\s*__S(\d+)__\s*\]")
_DYNAMIC_INDEX = re.compile(r"\bargs\s*\[(?!\s*__S\d+__\s*\])")
_WHOLE_ARGS = re.compile(r"\bargs\b(?!\s*[.\[])")
_MACRO_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class CelCheckError(ValueError):
    """An expression that does not compile or refers to something that does not exist."""


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    program: cel.Program
    args: tuple[str, ...]  # argument names the expression reads, in order of appearance
    variables: frozenset[str] = frozenset()  # context variables it reads (args, env, ...)
    whole_args: bool = False  # it uses `args` other than by field (size(args), macros over args)


def _unquote(literal: str) -> str:
    body = literal.lstrip("rRbB")
    q = 3 if body[:3] in ("'''", '"""') else 1
    return body[q:-q]


def compile_expression(source: str, declared_args: Collection[str]) -> Expression:
    """Compile ``source``; raise ``CelCheckError`` naming what is wrong."""
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        raise CelCheckError(f"CEL syntax error: {exc}") from None

    literals: list[str] = []

    def mask(m: re.Match[str]) -> str:
        literals.append(_unquote(m.group(0)))
        return f"__S{len(literals) - 1}__"

    masked = _STRING.sub(mask, source)
    bound = set(_MACRO_VAR.findall(masked))
    unknown_vars = sorted(set(program.variables()) - CONTEXT_VARIABLES - bound)
    if unknown_vars:
        raise CelCheckError(
            f"unknown variable(s) {', '.join(unknown_vars)}; "
            f"expressions may use {', '.join(sorted(CONTEXT_VARIABLES))}"
        )
    if _DYNAMIC_INDEX.search(masked):
        raise CelCheckError(
            "args may only be indexed with a literal name (args.amount or args['amount'])"
        )
    used: list[str] = []
    for m in _FIELD.finditer(masked):
        used.append(m.group(1))
    for m in _INDEX.finditer(masked):
        used.append(literals[int(m.group(1))])
    unknown = [a for a in dict.fromkeys(used) if a not in declared_args]
    if unknown:
        declared = ", ".join(sorted(declared_args)) or "no arguments"
        raise CelCheckError(
            f"references unknown argument(s) {', '.join(unknown)}; the tool declares {declared}"
        )
    return Expression(
        source,
        program,
        tuple(dict.fromkeys(used)),
        frozenset(program.variables()) & CONTEXT_VARIABLES,
        _WHOLE_ARGS.search(masked) is not None,
    )
