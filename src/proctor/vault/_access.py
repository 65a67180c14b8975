"""``DataAccess``: the gate's data access controls, at the two places data moves.

- ``view``: content entering a session (``Gate.ingest``, and every tool output) becomes what
  the model may see: out-of-scope records dropped, classified fields in their form, PII and
  secrets in free text masked, tokenized or withheld; secrets the gate resolved for the call
  masked wherever they are echoed.
- ``detokenize``: at execution time, inside the gate, the tokens in a tool's arguments become
  clear values, if the policy lets that tool see their class. Tokens of another tenant or
  session are refused (the call does not run). It says which clear values it handed out, so
  that ``view`` turns them back into their tokens wherever the tool echoes them.

Both return a ``DataReport`` for the audit; neither ever logs a value.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.errors import VaultError
from proctor.flow._labels import PRINCIPAL_SOURCES
from proctor.model import Session
from proctor.policy import PolicySet
from proctor.vault._classes import DataClass, Form
from proctor.vault._digest import KeyedDigest
from proctor.vault._report import DataReport, FieldRead
from proctor.vault._retoken import NO_TOKENS, Retokenizer
from proctor.vault._rules import Rules
from proctor.vault._scan import TextScanner
from proctor.vault._vault import TOKEN, Vault
from proctor.vault._view import View, Viewer


@dataclass(frozen=True, slots=True)
class Detokenization:
    """A tool's arguments with clear values where allowed; ``args`` is None if a token was
    refused (the call must not run). ``tokens``: each clear value handed out, and its token
    (empty: the arguments are unchanged)."""

    args: dict[str, Any] | None
    report: DataReport
    tokens: Mapping[str, str] = field(default_factory=dict)

    def retoken(self, text: str) -> str:
        """``text`` with every clear value handed out replaced by its token."""
        return Retokenizer(self.tokens)(text) if self.tokens else text


class DataAccess:
    """Data access controls for every policy of a gate.

    ``vault``: where tokens live (default: in memory, for this process). ``scanner``: the
    detectors (default: every secret detector, and the PII detectors if any policy has a
    ``data`` section with ``scan_text``; building those needs ``proctor[pii]``, and fails
    here, at construction, rather than at the first ingest). ``digest``: keys the digests
    alerts carry (default: derived from the vault's keyring).
    """

    def __init__(
        self,
        policies: PolicySet,
        *,
        vault: Vault | None = None,
        scanner: TextScanner | None = None,
        digest: KeyedDigest | None = None,
    ) -> None:
        self.policies = policies
        self.vault = vault if vault is not None else Vault.ephemeral()
        pii = any(p.spec.data is not None and p.spec.data.scan_text for p in policies.policies)
        self.scanner = scanner if scanner is not None else TextScanner.default(pii=pii)
        self.digest = digest if digest is not None else KeyedDigest.from_keyring(self.vault.keyring)
        self._viewer = Viewer(self.scanner, self.digest)
        self._rules: dict[tuple[str, str], Rules] = {}

    def rules(self, session: Session) -> Rules:
        pol = self.policies.require(session.agent, session.environment)
        key = (pol.name, session.tenant)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = Rules(pol.spec.data, session.tenant)
        return found

    # -- content entering a session --------------------------------------------------------

    def view_sync(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        known: tuple[str, ...] = (),
        tokens: Mapping[str, str] | None = None,
    ) -> View:
        """What the model may see of ``content`` from ``source``. Tokens it mints are stored
        before it returns. Raises ``DataAccessError`` for an output that does not have the
        declared shape (the gate withholds it). ``known``: values masked as secrets wherever
        they appear (the call's secrets and credential); ``tokens``: clear values the tool
        was given (``Detokenization.tokens``), turned back into their tokens."""
        rules = self.rules(session)
        with self.vault.batch(session.tenant, session.id) as batch:
            return self._viewer.view(
                session,
                rules,
                batch,
                content,
                source,
                principal=source in PRINCIPAL_SOURCES,
                known=known,
                retoken=Retokenizer(tokens) if tokens else NO_TOKENS,
            )

    async def view(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        known: tuple[str, ...] = (),
        tokens: Mapping[str, str] | None = None,
    ) -> View:
        view = functools.partial(self.view_sync, known=known, tokens=tokens)
        if self.vault.blocking:
            return await asyncio.to_thread(view, session, content, source)
        return view(session, content, source)

    # -- a tool's arguments, at execution time ----------------------------------------------

    def detokenize_sync(
        self, session: Session, tool: str, args: Mapping[str, Any]
    ) -> Detokenization:
        """``args`` with the tokens of the classes ``tool`` may see in clear replaced by their
        values. Other tokens stay tokens. A token of another tenant or session (or unknown)
        refuses the whole call: ``args`` is None and the report says why."""
        allowed = self.rules(session).clear_for(tool)
        source = f"tool:{tool}"
        if not allowed:
            return Detokenization(dict(args), DataReport("execute", source))
        reads: Counter[tuple[str, DataClass]] = Counter()
        refused: list[str] = []
        tokens: dict[str, str] = {}

        def clear(value: Any, name: str) -> Any:
            if isinstance(value, str):
                return TOKEN.sub(lambda m: swap(m.group(0), name), value)
            if isinstance(value, dict):
                return {k: clear(v, name) for k, v in value.items()}
            if isinstance(value, list):
                return [clear(v, name) for v in value]
            return value

        def swap(token: str, name: str) -> str:
            try:
                found = self.vault.detokenize(token, tenant=session.tenant, session_id=session.id)
            except VaultError as exc:
                refused.append(f"argument {name!r}: {exc}")
                return token
            if found.data_class not in allowed:
                return token
            reads[(name, found.data_class)] += 1
            tokens.setdefault(found.value, token)
            return found.value

        out = {name: clear(value, name) for name, value in args.items()}
        report = DataReport(
            "execute",
            source,
            tuple(
                FieldRead(None, f"arg.{name}", cls, Form.CLEAR, n)
                for (name, cls), n in sorted(reads.items())
            ),
            refused=tuple(refused),
        )
        return Detokenization(None if refused else out, report, tokens)

    async def detokenize(
        self, session: Session, tool: str, args: Mapping[str, Any]
    ) -> Detokenization:
        if self.vault.blocking and self.rules(session).clear_for(tool):
            return await asyncio.to_thread(self.detokenize_sync, session, tool, args)
        return self.detokenize_sync(session, tool, args)
