"""What a tool receives besides its arguments while the gate executes it: ``call_context()``.

The gate binds a ``CallContext`` around each execution (a context variable, carried into the
worker thread of a synchronous tool). It holds the call's scoped credential and the secrets the
policy gives the tool; outside a gated execution there is none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from proctor.errors import CredentialError
from proctor.model import Environment


@dataclass(frozen=True)
class CallContext:
    """One execution: which tool, for which session, tenant and environment, with which
    credential (``token``, None when the gate mints none) and secrets."""

    tool: str
    call_id: str
    session_id: str
    tenant: str
    environment: Environment
    token: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def secret(self, name: str) -> str:
        """The value of the secret the policy gives this tool under ``name``."""
        try:
            return self.secrets[name]
        except KeyError:
            known = ", ".join(sorted(self.secrets)) or "none"
            raise CredentialError(
                f"tool {self.tool!r} has no secret {name!r} (the policy gives it: {known})"
            ) from None

    @property
    def sensitive_values(self) -> tuple[str, ...]:
        """Every value that must never reach the model: the secrets and the credential."""
        return (*self.secrets.values(), *((self.token,) if self.token else ()))


_CURRENT: ContextVar[CallContext | None] = ContextVar("proctor_call_context", default=None)


def call_context() -> CallContext:
    """The context of the gated call executing here. Raises ``CredentialError`` elsewhere."""
    ctx = _CURRENT.get()
    if ctx is None:
        raise CredentialError("no gated call is executing here (call the tool through the gate)")
    return ctx


@contextmanager
def bound(ctx: CallContext) -> Iterator[CallContext]:
    """Bind ``ctx`` for the duration of the block (the gate's execute step)."""
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
