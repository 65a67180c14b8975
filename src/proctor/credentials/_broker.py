"""``CredentialBroker``: the gate's side of credentials. Per call, inside the gate, at execution
time: resolve the secret references the policy gives the tool, and mint the call's scoped
credential. Environment separation: a broker configured for one environment refuses sessions,
secret references and credentials of any other.
"""

from __future__ import annotations

from proctor.credentials._backends import EnvSecretBackend, SecretBackend
from proctor.credentials._context import CallContext
from proctor.credentials._refs import SecretRef
from proctor.credentials._tokens import CredentialSigner
from proctor.errors import CredentialError, EnvironmentMismatchError
from proctor.model import Environment, Session, ToolCall
from proctor.policy import CompiledPolicy

DEFAULT_TTL_MINUTES = 5


class CredentialBroker:
    """Secrets and credentials for the calls a gate executes in one ``environment``."""

    def __init__(
        self,
        environment: Environment | str,
        *,
        backend: SecretBackend | None = None,
        signer: CredentialSigner | None = None,
    ) -> None:
        self.environment = Environment(environment)
        self.backend: SecretBackend = backend if backend is not None else EnvSecretBackend()
        if signer is not None and signer.environment is not self.environment:
            raise EnvironmentMismatchError(
                f"a {self.environment} broker cannot sign with a {signer.environment} key ring"
            )
        self.signer = signer if signer is not None else CredentialSigner.generate(environment)

    def prepare(self, session: Session, call: ToolCall, policy: CompiledPolicy) -> CallContext:
        """The context ``call`` executes in. Raises ``CredentialError`` (the call does not
        run) for a session of another environment or a secret that does not resolve."""
        if session.environment is not self.environment:
            raise EnvironmentMismatchError(
                f"this gate runs in {self.environment}; it executes no call of a "
                f"{session.environment} session"
            )
        creds = policy.spec.credentials
        ttl = (creds.ttl_minutes if creds is not None else DEFAULT_TTL_MINUTES) * 60
        wanted = creds.tools.get(call.tool) if creds is not None else None
        values: dict[str, str] = {}
        for name, text in wanted.secrets.items() if wanted is not None else ():
            ref = SecretRef.parse(text)
            if ref.environment is not None and ref.environment is not self.environment:
                raise EnvironmentMismatchError(
                    f"{ref} belongs to {ref.environment}; this gate runs in {self.environment}"
                )
            value = self.backend.get(ref.name, self.environment)
            if value is None:
                raise CredentialError(f"{ref} does not resolve in {self.environment}")
            values[name] = value
        token = self.signer.mint(session, call.tool, call.id, ttl)
        return CallContext(
            call.tool,
            call.id,
            session.id,
            session.tenant,
            session.environment,
            token,
            values,
        )


def needs_secrets(policy: CompiledPolicy, tool: str) -> bool:
    creds = policy.spec.credentials
    wanted = creds.tools.get(tool) if creds is not None else None
    return wanted is not None and bool(wanted.secrets)
