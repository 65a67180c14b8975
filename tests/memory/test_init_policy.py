"""The public names of ``proctor.memory``, and the policy's ``memory:`` section: defaults, and
errors that name the file, the line and the field."""

from __future__ import annotations

import pytest

import proctor.memory
from proctor.errors import PolicyError
from proctor.policy import load_policy_text


def test_memory_public_names():
    assert sorted(proctor.memory.__all__) == [
        "ContextItem",
        "Embedder",
        "ErasureReport",
        "Fingerprints",
        "HashingEmbedder",
        "LeakFilter",
        "LeakGuard",
        "Memory",
        "MemoryContext",
        "MemoryItem",
        "MemoryRules",
        "MemoryStore",
        "OnnxMiniLMEmbedder",
        "Origin",
        "Scope",
        "SearchMode",
        "Status",
        "assemble",
        "deployment_digest",
        "embedder_from_env",
        "open_memory",
        "remember",
        "require_scope",
        "terms_of",
    ]
    for name in proctor.memory.__all__:
        assert hasattr(proctor.memory, name)


HEAD = """version: 1
agent: {name: bot, role: svc, owner: team@example.com}
environments: {production: {max_autonomy: write}}
memory:
"""


def test_a_policy_without_a_memory_section_gets_the_safe_defaults():
    spec = load_policy_text(HEAD.removesuffix("memory:\n"), "bot.yaml").spec.memory
    assert spec.untrusted == "review"
    assert spec.ttl == 90 * 86400
    assert spec.review_kinds == [
        "bank_account",
        "address",
        "email",
        "entitlement",
        "standing_instruction",
    ]


def test_durations_parse():
    spec = load_policy_text(
        HEAD + "  ttl: 2w\n  kinds:\n    note: {ttl: 12h}\n    tmp: {ttl: 90}\n", "bot.yaml"
    ).spec.memory
    assert spec.ttl == 14 * 86400
    assert spec.kinds["note"].ttl == 12 * 3600
    assert spec.kinds["tmp"].ttl == 90


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        ("  ttl: 30 days\n", 5, "memory.ttl", "invalid duration '30 days'"),
        ("  ttl: 0s\n", 5, "memory.ttl", "greater than or equal to 1"),
        ("  untrusted: allow\n", 5, "memory.untrusted", "'fence' or 'review'"),
        (
            "  kinds:\n    Bank-Account: {ttl: 1d}\n",
            6,
            "memory.kinds.Bank-Account.[key]",
            "should match pattern",
        ),
        (
            "  kinds:\n    note: {ttl: 1d, trust: yes}\n",
            6,
            "memory.kinds.note.trust",
            "unknown field 'trust'",
        ),
        ("  subject: customer\n", 5, "memory.subject", "is not a session value"),
        ("  workspace: session.workspace\n", 5, "memory.workspace", "is not a session value"),
        (
            "  scopes:\n    - {tenant: acme, ttl: forever}\n",
            6,
            "memory.scopes.0.ttl",
            "invalid duration",
        ),
        ("  context_limit: 0\n", 5, "memory.context_limit", "greater than or equal to 1"),
    ],
)
def test_memory_section_errors_name_file_line_and_field(body, line, field, message):
    with pytest.raises(PolicyError) as err:
        load_policy_text(HEAD + body, "bot.yaml")
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("bot.yaml", line, field)
    assert message in problem.message
    assert str(problem).startswith(f"bot.yaml:{line}: {field}:")
