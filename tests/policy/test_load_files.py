"""Loading files and directories, and the PolicySet that maps (agent, environment) to a file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from proctor.errors import PolicyConflictError, PolicyError, UnknownAgentError
from proctor.model import Environment, Verdict
from proctor.policy import PolicySet, evaluate, load_policies, load_policy

from ._texts import request


def policy_text(agent: str, *envs: str) -> str:
    grants = "".join(f"  {e}: {{max_autonomy: write}}\n" for e in envs)
    return (
        f"version: 1\nagent: {{name: {agent}, role: r, owner: o}}\nenvironments:\n{grants}"
        "tools:\n  ping: {autonomy: read}\n"
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_policy_records_file_and_digest(tmp_path: Path) -> None:
    text = policy_text("bot", "dev")
    path = write(tmp_path, "bot.yaml", text)
    policy = load_policy(path)
    assert policy.file == str(path)
    assert policy.digest == hashlib.sha256(text.encode()).hexdigest()
    assert policy.name == f"bot@{policy.digest[:12]}"


UNREADABLE = [
    ("missing-file", lambda d: d / "absent.yaml"),
    ("a-directory", lambda d: (d / "dir.yaml").mkdir() or d / "dir.yaml"),
    ("not-utf8", lambda d: (d / "bin.yaml").write_bytes(b"agent: \xff\xfe\n") and d / "bin.yaml"),
]


@pytest.mark.parametrize("make", [c[1] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_unreadable_file_is_a_policy_error_naming_it(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), None, "")
    assert problem.message.startswith("cannot read file: ")


def test_overlapping_environments_conflict_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a-bot.yaml", policy_text("bot", "dev", "staging"))
    second = write(tmp_path, "b-bot.yaml", policy_text("bot", "staging", "production"))
    with pytest.raises(PolicyConflictError) as info:
        load_policies(tmp_path)
    (problem,) = info.value.problems
    assert problem.file == str(second)
    assert problem.field == "environments"
    assert str(first) in problem.message
    assert "'bot'" in problem.message
    assert "in staging: overlapping environments" in problem.message
    assert isinstance(info.value, PolicyError)


def test_disjoint_environments_of_one_agent_load(tmp_path: Path) -> None:
    dev = write(tmp_path, "bot-dev.yaml", policy_text("bot", "dev"))
    prod = write(tmp_path, "bot-prod.yml", policy_text("bot", "staging", "production"))
    policies = load_policies(tmp_path)
    assert policies.get("bot", Environment.DEV).file == str(dev)
    assert policies.get("bot", Environment.STAGING).file == str(prod)
    assert policies.get("bot", Environment.PRODUCTION).file == str(prod)
    assert policies.agents == ["bot"]
    assert len(policies.policies) == 2


def test_same_environment_for_different_agents_loads(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", policy_text("alpha", "dev"))
    write(tmp_path, "b.yaml", policy_text("beta", "dev"))
    write(tmp_path, "notes.txt", "not a policy: ignored")
    policies = load_policies(tmp_path)
    assert policies.agents == ["alpha", "beta"]


def test_problems_of_every_file_are_reported_together(tmp_path: Path) -> None:
    bad_a = write(tmp_path, "a.yaml", policy_text("alpha", "dev").replace("read", "nope"))
    write(tmp_path, "b.yaml", policy_text("beta", "dev"))
    bad_c = write(tmp_path, "c.yaml", "")
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    assert [(p.file, p.line, p.field) for p in info.value.problems] == [
        (str(bad_a), 6, "tools.ping.autonomy"),
        (str(bad_c), 1, ""),
    ]
    assert not isinstance(info.value, PolicyConflictError)


def test_directory_without_policies_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no \*\.yaml policy files found"):
        load_policies(tmp_path)


def test_load_policies_accepts_a_single_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bot.yaml", policy_text("bot", "dev"))
    assert load_policies(path).agents == ["bot"]


def test_require_unknown_agent_names_it_and_the_loaded_agents(tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", policy_text("bot", "dev"))
    policies = load_policies(tmp_path)
    with pytest.raises(UnknownAgentError, match=r"no policy declares agent 'rogue'; loaded: bot"):
        policies.require("rogue", Environment.DEV)
    assert policies.get("rogue", Environment.DEV) is None


def test_require_on_an_empty_set_says_none_loaded() -> None:
    with pytest.raises(UnknownAgentError, match="loaded: none"):
        PolicySet.of().require("bot", Environment.DEV)


def test_get_falls_back_to_the_agents_other_policy_whose_boundary_denies(tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", policy_text("bot", "dev"))
    policies = load_policies(tmp_path)
    policy = policies.require("bot", Environment.PRODUCTION)
    assert policy is policies.get("bot", Environment.DEV)
    decision = evaluate(policy, request("ping", env=Environment.PRODUCTION))
    assert decision.verdict is Verdict.DENY
    assert decision.rule_ids == ("boundary.environment",)
    assert decision.reasons == ("agent 'bot' may not run in production (granted: dev)",)
