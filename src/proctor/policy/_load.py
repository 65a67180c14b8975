"""Load policy files: YAML → Pydantic → semantic checks → compiled plans, errors with file:line."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from proctor.errors import PolicyConflictError, PolicyError, PolicyProblem, UnknownAgentError
from proctor.model import ApprovalRequirement, Environment, Verdict
from proctor.policy._budget import compile_budgets
from proctor.policy._cel import CelCheckError, Expression, compile_for_args
from proctor.policy._compiled import (
    CompiledConstraint,
    CompiledPolicy,
    ToolPlan,
    compile_tool_plan,
    session_rate_rules,
)
from proctor.policy._data_schema import data_problems
from proctor.policy._monitor_schema import monitoring_problems
from proctor.policy._schema import PolicySpec
from proctor.policy._yaml import Located, load_located

_VERDICTS = {"allow": Verdict.ALLOW, "hold": Verdict.HOLD, "deny": Verdict.DENY}


def _describe_input(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_problems(exc: ValidationError, located: Located) -> list[PolicyProblem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = f"unknown field {str(loc[-1])!r}; not part of the policy schema"
        elif not isinstance(err.get("input"), dict | list):
            msg = f"{msg} (got {_describe_input(err.get('input'))})"
        problems.append(PolicyProblem(located.file, located.line_of(loc), field, msg))
    return sorted(problems, key=lambda p: (p.line or 0, p.field))


def _compile(spec: PolicySpec, located: Located, digest: str) -> CompiledPolicy:
    problems: list[PolicyProblem] = []

    def problem(path: tuple[str | int, ...], message: str) -> None:
        field = ".".join(str(p) for p in path)
        problems.append(PolicyProblem(located.file, located.line_of(path), field, message))

    seen_ids: dict[str, tuple[str | int, ...]] = {}
    plans: dict[str, ToolPlan] = {}
    default_group = spec.defaults.approval.group or spec.agent.owner
    for tool_name, tool in spec.tools.items():
        base: tuple[str | int, ...] = ("tools", tool_name)
        for env in tool.environments or ():
            if env not in spec.environments:
                problem(
                    (*base, "environments"),
                    f"environment {env.value!r} is not granted to the agent; "
                    f"the policy grants {', '.join(e.value for e in spec.environments)}",
                )
        for arg_name, arg in tool.args.items():
            if arg.items is not None and arg.type != "array":
                problem((*base, "args", arg_name, "items"), "'items' is only valid for type array")
            numeric = arg.type in ("integer", "number")
            if (arg.minimum is not None or arg.maximum is not None) and not numeric:
                problem((*base, "args", arg_name), "minimum/maximum need type integer or number")
        compiled: list[CompiledConstraint] = []
        for i, c in enumerate(tool.constraints):
            path = (*base, "constraints", i)
            if c.id in seen_ids:
                first = located.line_of(seen_ids[c.id])
                problem((*path, "id"), f"duplicate rule id {c.id!r} (first used on line {first})")
                continue
            seen_ids[c.id] = (*path, "id")
            if c.verdict != "hold" and (c.approvers is not None or c.group is not None):
                problem(path, "approvers and group only apply to verdict 'hold'")
            try:
                expr = compile_for_args(c.when, tool.args)
            except CelCheckError as exc:
                problem((*path, "when"), str(exc))
                continue
            verdict = _VERDICTS[c.verdict]
            approval = None
            if verdict is Verdict.HOLD:
                approvers = c.approvers or (
                    tool.approval.approvers if tool.approval else spec.defaults.approval.approvers
                )
                group = c.group or (tool.approval.group if tool.approval else None) or default_group
                approval = ApprovalRequirement(approvers, (group,))
            reason = c.reason or f"constraint {c.id} matched: {c.when}"
            compiled.append(
                CompiledConstraint(c.id, expr, verdict, reason, approval, verdict is Verdict.ALLOW)
            )
        try:
            plans[tool_name] = compile_tool_plan(spec, tool_name, tool, tuple(compiled))
        except Exception as exc:  # a schema Pydantic cannot build; report, do not crash
            problem(base, f"cannot build argument schema: {exc}")
    for path, message in data_problems(spec.data, spec.credentials, set(spec.tools)):
        problem(path, message)
    for path, message in monitoring_problems(spec.monitoring, set(spec.tools)):
        problem(path, message)
    for tool_name, tool in spec.tools.items():  # an HTTP tool's credential is one of its secrets
        cred = tool.http.credential if tool.http is not None else None
        granted = spec.credentials.tools.get(tool_name) if spec.credentials else None
        if cred is not None and (granted is None or cred not in granted.secrets):
            problem(
                ("tools", tool_name, "http", "credential"),
                f"{cred!r} is not a secret of this tool; declare it under "
                f"credentials.tools.{tool_name}.secrets",
            )
    budgets, budget_problems = compile_budgets(spec)
    for path, message in budget_problems:
        problem(path, message)
    values: dict[str, Expression] | None = None
    if spec.monitoring is not None and spec.monitoring.value is not None:
        values = {}
        for tool_name, source in spec.monitoring.value.items():
            declared = spec.tools.get(tool_name)
            if declared is None:  # monitoring_problems reported it
                continue
            try:
                values[tool_name] = compile_for_args(source, declared.args)
            except CelCheckError as exc:
                problem(("monitoring", "value", tool_name), str(exc))
    if problems:
        raise PolicyError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    return CompiledPolicy(
        spec, located.file, digest, plans, session_rate_rules(spec), budgets, values
    )


def load_policy_text(text: str, file: str = "<policy>") -> CompiledPolicy:
    """Load and compile one policy from YAML text. Raises ``PolicyError`` with file:line."""
    located = load_located(text, file)
    if not isinstance(located.data, dict):
        raise PolicyError([PolicyProblem(file, 1, "", "expected a mapping at the top level")])
    try:
        spec = PolicySpec.model_validate(located.data)
    except ValidationError as exc:
        raise PolicyError(_schema_problems(exc, located)) from None
    return _compile(spec, located, hashlib.sha256(text.encode()).hexdigest())


def load_policy(path: str | Path) -> CompiledPolicy:
    """Load and compile one policy file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyProblem(str(p), None, "", f"cannot read file: {exc}")]) from None
    return load_policy_text(text, str(p))


@dataclass(frozen=True)
class PolicySet:
    """Every policy of a deployment. One agent may have several files (say, one for dev and one
    for production), but no two files may govern the same agent in the same environment."""

    by_key: Mapping[tuple[str, Environment], CompiledPolicy]

    @staticmethod
    def of(*policies: CompiledPolicy) -> PolicySet:
        by_key: dict[tuple[str, Environment], CompiledPolicy] = {}
        problems: list[PolicyProblem] = []
        for pol in policies:
            clash = [e for e in pol.spec.environments if (pol.agent, e) in by_key]
            if clash:
                other = by_key[(pol.agent, clash[0])]
                problems.append(
                    PolicyProblem(
                        pol.file,
                        None,
                        "environments",
                        f"agent {pol.agent!r} is also governed by {other.file} in "
                        f"{', '.join(e.value for e in clash)}: overlapping environments; "
                        "expected each agent and environment in exactly one file",
                    )
                )
                continue
            for env in pol.spec.environments:
                by_key[(pol.agent, env)] = pol
        if problems:
            raise PolicyConflictError(problems)
        return PolicySet(by_key)

    def get(self, agent: str, env: Environment) -> CompiledPolicy | None:
        """The policy governing ``agent`` in ``env``, or the agent's policy for another
        environment (whose boundary step will deny), or None."""
        pol = self.by_key.get((agent, env))
        if pol is None:
            pol = next((p for (a, _), p in self.by_key.items() if a == agent), None)
        return pol

    def require(self, agent: str, env: Environment) -> CompiledPolicy:
        pol = self.get(agent, env)
        if pol is None:
            raise UnknownAgentError(
                f"no policy declares agent {agent!r}; loaded: {', '.join(self.agents) or 'none'}"
            )
        return pol

    @property
    def agents(self) -> list[str]:
        return sorted({a for a, _ in self.by_key})

    @property
    def policies(self) -> list[CompiledPolicy]:
        return list({id(p): p for p in self.by_key.values()}.values())


def load_policies(path: str | Path) -> PolicySet:
    """Load a policy file, or every ``*.yaml``/``*.yml`` file of a directory. All errors of all
    files are reported together."""
    p = Path(path)
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    if not files:
        raise PolicyError([PolicyProblem(str(p), None, "", "no *.yaml policy files found")])
    loaded: list[CompiledPolicy] = []
    problems: list[PolicyProblem] = []
    for f in files:
        try:
            loaded.append(load_policy(f))
        except PolicyError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyError(problems)
    return PolicySet.of(*loaded)
