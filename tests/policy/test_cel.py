"""CEL checks at load: what compiles, and which names the checker must catch or let through."""

from __future__ import annotations

import pytest

from proctor.policy._cel import CelCheckError, compile_expression

DECLARED = ("amount", "to", "note")

# (id, expression, argument names it reads) — benign inputs that must not be flagged.
ACCEPTED = [
    ("field", "args.amount > 100.0", ("amount",)),
    ("index-double-quoted", 'args["amount"] > 1.0', ("amount",)),
    ("index-single-quoted", "args['note'] == 'x'", ("note",)),
    ("spaces-around-dot", "args . amount > 1.0", ("amount",)),
    ("field-and-index-once", "args.amount > 1.0 || args['amount'] < 0.0", ("amount",)),
    ("macro-variable", 'args.to.all(r, r.endsWith("@acme.test"))', ("to",)),
    ("exists-macro", "args.to.exists(x, x == 'a')", ("to",)),
    ("has", "has(args.note)", ("note",)),
    ("name-inside-string", '"args.nope" == tool', ()),
    ("name-inside-raw-string", "r'args.nope' != principal", ()),
    ("name-inside-triple-string", '"""args.nope""" != tenant', ()),
    ("quote-escaped-in-string", r'"a\"args.nope" != env', ()),
    ("context-variables", 'env == "production" && agent == "bot" && tenant in ["a", "b"]', ()),
    ("constant", "true", ()),
]


@pytest.mark.parametrize(
    ("source", "reads"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_expression_compiles(source: str, reads: tuple[str, ...]) -> None:
    expr = compile_expression(source, DECLARED)
    assert expr.source == source
    assert expr.args == reads


# (id, expression, fragment of the error)
REJECTED = [
    ("syntax", "args.amount >", "CEL syntax error"),
    ("unbalanced", "(args.amount > 1.0", "CEL syntax error"),
    (
        "unknown-field",
        "args.amout > 1.0",
        "references unknown argument(s) amout; the tool declares amount, note, to",
    ),
    ("unknown-index", "args['x'] == 1", "references unknown argument(s) x"),
    ("unknown-index-double", 'args["x"] == 1', "references unknown argument(s) x"),
    ("unknown-in-has", "has(args.notes)", "references unknown argument(s) notes"),
    ("several-unknown", "args.a > 1 && args.b > 1 && args.a > 2", "unknown argument(s) a, b;"),
    (
        "unknown-variable",
        "user == 'x'",
        "unknown variable(s) user; expressions may use agent, args, env",
    ),
    ("unknown-variables-sorted", "zed == yak", "unknown variable(s) yak, zed"),
    ("dynamic-index-variable", "args[tool] == 1", "args may only be indexed with a literal name"),
    (
        "dynamic-index-concat",
        "args['am' + 'ount'] > 1.0",
        "args may only be indexed with a literal name",
    ),
    (
        "dynamic-index-parenthesized",
        "args[('amount')] > 1.0",
        "args may only be indexed with a literal name",
    ),
]


@pytest.mark.parametrize(
    ("source", "fragment"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_expression_is_rejected(source: str, fragment: str) -> None:
    with pytest.raises(CelCheckError) as info:
        compile_expression(source, DECLARED)
    assert fragment in str(info.value)


def test_tool_without_arguments_says_so() -> None:
    with pytest.raises(CelCheckError, match="the tool declares no arguments"):
        compile_expression("args.x == 1", ())
