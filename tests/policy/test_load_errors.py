"""The loader names file, line, field and what was expected, for every problem in a file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proctor.errors import PolicyError, PolicyProblem
from proctor.model import ApprovalRequirement, Environment
from proctor.policy import CompiledPolicy, load_policy_text

from ._texts import HEADER, doc

FILE = "policies/bot.yaml"


def problems_of(text: str) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, FILE)
    assert all(p.file == FILE for p in info.value.problems)
    return info.value.problems


# (id, policy text, [(line, field, fragment of the message)]) — one problem per case.
SINGLE = [
    (
        "unknown-tool-flag",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                flags: [moves_money, sparkly]
            """
        ),
        (11, "tools.refund.flags.1", "'moves_money' or 'external' (got 'sparkly')"),
    ),
    (
        "cel-syntax-error",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.big
                    when: "args.amount >"
                    verdict: deny
            """
        ),
        (14, "tools.refund.constraints.0.when", "CEL syntax error"),
    ),
    (
        "unknown-argument-field-typo",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.big
                    when: args.amout > 100.0
                    verdict: hold
            """
        ),
        (
            14,
            "tools.refund.constraints.0.when",
            "references unknown argument(s) amout; the tool declares amount",
        ),
    ),
    (
        "unknown-argument-index-form",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.x
                    when: "args['x'] == 1"
                    verdict: deny
            """
        ),
        (14, "tools.refund.constraints.0.when", "references unknown argument(s) x"),
    ),
    (
        "unknown-argument-on-tool-without-args",
        doc(
            """\
            tools:
              ping:
                autonomy: read
                constraints:
                  - {id: ping.x, when: "has(args.host)", verdict: deny}
            """
        ),
        (12, "tools.ping.constraints.0.when", "the tool declares no arguments"),
    ),
    (
        "unknown-cel-variable",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.user
                    when: user == "mallory"
                    verdict: deny
            """
        ),
        (
            14,
            "tools.refund.constraints.0.when",
            "unknown variable(s) user; expressions may use agent, args, env, principal",
        ),
    ),
    (
        "dynamic-index",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.dyn
                    when: args[tool] == 1
                    verdict: deny
            """
        ),
        (
            14,
            "tools.refund.constraints.0.when",
            "args may only be indexed with a literal name",
        ),
    ),
    (
        "duplicate-tool",
        doc(
            """\
            tools:
              refund:
                autonomy: read
              refund:
                autonomy: write
            """
        ),
        (11, "tools.refund", "duplicate key 'refund' (first defined on line 9)"),
    ),
    (
        "duplicate-environment",
        HEADER + "  dev: {max_autonomy: read}\n",
        (8, "environments.dev", "duplicate key 'dev' (first defined on line 7)"),
    ),
    (
        "duplicate-top-level-key",
        HEADER + "environments:\n  staging: {max_autonomy: read}\n",
        (8, "environments", "duplicate key 'environments' (first defined on line 6)"),
    ),
    (
        "duplicate-rule-id",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - {id: refund.big, when: args.amount > 100.0, verdict: hold}
              wire:
                autonomy: write
                args: {amount: number}
                constraints:
                  - {id: refund.big, when: args.amount > 100.0, verdict: deny}
            """
        ),
        (
            18,
            "tools.wire.constraints.0.id",
            "duplicate rule id 'refund.big' (first used on line 13)",
        ),
    ),
    (
        "unknown-field",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                colour: blue
            """
        ),
        (11, "tools.refund.colour", "unknown field 'colour'; not part of the policy schema"),
    ),
    (
        "unknown-top-level-field",
        HEADER + "tool: {}\n",
        (8, "tool", "unknown field 'tool'"),
    ),
    (
        "missing-autonomy",
        doc(
            """\
            tools:
              refund:
                description: no autonomy here
            """
        ),
        (9, "tools.refund.autonomy", "required field is missing"),
    ),
    (
        "missing-agent-role",
        "version: 1\nagent:\n  name: bot\n  owner: o\nenvironments:\n  dev: {max_autonomy: read}\n",
        (2, "agent.role", "required field is missing"),
    ),
    (
        "missing-constraint-verdict",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                constraints:
                  - id: refund.x
                    when: "true"
            """
        ),
        (12, "tools.refund.constraints.0.verdict", "required field is missing"),
    ),
    (
        "bad-tool-autonomy",
        doc(
            """\
            tools:
              refund:
                autonomy: superuser
            """
        ),
        (
            10,
            "tools.refund.autonomy",
            "unknown autonomy level 'superuser'; expected one of read, draft, write, execute",
        ),
    ),
    (
        "bad-granted-autonomy",
        HEADER.replace("max_autonomy: write", "max_autonomy: godmode"),
        (7, "environments.dev.max_autonomy", "unknown autonomy level 'godmode'"),
    ),
    (
        "unknown-environment",
        HEADER.replace("  dev:", "  qa:"),
        (7, "environments.qa.[key]", "'dev', 'staging' or 'production' (got 'qa')"),
    ),
    (
        "bad-rate-unit",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                rate_limit: 20/fortnight
            """
        ),
        (
            11,
            "tools.refund.rate_limit.per_session",
            "invalid rate '20/fortnight'; expected COUNT/UNIT such as '20/hour'",
        ),
    ),
    (
        "bad-session-rate",
        doc(
            """\
            defaults:
              rate_limits:
                per_agent: lots/day
            """
        ),
        (10, "defaults.rate_limits.per_agent", "invalid rate 'lots/day'"),
    ),
    (
        "zero-rate",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                rate_limit: {per_session: 0/hour}
            """
        ),
        (11, "tools.refund.rate_limit.per_session.count", "greater than or equal to 1 (got 0)"),
    ),
    (
        "invalid-regex",
        doc(
            """\
            tools:
              lookup:
                autonomy: read
                args:
                  id: {type: string, pattern: "C(0"}
            """
        ),
        (12, "tools.lookup.args.id.pattern", "invalid regular expression: missing )"),
    ),
    (
        "unknown-arg-type",
        doc(
            """\
            tools:
              lookup:
                autonomy: read
                args:
                  id: str
            """
        ),
        (12, "tools.lookup.args.id.type", "'object' (got 'str')"),
    ),
    (
        "bad-tool-name",
        doc(
            """\
            tools:
              Lookup:
                autonomy: read
            """
        ),
        (9, "tools.Lookup.[key]", "String should match pattern"),
    ),
    (
        "too-many-approvers",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                approval: {approvers: 9}
            """
        ),
        (11, "tools.refund.approval.approvers", "less than or equal to 5 (got 9)"),
    ),
    (
        "unsupported-version",
        HEADER.replace("version: 1", "version: 2"),
        (1, "version", "Input should be 1 (got 2)"),
    ),
    (
        "tool-environment-not-granted",
        doc(
            """\
            tools:
              db.migrate:
                autonomy: write
                environments: [production]
            """
        ),
        (
            11,
            "tools.db.migrate.environments",
            "environment 'production' is not granted to the agent; the policy grants dev",
        ),
    ),
    (
        "approvers-on-deny",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                args: {amount: number}
                constraints:
                  - id: refund.big
                    when: args.amount > 1000.0
                    verdict: deny
                    approvers: 2
            """
        ),
        (13, "tools.refund.constraints.0", "approvers and group only apply to verdict 'hold'"),
    ),
    (
        "group-on-allow",
        doc(
            """\
            tools:
              refund:
                autonomy: write
                constraints:
                  - {id: refund.ok, when: "true", verdict: allow, group: finance}
            """
        ),
        (12, "tools.refund.constraints.0", "approvers and group only apply to verdict 'hold'"),
    ),
    (
        "items-on-non-array",
        doc(
            """\
            tools:
              lookup:
                autonomy: read
                args:
                  id: {type: string, items: string}
            """
        ),
        (12, "tools.lookup.args.id.items", "'items' is only valid for type array"),
    ),
    (
        "minimum-on-string",
        doc(
            """\
            tools:
              lookup:
                autonomy: read
                args:
                  id: {type: string, minimum: 3}
            """
        ),
        (12, "tools.lookup.args.id", "minimum/maximum need type integer or number"),
    ),
    (
        "yaml-syntax-error",
        doc(
            """\
            tools:
              lookup:
                autonomy: read
               args: {}
            """
        ),
        (11, "", "YAML syntax error"),
    ),
    (
        "yaml-unclosed-flow-mapping",
        HEADER + "tools: {lookup: {autonomy: read}\nother: 1\n",
        (9, "", "YAML syntax error"),
    ),
    ("empty-file", "", (1, "", "the file is empty; expected a policy")),
    ("only-a-comment", "# nothing here\n", (1, "", "the file is empty; expected a policy")),
    ("top-level-list", "- 1\n- 2\n", (1, "", "expected a mapping at the top level")),
    (
        "no-environments",
        "version: 1\nagent: {name: bot, role: r, owner: o}\nenvironments: {}\n",
        (3, "environments", "at least 1 item"),
    ),
    (
        "recursive-alias",
        HEADER + "tools:\n  a: &loop\n    - *loop\n",
        (9, "tools.a.0", "recursive alias: a value may not contain itself"),
    ),
    (
        "nested-too-deeply",
        HEADER + "tools: " + "[" * 5000 + "]" * 5000 + "\n",
        (None, "", "nested too deeply"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SINGLE], ids=[c[0] for c in SINGLE])
def test_one_problem_is_located(text: str, expected: tuple[int | None, str, str]) -> None:
    (problem,) = problems_of(text)
    line, field, fragment = expected
    assert (problem.line, problem.field) == (line, field)
    assert fragment in problem.message


def test_problem_str_reads_file_line_field_message() -> None:
    (problem,) = problems_of(doc("tools:\n  refund:\n    autonomy: superuser\n"))
    assert str(problem).startswith(f"{FILE}:10: tools.refund.autonomy: unknown autonomy level")


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(doc("tools:\n  a: {autonomy: x}\n  b: {autonomy: y}\n"), FILE)
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]
    assert len(info.value.problems) == 2


# Several problems in one file: each phase (YAML, schema, semantics) reports all of its own.
MANY = [
    (
        "yaml-duplicates",
        doc(
            """\
            tools:
              a: {autonomy: read}
              b:
                autonomy: read
                autonomy: write
              a: {autonomy: write}
            """
        ),
        [
            (12, "tools.b.autonomy", "duplicate key 'autonomy' (first defined on line 11)"),
            (13, "tools.a", "duplicate key 'a' (first defined on line 9)"),
        ],
    ),
    (
        "schema",
        doc(
            """\
            tools:
              a:
                autonomy: read
                colour: blue
                rate_limit: 20/fortnight
                args:
                  x: {type: string, pattern: "a(b"}
              b:
                autonomy: superuser
              c:
                flags: []
            """
        ),
        [
            (11, "tools.a.colour", "unknown field 'colour'"),
            (12, "tools.a.rate_limit.per_session", "invalid rate '20/fortnight'"),
            (14, "tools.a.args.x.pattern", "invalid regular expression"),
            (16, "tools.b.autonomy", "unknown autonomy level 'superuser'"),
            (17, "tools.c.autonomy", "required field is missing"),
        ],
    ),
    (
        "semantics-and-cel",
        doc(
            """\
            tools:
              a:
                autonomy: read
                environments: [staging]
                args:
                  n: {type: integer, items: string}
                constraints:
                  - {id: a.typo, when: args.m > 1, verdict: hold}
                  - {id: a.syntax, when: "args.n >", verdict: hold}
                  - {id: a.deny, when: args.n > 9, verdict: deny, approvers: 2}
                  - {id: a.typo, when: args.n > 2, verdict: hold}
            """
        ),
        [
            (11, "tools.a.environments", "environment 'staging' is not granted"),
            (13, "tools.a.args.n.items", "'items' is only valid for type array"),
            (15, "tools.a.constraints.0.when", "unknown argument(s) m"),
            (16, "tools.a.constraints.1.when", "CEL syntax error"),
            (17, "tools.a.constraints.2", "approvers and group only apply to verdict 'hold'"),
            (18, "tools.a.constraints.3.id", "duplicate rule id 'a.typo' (first used on line 15)"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in MANY], ids=[c[0] for c in MANY])
def test_every_problem_in_a_phase_is_reported_in_line_order(
    text: str, expected: list[tuple[int, str, str]]
) -> None:
    problems = problems_of(text)
    assert [(p.line, p.field) for p in problems] == [(line, field) for line, field, _ in expected]
    for problem, (_, _, fragment) in zip(problems, expected, strict=True):
        assert fragment in problem.message


# Inputs the loader must accept, the benign counterparts of the tables above, and what they mean.
VALID = [
    ("header-only", HEADER, lambda p: p.tools == {}),
    (
        "shorthand-arg-and-rate",
        doc(
            """\
            tools:
              a:
                autonomy: read
                rate_limit: 5/10 minutes
                args: {x: string}
            """
        ),
        lambda p: (
            str(p.tools["a"].rate_rules[0].rate) == "5/10 minutes"
            and p.tools["a"].rate_rules[0].rate.seconds == 600
            and p.tools["a"].spec.args["x"].type == "string"
        ),
    ),
    (
        "autonomy-any-case",
        HEADER.replace("write", " Execute"),
        lambda p: str(p.grant(Environment.DEV)) == "execute",
    ),
    (
        "items-on-array",
        doc(
            """\
            tools:
              a:
                autonomy: read
                args:
                  xs: {type: array, items: integer}
            """
        ),
        lambda p: p.tools["a"].spec.args["xs"].items == "integer",
    ),
    (
        "hold-with-approvers",
        doc(
            """\
            tools:
              a:
                autonomy: read
                constraints:
                  - {id: a.h, when: "true", verdict: hold, approvers: 3, group: g}
            """
        ),
        lambda p: p.tools["a"].constraints[0].approval == ApprovalRequirement(3, ("g",)),
    ),
    (
        "anchor-reused",
        doc(
            """\
            tools:
              a: &t {autonomy: read}
              b: *t
            """
        ),
        lambda p: sorted(p.tools) == ["a", "b"],
    ),
    (
        "tool-env-granted",
        doc(
            """\
            tools:
              a: {autonomy: read, environments: [dev]}
            """
        ),
        lambda p: p.tools["a"].spec.environments == [Environment.DEV],
    ),
]


@pytest.mark.parametrize(("text", "check"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_policy_loads(text: str, check: Callable[[CompiledPolicy], bool]) -> None:
    policy = load_policy_text(text, FILE)
    assert (policy.file, policy.agent) == (FILE, "bot")
    assert check(policy)
