"""Data classes and the forms in which a value may reach the model."""

from __future__ import annotations

from enum import StrEnum


class DataClass(StrEnum):
    """What kind of data a value is, for access rules."""

    CUSTOMER = "customer"  # a customer's personal data: name, email, phone, address
    EMPLOYEE = "employee"  # an employee's personal data
    FINANCIAL = "financial"  # card numbers, IBANs, balances
    REGULATED = "regulated"  # government ids, health data: SSN, passport, NHS number
    SECRET = "secret"  # noqa: S105 - credentials: API keys, tokens, private keys, passwords

    def __str__(self) -> str:
        return self.value


class Form(StrEnum):
    """In which form a value reaches the model."""

    CLEAR = "clear"  # as is
    MASKED = "masked"  # j***@example.com, **** **** **** 4242
    TOKENIZED = "tokenized"  # tok_email_7f3a…: reversible, only inside the gate, for allowed tools
    NONE = "none"  # not at all: the field is dropped, a span in text is withheld

    def __str__(self) -> str:
        return self.value


DEFAULT_FORMS: dict[DataClass, Form] = {
    DataClass.CUSTOMER: Form.MASKED,
    DataClass.EMPLOYEE: Form.MASKED,
    DataClass.FINANCIAL: Form.MASKED,
    DataClass.REGULATED: Form.NONE,
    DataClass.SECRET: Form.MASKED,
}
"""The form of each class when a policy's ``data`` section does not say."""

SECRET_FORMS = frozenset({Form.MASKED, Form.NONE})
"""The only forms a secret may take: it never reaches the model, not even as a token."""

SENSITIVITY: dict[DataClass, int] = {
    DataClass.CUSTOMER: 0,
    DataClass.EMPLOYEE: 0,
    DataClass.FINANCIAL: 1,
    DataClass.REGULATED: 2,
    DataClass.SECRET: 3,
}
"""How sensitive each class is. In a field the policy shows in clear, a value the detectors find
of a more sensitive class (an SSN or a key pasted into a name) still takes its own class's form."""
