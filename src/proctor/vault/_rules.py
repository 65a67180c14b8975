"""The data section of a policy, resolved for one tenant: the form of each class and field."""

from __future__ import annotations

from proctor.model import Session
from proctor.policy._data_schema import DataPolicy, Resource
from proctor.vault._classes import DEFAULT_FORMS, DataClass, Form


class Rules:
    """Forms per class and per ``resource.field`` for one tenant; which resource each tool
    returns; which classes each tool may receive in clear."""

    def __init__(self, data: DataPolicy | None, tenant: str) -> None:
        self.data = data
        classes = dict(DEFAULT_FORMS)
        fields: dict[str, Form] = {}
        grants = [] if data is None else [data.access, data.tenants.get(tenant)]
        for grant in grants:
            if grant is None:
                continue
            classes.update({DataClass(c): Form(f) for c, f in grant.classes.items()})
            fields.update({k: Form(f) for k, f in grant.fields.items()})
        self.classes = classes
        self.fields = fields
        self.by_tool: dict[str, tuple[str, Resource]] = {}
        if data is not None:
            for name, res in data.resources.items():
                for tool in res.tools:
                    self.by_tool[tool] = (name, res)

    @property
    def scan_pii(self) -> bool:
        return self.data is not None and self.data.scan_text

    def class_form(self, data_class: DataClass) -> Form:
        return self.classes[data_class]

    def field_form(self, resource: str, field: str, data_class: DataClass) -> Form:
        return self.fields.get(f"{resource}.{field}") or self.classes[data_class]

    def clear_for(self, tool: str) -> frozenset[DataClass]:
        if self.data is None:
            return frozenset()
        return frozenset(DataClass(c) for c in self.data.detokenize.get(tool, ()))


def session_value(session: Session, ref: str) -> str | None:
    """The value a scope reference (``session.tenant``, ``session.scope.customer``...) names
    in ``session``; None if the session does not carry it."""
    name = ref.removeprefix("session.")
    if name.startswith("scope."):
        return session.scope.get(name.removeprefix("scope."))
    if name == "tenant":
        return session.tenant
    if name == "principal":
        return session.principal
    if name == "agent":
        return session.agent
    return None
