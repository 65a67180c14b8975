"""The policy file schema: what a YAML policy may say, as Pydantic models.

This module is the single source of truth for the policy reference in ``docs/``
(``python -m proctor.docgen`` regenerates it from these models and their descriptions).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from proctor.model import Autonomy, Environment, Flag
from proctor.policy._budget_schema import Budget
from proctor.policy._data_schema import CredentialsPolicy, DataPolicy
from proctor.policy._memory_schema import MemoryPolicy
from proctor.policy._monitor_schema import MonitoringPolicy

NAME = r"^[a-z][a-z0-9_.-]{0,63}$"
RULE_ID = r"^[a-z][a-z0-9_.-]{0,79}$"
ARG_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*)?(second|minute|hour|day)s?\s*$")


def _autonomy(value: object) -> object:
    if isinstance(value, str):
        try:
            return Autonomy[value.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown autonomy level {value!r}; expected one of read, draft, write, execute"
            ) from None
    return value


AutonomyLevel = Annotated[
    Autonomy,
    BeforeValidator(_autonomy),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "enum": [str(a) for a in Autonomy]}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Rate(_Strict):
    """A rate limit: at most ``count`` calls in any window of ``seconds``. Written ``20/hour``."""

    count: int = Field(ge=1)
    seconds: int = Field(ge=1)

    def __str__(self) -> str:
        for unit, secs in reversed(_UNITS.items()):
            if self.seconds % secs == 0:
                n = self.seconds // secs
                return f"{self.count}/{unit}" if n == 1 else f"{self.count}/{n} {unit}s"
        return f"{self.count}/{self.seconds} seconds"


def _rate(value: object) -> object:
    if isinstance(value, str):
        m = _RATE.match(value)
        if not m:
            raise ValueError(
                f"invalid rate {value!r}; expected COUNT/UNIT such as '20/hour' or '5/10 minutes' "
                "(units: second, minute, hour, day)"
            )
        count, mult, unit = m.groups()
        return {"count": int(count), "seconds": int(mult or 1) * _UNITS[unit]}
    return value


RateValue = Annotated[Rate, BeforeValidator(_rate)]


class AgentSpec(_Strict):
    """The agent this policy governs: a service role scoped to one workflow."""

    name: str = Field(pattern=NAME, description="Agent id that sessions name, e.g. `support-bot`.")
    role: str = Field(min_length=1, description="Service role the agent runs as.")
    owner: str = Field(min_length=1, description="Person or team accountable for the workflow.")
    description: str = ""


class EnvironmentGrant(_Strict):
    """What the agent may do in one environment."""

    max_autonomy: AutonomyLevel = Field(
        description="Highest autonomy level granted here: read < draft < write < execute."
    )


_DURATION = re.compile(r"^\s*(\d+)\s*(second|minute|hour|day)s?\s*$")


def _duration(value: object) -> object:
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(
                f"invalid duration {value!r}; expected a number and a unit such as "
                "'30 minutes', '4 hours' or '2 days' (units: second, minute, hour, day)"
            )
        return int(m.group(1)) * _UNITS[m.group(2)]
    return value


Duration = Annotated[
    int,
    BeforeValidator(_duration),
    Field(ge=60, le=30 * 86400),
    WithJsonSchema({"type": "string", "description": "e.g. `30 minutes`, `4 hours`, `2 days`"}),
]
OnExpiry = Literal["deny", "escalate"]


class _ApproverSpec(_Strict):
    approvers: int = Field(default=1, ge=1, le=5, description="Distinct people who must approve.")
    group: str | None = Field(default=None, description="Approver group; defaults apply if unset.")


class Approval(_ApproverSpec):
    """Who approves a held call, and how long the request waits."""

    two_person: bool = Field(
        default=False,
        description="At least two distinct people approve, whatever `approvers` says. Approvers "
        "are always distinct, and never the session's principal or the agent itself.",
    )
    expires_after: Duration = Field(
        default="24 hours",
        validate_default=True,
        description="A request nobody decided in this time expires.",
    )
    on_expiry: OnExpiry = Field(
        default="deny",
        description="`deny`: an expired request is final and never executes. `escalate`: it "
        "goes once to the workflow owner (`agent.owner`) for another `expires_after`.",
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="A call whose stated confidence (`call(..., confidence=)`) is below this "
        "holds, even when everything else allows. Unset: confidence never holds.",
    )


class ToolApproval(_ApproverSpec):
    """Approval settings of one tool. Unset fields take `defaults.approval`'s."""

    on_flags: bool = Field(
        default=True,
        description="Hold calls of irreversible, customer-visible or money-moving tools. "
        "Set false to waive the flag hold for this tool.",
    )
    two_person: bool | None = Field(default=None, description="See `defaults.approval`.")
    expires_after: Duration | None = Field(default=None, description="See `defaults.approval`.")
    on_expiry: OnExpiry | None = Field(default=None, description="See `defaults.approval`.")
    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="See `defaults.approval`."
    )


ArgRole = Literal[
    "recipient",
    "destination",
    "account",
    "amount",
    "target",
    "credential",
    "address",
    "content",
    "none",
]
TrustName = Literal["trusted", "untrusted"]
ConfidentialityName = Literal["public", "internal", "personal", "financial", "regulated", "secret"]
FlowVerdict = Literal["allow", "hold", "deny"]

ArgType = Literal["string", "integer", "number", "boolean", "array", "object"]
ItemType = Literal["string", "integer", "number", "boolean", "object"]


def _arg_shorthand(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


class ArgSpec(_Strict):
    """One argument of a tool. Shorthand: `amount: number`."""

    type: ArgType = Field(description="JSON type of the argument.")
    required: bool = Field(default=True, description="Optional arguments default to `default`.")
    description: str = ""
    enum: list[str | int | float] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    items: ItemType | None = Field(default=None, description="Item type, for `array`.")
    max_items: int | None = Field(default=None, ge=0)
    default: Any = None
    role: ArgRole | None = Field(
        default=None,
        description="What the argument decides, for flow rules: recipient, destination, account, "
        "amount, target, credential, address, content or none. Unset: inferred from the name.",
    )

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


ArgValue = Annotated[ArgSpec, BeforeValidator(_arg_shorthand)]


class Constraint(_Strict):
    """A CEL expression over the call; when it is true, the call gets ``verdict``.

    ``allow`` constraints waive the flag hold (e.g. emails to your own domain need no
    approval); they never override a ``hold`` or ``deny`` from another rule.
    """

    id: str = Field(pattern=RULE_ID, description="Rule id, unique in the policy.")
    when: str = Field(
        min_length=1,
        description="CEL expression; variables: args, env, agent, tool, principal, tenant.",
    )
    verdict: Literal["allow", "hold", "deny"] = Field(
        description="What a match means; DENY beats HOLD beats ALLOW."
    )
    reason: str = Field(default="", description="Shown to the agent, the reviewer and the audit.")
    approvers: int | None = Field(default=None, ge=1, le=5)
    group: str | None = None


class ToolRateLimits(_Strict):
    """Rate limits of one tool."""

    per_session: RateValue | None = Field(default=None, description="E.g. `20/hour`.")
    per_agent: RateValue | None = Field(default=None, description="Across all sessions.")
    on_exceed: Literal["deny", "hold"] = Field(default="deny", description="Verdict when full.")


def _tool_rate_shorthand(value: object) -> object:
    return {"per_session": value} if isinstance(value, str) else value


class CircuitBreakerSpec(_Strict):
    """Stop calling a tool that keeps failing."""

    failures: int = Field(default=5, ge=1, description="Consecutive failures that open it.")
    reset_seconds: float = Field(default=30.0, gt=0, description="Open time before a trial call.")


_TRUST_NAMES = ("trusted", "untrusted")


def _field_label_shorthand(value: object) -> object:
    if isinstance(value, str):
        return {"trust": value} if value in _TRUST_NAMES else {"confidentiality": value}
    return value


class FieldLabel(_Strict):
    """The label of one output field. Shorthand: `body: untrusted` or `iban: financial`."""

    trust: TrustName | None = Field(default=None, description="Unset: the output's trust.")
    confidentiality: ConfidentialityName | None = Field(
        default=None, description="Unset: the output's confidentiality."
    )


FieldLabelValue = Annotated[FieldLabel, BeforeValidator(_field_label_shorthand)]


class OutputLabels(_Strict):
    """How the gate labels a tool's output when it ingests it (step 7)."""

    trust: TrustName = Field(
        default="untrusted",
        description="Trust of every field not listed in `fields`. Set `trusted` for a system of "
        "record and list the fields that carry third-party text as `untrusted`.",
    )
    confidentiality: ConfidentialityName = Field(
        default="internal", description="Confidentiality of fields not listed in `fields`."
    )
    fields: dict[str, FieldLabelValue] = Field(
        default_factory=dict,
        description="Per-field labels, by key name at any depth of the output.",
    )


HEADER_NAME = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"


class HttpTool(_Strict):
    """A tool the HTTP gateway executes itself, as one HTTP request (docs/gateway.md). The
    arguments go as the JSON body (`POST`, `PUT`, `PATCH`) or the query string (`GET`,
    `DELETE`); `{name}` in the URL is replaced by that argument, URL-encoded."""

    url: str = Field(
        pattern=r"^https?://[^\s]+$",
        description="Where the request goes, e.g. `https://payments.internal/refunds/{order_id}`.",
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(default="POST")
    credential: str | None = Field(
        default=None,
        pattern=ARG_NAME,
        description="The name of one of the tool's secrets (`credentials.tools.TOOL.secrets`), "
        "sent as `Authorization: Bearer`; resolved inside the gate, never seen by the agent.",
    )
    headers: dict[Annotated[str, Field(pattern=HEADER_NAME)], str] = Field(
        default_factory=dict, description="Fixed headers (no secrets: use `credential`)."
    )


class ToolSpec(_Strict):
    """One tool the agent may call. A tool not named here is denied."""

    description: str = ""
    autonomy: AutonomyLevel = Field(
        description="What the tool does: read < draft < write < execute. Above the "
        "environment's grant: denied."
    )
    flags: list[Flag] = Field(
        default_factory=list,
        description="Risk flags. irreversible, customer_visible and moves_money hold for "
        "approval unless approval.on_flags is false or an allow constraint matches.",
    )
    args: dict[Annotated[str, Field(pattern=ARG_NAME)], ArgValue] = Field(
        default_factory=dict,
        description="Declared arguments. Calls are validated strictly: no coercion, no "
        "unknown arguments. Constraints may only reference these.",
    )
    constraints: list[Constraint] = Field(
        default_factory=list, description="Argument limits as CEL expressions."
    )
    approval: ToolApproval | None = Field(default=None, description="Approval settings.")
    rate_limit: Annotated[ToolRateLimits | None, BeforeValidator(_tool_rate_shorthand)] = Field(
        default=None, description="Rate limits; a string such as `20/hour` limits per session."
    )
    environments: list[Environment] | None = Field(
        default=None, description="Restrict the tool to these environments."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    circuit_breaker: CircuitBreakerSpec = Field(default_factory=CircuitBreakerSpec)
    fallback: Any = Field(
        default=None, description="Result returned while the circuit is open (null: none)."
    )
    output: OutputLabels = Field(
        default_factory=OutputLabels,
        description="Labels of the tool's output: untrusted third-party text unless declared.",
    )
    http: HttpTool | None = Field(
        default=None,
        description="Executed by the HTTP gateway as one HTTP request "
        "(`POST /v1/sessions/ID/call`).",
    )


class SessionRateLimits(_Strict):
    """Rate limits over all tools."""

    per_session: RateValue | None = None
    per_agent: RateValue | None = None
    on_exceed: Literal["deny", "hold"] = "deny"


class Defaults(_Strict):
    """Defaults for every tool of the file."""

    approval: Approval = Field(
        default_factory=Approval,
        description="Who approves holds when a tool or rule does not say; the group defaults "
        "to the agent's owner.",
    )
    rate_limits: SessionRateLimits = Field(
        default_factory=SessionRateLimits, description="Limits over all tools together."
    )


class Egress(_Strict):
    """Destinations data may always go to."""

    domains: list[str] = Field(
        default_factory=list,
        description="Domains (and subdomains) of email addresses and URLs, e.g. `example.com`.",
    )
    accounts: list[str] = Field(default_factory=list, description="Account numbers or IBANs.")


class FlowRules(_Strict):
    """Flow control (step 4): judge each argument by where its value came from."""

    enabled: bool = Field(default=True, description="Run flow control for this agent.")
    untrusted_arguments: FlowVerdict = Field(
        default="hold",
        description="A write or execute call whose recipient, destination, account, amount, "
        "target, credential or address comes only from untrusted content.",
    )
    embedded_addresses: FlowVerdict = Field(
        default="hold",
        description="A write or execute call whose free text carries an email address, link, "
        "domain, IBAN or phone number found only in untrusted content.",
    )
    instructions: FlowVerdict = Field(
        default="hold",
        description="An argument of a write, execute or external call that carries "
        "instruction-like text from untrusted content, or a value such text names.",
    )
    trifecta: FlowVerdict = Field(
        default="deny",
        description="The lethal trifecta: the session read confidential data and untrusted "
        "content, and an external call would send data to a destination that is neither "
        "allowlisted nor named by the user or a system of record.",
    )
    confidential_egress: FlowVerdict = Field(
        default="hold",
        description="An external write whose text carries an identifier (card, passport or "
        "account number, address, phone) found only in confidential content and not named by "
        "the user, in a session that also read untrusted content.",
    )
    generated_targets: FlowVerdict = Field(
        default="hold",
        description="An irreversible call whose target, recipient or account appears nowhere "
        "in the session.",
    )
    unanchored_payments: FlowVerdict = Field(
        default="hold",
        description="A money-moving call none of whose arguments the user or operator named.",
    )
    instruction_patterns: bool = Field(
        default=True,
        description="Recognize instruction-like text in content the principal did not write "
        "(it contests system-of-record values and feeds the `instructions` rule). Off: only "
        "where values came from counts.",
    )
    confidential_from: ConfidentialityName = Field(
        default="personal",
        description="Content at or above this confidentiality counts as confidential for the "
        "trifecta.",
    )
    egress: Egress = Field(default_factory=Egress, description="Egress allowlists.")
    spotlight: Literal["delimit", "datamark", "none"] = Field(
        default="delimit",
        description="How `ingest` fences untrusted text for the model: delimiters, "
        "datamarking (a marker between words), or nothing.",
    )


HostileAction = Literal["hold", "deny", "strip", "quarantine"]


class DetectorRules(_Strict):
    """Content detectors (docs/detectors.md): scan untrusted content as it enters the session
    and the string arguments of every call. Off unless ``enabled``."""

    enabled: bool = Field(default=False, description="Run the content detectors for this agent.")
    on_hostile: HostileAction = Field(
        default="hold",
        description="When untrusted content is judged hostile: `hold` or `deny` every later call "
        "at or above `from_autonomy` in the session; `strip` the hostile passages from the text "
        "the model sees; `quarantine` it (withheld from the model). A tool output cannot be "
        "stripped in place, so under `strip` a hostile tool output is withheld.",
    )
    arguments: Literal["allow", "hold", "deny"] = Field(
        default="hold",
        description="A call whose string arguments are judged hostile (`allow`: not scanned).",
    )
    from_autonomy: AutonomyLevel = Field(
        default=Autonomy.DRAFT,
        description="Calls at or above this autonomy level are held or denied after hostile "
        "content or a session escalation; reads below it go on.",
    )
    threshold: float = Field(
        default=0.7, gt=0, le=1, description="Judgement score at which content is hostile."
    )
    only: list[str] | None = Field(
        default=None,
        description="Detector ids to run (see docs/detectors.md); unset: every built-in one.",
    )
    hold_at: float = Field(
        default=1.5,
        gt=0,
        description="Session score at which later calls are held (a hostile text adds 1, a "
        "near miss its score; the score decays by 0.8 per text).",
    )
    contain_at: float = Field(
        default=3.0,
        gt=0,
        description="Session score at which the agent is contained: calls above `draft` denied.",
    )

    @field_validator("only")
    @classmethod
    def _known_detectors(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            from proctor.detect._catalog import BUILTIN  # the registry's ids, nothing else

            unknown = [v for v in value if v not in BUILTIN]
            if unknown:
                raise ValueError(
                    f"unknown detector {unknown[0]!r} (known: {', '.join(sorted(BUILTIN))})"
                )
        return value

    @model_validator(mode="after")
    def _contain_after_hold(self) -> DetectorRules:
        if self.contain_at < self.hold_at:
            raise ValueError(
                f"contain_at ({self.contain_at}) must not be below hold_at ({self.hold_at})"
            )
        return self


class BreakGlass(_Strict):
    """Time-boxed overrides an admin may issue for this agent (`proctor breakglass`)."""

    allowed: bool = Field(default=True, description="False: no override is honored.")
    max_minutes: int = Field(
        default=60,
        ge=1,
        le=1440,
        description="An override is honored for at most this long after it was issued, "
        "whatever it says.",
    )


class Controls(_Strict):
    """People's controls over a running agent: the kill switch and break-glass."""

    on_pause: Literal["hold", "deny"] = Field(
        default="hold",
        description="Verdict on every call of a paused agent (`proctor agent pause`).",
    )
    break_glass: BreakGlass = Field(default_factory=BreakGlass, description="Break-glass.")


class PolicySpec(_Strict):
    """A policy file: one agent workflow."""

    version: Literal[1] = Field(default=1, description="Schema version of the file.")
    agent: AgentSpec = Field(description="The agent (service role) this file governs.")
    environments: dict[Environment, EnvironmentGrant] = Field(
        min_length=1,
        description="Environments the agent may run in, each with its highest autonomy level. "
        "Not listed: denied.",
    )
    defaults: Defaults = Field(
        default_factory=Defaults, description="Approval and rate-limit defaults."
    )
    tools: dict[Annotated[str, Field(pattern=NAME)], ToolSpec] = Field(
        default_factory=dict, description="Allowlisted tools. A tool not named here is denied."
    )
    flow: FlowRules = Field(
        default_factory=FlowRules,
        description="Flow rules: provenance of arguments, the trifecta, egress allowlists.",
    )
    detectors: DetectorRules = Field(
        default_factory=DetectorRules,
        description="Content detectors: what hostile content and arguments mean for the session.",
    )
    data: DataPolicy | None = Field(
        default=None,
        description="Data access controls: classified fields, scoped reads, masking, "
        "tokenization (see docs/data-access.md). Unset: secrets are still masked.",
    )
    credentials: CredentialsPolicy | None = Field(
        default=None,
        description="Secret references and short-lived scoped credentials per tool "
        "(see docs/credentials.md).",
    )
    controls: Controls = Field(
        default_factory=Controls, description="Kill switch and break-glass settings."
    )
    memory: MemoryPolicy = Field(
        default_factory=MemoryPolicy,
        description="Agent memory: lifetimes per kind and scope, review of important facts, "
        "quarantine of items derived from untrusted content (see docs/memory.md).",
    )
    monitoring: MonitoringPolicy | None = Field(
        default=None,
        description="Continuous monitoring: baselines, alert rules, sinks and automatic "
        "containment (see docs/monitoring.md). Unset: not monitored.",
    )
    budgets: dict[Annotated[str, Field(pattern=NAME)], Budget] = Field(
        default_factory=dict,
        description="Cumulative budgets across calls and tools, by name (rule id "
        "`budget.NAME`): e.g. refunds by this agent up to 2,000 USD per day (see "
        "docs/budgets.md).",
    )
