"""CEL expressions: compiled once at load, checked against the tool's declared arguments.

The ``cel`` package reports which variables an expression uses (``args``) but not which
fields of them; we find ``args.x`` and ``args["x"]`` ourselves, on the source with its string
literals masked, so that a typo in an argument name fails at load instead of denying every
call at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cel

if TYPE_CHECKING:
    from proctor.policy._schema import ArgSpec

CONTEXT_VARIABLES = frozenset({"args", "env", "agent", "tool", "principal", "tenant"})

_STRING = re.compile(
    r"""[rRbB]{0,2}('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
    re.DOTALL,
)
_FIELD = re.compile(r"\bargs\s*\.\s*([A-Za-z_]\w*)")
_INDEX = re.compile(r"\bargs\s*\[\s*__S(\d+)__\s*\]")
_DYNAMIC_INDEX = re.compile(r"\bargs\s*\[(?!\s*__S\d+__\s*\])")
_WHOLE_ARGS = re.compile(r"\bargs\b(?!\s*[.\[])")
_SIZE_FN = re.compile(r"(?<![.\w])size\s*\(\s*args\s*\.\s*([A-Za-z_]\w*)\s*\)")
_SIZE_METHOD = re.compile(r"\bargs\s*\.\s*([A-Za-z_]\w*)\s*\.\s*size\s*\(\s*\)")
_PLACEHOLDER = re.compile(r"__S(\d+)__")
_HAS = re.compile(r"(?<![.\w])has\s*\(\s*args\s*\.\s*([A-Za-z_]\w*)\s*\)")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_FLAT_PREFIXES = ("_arg_", "_has_", "_size_")
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
    value_args: tuple[str, ...] = ()  # arguments whose values CEL needs (not only their size)
    size_args: tuple[str, ...] = ()  # flat: lists and maps it only measures (``_size_x``)
    has_args: tuple[str, ...] = ()  # flat: arguments it tests with has() (``_has_x``)
    flat: bool = False  # rewritten over top-level ``_arg_x`` variables; else it reads ``args``


def _unquote(literal: str) -> str:
    body = literal.lstrip("rRbB")
    q = 3 if body[:3] in ("'''", '"""') else 1
    return body[q:-q]


def compile_for_args(source: str, args: Mapping[str, ArgSpec]) -> Expression:
    """``compile_expression`` over a tool's declared arguments, whose arrays and objects are
    measurable (``size()``). Raises ``CelCheckError``."""
    measurable = [n for n, a in args.items() if a.type in ("array", "object")]
    return compile_expression(source, args.keys(), measurable)


def compile_expression(
    source: str, declared_args: Collection[str], measurable: Collection[str] = ()
) -> Expression:
    """Compile ``source``; raise ``CelCheckError`` naming what is wrong. ``measurable`` names
    the list and map arguments whose ``size()`` may be computed outside CEL."""
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        raise CelCheckError(f"CEL syntax error: {exc}") from None

    literals: list[str] = []
    raw: list[str] = []

    def mask(m: re.Match[str]) -> str:
        literals.append(_unquote(m.group(0)))
        raw.append(m.group(0))
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
    whole_args = _WHOLE_ARGS.search(masked) is not None
    variables = frozenset(program.variables()) & CONTEXT_VARIABLES
    flat = None if whole_args or _reserved(bound) else _flatten(masked, literals, measurable)
    if flat is not None:
        text, value_args, has_args, size_args = flat
        try:
            fast = cel.compile(_PLACEHOLDER.sub(lambda m: raw[int(m.group(1))], text))
        except (ValueError, RuntimeError):  # keep the original program
            flat = None
        else:
            return Expression(
                source,
                fast,
                tuple(dict.fromkeys(used)),
                variables - {"args"},
                False,
                value_args,
                size_args,
                has_args,
                flat=True,
            )
    return Expression(
        source, program, tuple(dict.fromkeys(used)), variables, whole_args, tuple(used)
    )


def _reserved(bound: set[str]) -> bool:
    """A macro variable that could collide with a flattened argument's name."""
    return any(b.startswith(_FLAT_PREFIXES) for b in bound)


def _flatten(
    masked: str, literals: list[str], measurable: Collection[str]
) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    """Rewrite ``args.x`` as the top-level variable ``_arg_x``, ``has(args.x)`` as ``_has_x``
    and ``size(args.x)`` of a list or map as ``_size_x``, computed in Python.

    Handing CEL a map of arguments costs about twice as much as handing it the same values as
    top-level variables, and converting a 500-id list costs far more than the rule that only
    counts it. The rewritten expression gives the same result for every input (an absent
    argument is an undefined variable instead of a missing key: both are errors, absorbed alike
    by ``&&`` and ``||``); a differential test checks this against the original. Strings keep
    CEL's own size(), which this library computes in UTF-8 bytes. None: cannot flatten.
    """
    value_args: list[str] = []
    has_args: list[str] = []
    size_args: list[str] = []

    def has(m: re.Match[str]) -> str:
        has_args.append(m.group(1))
        return f"_has_{m.group(1)}"

    def sized(m: re.Match[str]) -> str:
        if m.group(1) not in measurable:
            return m.group(0)
        size_args.append(m.group(1))
        return f"_size_{m.group(1)}"

    def field(m: re.Match[str]) -> str:
        value_args.append(m.group(1))
        return f"_arg_{m.group(1)}"

    def index(m: re.Match[str]) -> str:
        name = literals[int(m.group(1))]
        value_args.append(name)
        return f"_arg_{name}"

    if any(not _IDENT.fullmatch(literals[int(m.group(1))]) for m in _INDEX.finditer(masked)):
        return None
    text = _HAS.sub(has, masked)
    text = _SIZE_METHOD.sub(sized, _SIZE_FN.sub(sized, text))
    text = _INDEX.sub(index, _FIELD.sub(field, text))
    if re.search(r"\bargs\b", text):
        return None
    return (
        text,
        tuple(dict.fromkeys(value_args)),
        tuple(dict.fromkeys(has_args)),
        tuple(dict.fromkeys(size_args)),
    )


def execute(
    expr: Expression, args: Mapping[str, object], context: Callable[[str], object]
) -> object:
    """Run ``expr`` on a call's (validated) ``args``; ``context(name)`` gives the value of each
    other context variable it reads (``env``, ``agent``, ``tool``, ``principal``, ``tenant``).
    Raises what CEL raises (a missing argument, a type error)."""
    out: dict[str, object] = {}
    for name in expr.variables:
        out[name] = dict(args) if name == "args" else context(name)
    if expr.flat:
        bind_flat(out, args, expr.value_args, expr.has_args, expr.size_args)
    return expr.program.execute(cel.Context(variables=out))


def bind_flat(
    out: dict[str, object],
    args: Mapping[str, object],
    value_args: Iterable[str],
    has_args: Iterable[str],
    size_args: Iterable[str],
) -> None:
    """Add to ``out`` the variables a flattened expression reads (see ``_flatten``): an absent
    argument stays undefined, an error like a missing key."""
    for k in value_args:
        if k in args:
            out[f"_arg_{k}"] = args[k]
    for k in has_args:
        out[f"_has_{k}"] = k in args
    for k in size_args:
        if isinstance(v := args.get(k), list | dict | tuple):
            out[f"_size_{k}"] = len(v)
