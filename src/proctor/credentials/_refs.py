"""Secret references: ``secret://NAME`` (in the session's environment) or
``secret://ENVIRONMENT/NAME`` (only in that environment). A policy or a tool names a secret;
only the gate, at execution time, ever holds its value."""

from __future__ import annotations

from dataclasses import dataclass

from proctor.errors import CredentialError
from proctor.model import Environment
from proctor.policy._data_schema import SECRET_REF


@dataclass(frozen=True, slots=True)
class SecretRef:
    name: str
    environment: Environment | None = None  # None: whichever environment resolves it

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        m = SECRET_REF.match(text)
        if m is None:
            raise CredentialError(
                f"{text!r} is not a secret reference; expected secret://NAME or "
                "secret://ENVIRONMENT/NAME"
            )
        env, name = m.groups()
        return cls(name, Environment(env) if env else None)

    def __str__(self) -> str:
        where = f"{self.environment}/" if self.environment is not None else ""
        return f"secret://{where}{self.name}"
