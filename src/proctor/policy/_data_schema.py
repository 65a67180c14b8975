"""The policy's data access and credentials sections: what the agent's role may read, in which
form, of whose records; and which secrets its tools get at execution time.

A policy file governs one agent, which runs as one service role (``agent.role``): the ``data``
section is what that role may read, with per-tenant overrides. Kept apart from ``_schema.py``
so that the two sections read as one unit; ``PolicySpec`` names them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

DataClassName = Literal["customer", "employee", "financial", "regulated", "secret"]
FormName = Literal["clear", "masked", "tokenized", "none"]

DATA_CLASSES: tuple[DataClassName, ...] = (
    "customer",
    "employee",
    "financial",
    "regulated",
    "secret",
)
SECRET_FORMS = ("masked", "none")  # a secret never reaches the model, not even as a token
KIND = r"^[a-z][a-z0-9]{0,15}$"
SESSION_REF = re.compile(
    r"^session\.(tenant|principal|agent|scope\.[A-Za-z_][A-Za-z0-9_.-]{0,63})$"
)
SECRET_REF = re.compile(r"^secret://(?:(dev|staging|production)/)?([a-z0-9][a-z0-9_.-]{0,127})$")
TOOL_NAME = r"^[a-z][a-z0-9_.-]{0,63}$"
FIELD_KEY = r"^[^\s.\[\]]{1,128}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _field_shorthand(value: object) -> object:
    return {"class": value} if isinstance(value, str) else value


class DataField(_Strict):
    """A classified field of a resource. Shorthand: `email: customer`."""

    data_class: DataClassName = Field(
        alias="class", description="Data class: customer, employee, financial, regulated, secret."
    )
    kind: str | None = Field(
        default=None,
        pattern=KIND,
        description="What the value is (email, card, iban, phone, ssn, name...): how it is "
        "masked and how its tokens are named (`tok_email_…`). Unset: inferred from the value.",
    )


DataFieldValue = Annotated[DataField, BeforeValidator(_field_shorthand)]


class Resource(_Strict):
    """Records some tools return: whose they are, which fields are classified."""

    tools: list[Annotated[str, Field(pattern=TOOL_NAME)]] = Field(
        min_length=1, description="Tools whose output holds records of this resource."
    )
    records: str | None = Field(
        default=None,
        pattern=FIELD_KEY,
        description="Key of the list of records in the output (`results`). Unset: the output "
        "itself (a list: each item is a record; an object: it is one record).",
    )
    tenant_field: str | None = Field(
        default=None,
        pattern=FIELD_KEY,
        description="Field naming the record's tenant. A record of another tenant, or without "
        "this field, is dropped before the model sees it; the drop is audited as an alert.",
    )
    scope: dict[Annotated[str, Field(pattern=FIELD_KEY)], str] = Field(
        default_factory=dict,
        description="Dynamic scope: record field -> session value (`session.tenant`, "
        "`session.principal`, `session.agent` or `session.scope.NAME`). A record whose field "
        "differs, or a session without the value, is dropped and audited as an alert.",
    )
    fields: dict[Annotated[str, Field(pattern=FIELD_KEY)], DataFieldValue] = Field(
        default_factory=dict,
        description="Classified fields, by key name at any depth of a record.",
    )
    unlisted: Literal["scan", "none"] = Field(
        default="scan",
        description="Fields not listed: `scan` passes them through the PII and secret "
        "detectors; `none` drops them (an allowlist of fields).",
    )

    @field_validator("scope")
    @classmethod
    def _session_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for key, ref in value.items():
            if not SESSION_REF.match(ref):
                raise ValueError(
                    f"scope {key!r}: {ref!r} is not a session value; expected session.tenant, "
                    "session.principal, session.agent or session.scope.NAME"
                )
        return value


class Grant(_Strict):
    """In which form the agent may read each data class, and exceptions per field."""

    classes: dict[DataClassName, FormName] = Field(
        default_factory=dict,
        description="Form per data class: clear, masked, tokenized or none. Unset classes: "
        "customer, employee and financial masked; regulated none; secret masked.",
    )
    fields: dict[
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}\.[^\s]{1,128}$")], FormName
    ] = Field(
        default_factory=dict,
        description="Form per field, as `resource.field`; beats the class's form.",
    )


class DataPolicy(_Strict):
    """Data access controls: scoped reads, masking and tokenization before the model sees
    content, and which tools receive clear values."""

    resources: dict[Annotated[str, Field(pattern=TOOL_NAME)], Resource] = Field(
        default_factory=dict, description="Resources (record types) tools return."
    )
    access: Grant = Field(
        default_factory=Grant, description="What this agent's role may read, in every tenant."
    )
    tenants: dict[Annotated[str, Field(min_length=1, max_length=128)], Grant] = Field(
        default_factory=dict,
        description="Per-tenant overrides of `access` (class and field forms replace the "
        "defaults one by one).",
    )
    scan_text: bool = Field(
        default=True,
        description="Pass free text and unlisted string fields through the PII detectors "
        "(Presidio, regex recognizers; needs `proctor[pii]`). Secrets are always detected.",
    )
    detokenize: dict[Annotated[str, Field(pattern=TOOL_NAME)], list[DataClassName]] = Field(
        default_factory=dict,
        description="Tools that receive clear values: tokens of these classes in their "
        "arguments are detokenized inside the gate at execution time, never before.",
    )


def _secret_ref(value: object) -> object:
    if isinstance(value, str) and not SECRET_REF.match(value):
        raise ValueError(
            f"{value!r} is not a secret reference; expected secret://NAME or "
            "secret://ENVIRONMENT/NAME (lower case, digits, . _ -)"
        )
    return value


SecretRefStr = Annotated[str, BeforeValidator(_secret_ref)]


class ToolCredentials(_Strict):
    """What one tool receives at execution time besides its arguments."""

    secrets: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")], SecretRefStr] = (
        Field(
            default_factory=dict,
            description="Name the tool asks for -> `secret://NAME`, resolved in the session's "
            "environment inside the gate (`call_context().secret(name)`).",
        )
    )


class CredentialsPolicy(_Strict):
    """Secrets by reference and short-lived scoped credentials."""

    ttl_minutes: int = Field(
        default=5, ge=1, le=60, description="Lifetime of the credential minted per call."
    )
    tools: dict[Annotated[str, Field(pattern=TOOL_NAME)], ToolCredentials] = Field(
        default_factory=dict, description="Per tool: the secrets it receives."
    )


Path = tuple[str | int, ...]


def _grant_problems(
    grant: Grant, base: Path, resources: dict[str, Resource]
) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    form = grant.classes.get("secret")
    if form is not None and form not in SECRET_FORMS:
        out.append(
            (
                (*base, "classes", "secret"),
                f"secrets may be read only masked or not at all (got {form!r}); tools get them "
                "through secret:// references, never through the model",
            )
        )
    for key, form in grant.fields.items():
        res_name, _, field = key.partition(".")
        res = resources.get(res_name)
        if res is None:
            known = ", ".join(sorted(resources)) or "none"
            out.append(
                ((*base, "fields", key), f"unknown resource {res_name!r} (declared: {known})")
            )
            continue
        declared = res.fields.get(field)
        if declared is None:
            known = ", ".join(sorted(res.fields)) or "none"
            out.append(
                (
                    (*base, "fields", key),
                    f"resource {res_name!r} declares no field {field!r} (declared: {known})",
                )
            )
        elif declared.data_class == "secret" and form not in SECRET_FORMS:
            out.append(
                (
                    (*base, "fields", key),
                    f"{key} is a secret: it may be read only masked or not at all (got {form!r})",
                )
            )
    return out


def data_problems(
    data: DataPolicy | None, credentials: CredentialsPolicy | None, tools: set[str]
) -> list[tuple[Path, str]]:
    """Semantic problems of the two sections (what Pydantic alone cannot check), as (path,
    message) pairs for the loader to place at file:line."""
    out: list[tuple[Path, str]] = []
    known_tools = ", ".join(sorted(tools)) or "none"
    if data is not None:
        owner: dict[str, str] = {}
        for name, res in data.resources.items():
            for i, tool in enumerate(res.tools):
                path: Path = ("data", "resources", name, "tools", i)
                if tool not in tools:
                    out.append((path, f"unknown tool {tool!r} (declared: {known_tools})"))
                elif tool in owner:
                    out.append((path, f"tool {tool!r} already returns resource {owner[tool]!r}"))
                else:
                    owner[tool] = name
        out += _grant_problems(data.access, ("data", "access"), data.resources)
        for tenant, grant in data.tenants.items():
            out += _grant_problems(grant, ("data", "tenants", tenant), data.resources)
        for tool, classes in data.detokenize.items():
            path = ("data", "detokenize", tool)
            if tool not in tools:
                out.append((path, f"unknown tool {tool!r} (declared: {known_tools})"))
            if "secret" in classes:
                out.append(
                    (path, "secrets are never tokenized; give the tool a secret:// reference")
                )
    if credentials is not None:
        for tool in credentials.tools:
            if tool not in tools:
                out.append(
                    (
                        ("credentials", "tools", tool),
                        f"unknown tool {tool!r} (declared: {known_tools})",
                    )
                )
    return out
