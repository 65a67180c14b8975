"""What data access controls did to one piece of content or one call: a ``DataReport``.

It names fields, classes, forms, counts and keyed digests; never a value. The audit hook turns
it into a ``data.access`` record and one ``alert`` per dropped record set or refused token.
"""

from __future__ import annotations

from dataclasses import dataclass

from proctor.model import Finding
from proctor.vault._classes import DataClass, Form


@dataclass(frozen=True, slots=True)
class FieldRead:
    """``count`` values of a classified field reached the model (or a tool) in ``form``.
    ``resource`` is None for values found in free text (``field`` is then ``text.KIND``) and
    for tool arguments (``arg.NAME``)."""

    resource: str | None
    field: str
    data_class: DataClass
    form: Form
    count: int

    def to_dict(self) -> dict[str, object]:
        return {
            "resource": self.resource,
            "field": self.field,
            "class": str(self.data_class),
            "form": str(self.form),
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class Drop:
    """Records withheld because they are out of the session's scope.

    ``reason``: ``tenant`` (another tenant's, or no tenant), ``scope`` (another customer, say),
    ``unscoped`` (the session lacks the value the scope needs), ``malformed`` (not a record).
    ``owners`` are keyed digests of the values that did not match: enough to tell two
    incidents about the same tenant apart, not to read the tenant."""

    resource: str
    reason: str
    count: int
    fields: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "resource": self.resource,
            "reason": self.reason,
            "count": self.count,
            "fields": list(self.fields),
            "owners": list(self.owners),
        }


@dataclass(frozen=True, slots=True)
class DataReport:
    """``purpose``: ``ingest`` (content entering the session) or ``execute`` (a tool's
    arguments detokenized). ``refused``: why tokens were refused (execute only)."""

    purpose: str
    source: str
    reads: tuple[FieldRead, ...] = ()
    drops: tuple[Drop, ...] = ()
    findings: tuple[Finding, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.reads or self.drops or self.findings or self.refused)

    def to_dict(self) -> dict[str, object]:
        return {
            "purpose": self.purpose,
            "source": self.source,
            "reads": [r.to_dict() for r in self.reads],
            "drops": [d.to_dict() for d in self.drops],
            "findings": [
                {
                    "detector": f.detector,
                    "rule": f.rule,
                    "where": f.where,
                    "score": round(f.score, 4),
                    "explanation": f.explanation,
                    "masked": f.excerpt,
                }
                for f in self.findings
            ],
            "refused": list(self.refused),
        }
