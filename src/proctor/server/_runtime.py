"""``Gateway``: one gateway process's parts, wired once: the store, the audit log, the approval
queue, the shared state, the gate (with the policy's HTTP tools registered), sessions and keys.

The API handlers call this and the gate; nothing here decides anything the gate decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import text

from proctor.approvals import ApprovalSettings, ApprovalWorker
from proctor.audit import AuditHook
from proctor.budgets import BudgetLedger, RedisLedger, SqlLedger
from proctor.credentials import CredentialBroker, CredentialSigner, EnvSecretBackend
from proctor.errors import GatewayConfigError
from proctor.gate import Gate
from proctor.hooks import GateHooks
from proctor.memory import Memory, deployment_digest, embedder_from_env
from proctor.policy import PolicySet, load_policies
from proctor.server._auth import Authenticator
from proctor.server._groupcommit import GroupCommitLog
from proctor.server._httptools import http_plans, http_tool
from proctor.server._pauses import CachedControls, GatewayQueue, memory_cache
from proctor.server._sessions import SessionStore
from proctor.server._settings import GatewaySettings
from proctor.server._state import LocalState, RedisState, SharedState
from proctor.store import create_store_engine, migrate
from proctor.types import Embedder

log = logging.getLogger("proctor.server")


class Gateway:
    """Everything one gateway process serves with. ``start()`` inside the serving event loop
    (it starts the approval worker); ``close()`` at shutdown."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        policies: PolicySet | None = None,
        hooks: tuple[GateHooks, ...] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        worker_interval: float = 1.0,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.policies = policies if policies is not None else load_policies(settings.policy)
        audit = settings.audit
        self.engine = create_store_engine(audit.store)
        migrate(self.engine)
        self.audit = GroupCommitLog(
            self.engine,
            audit.signer(),
            checkpoint_every=audit.checkpoint_every,
            checkpoint_seconds=audit.checkpoint_seconds,
        )
        self.state: SharedState
        if settings.redis_url:
            redis_state = RedisState(settings.redis_url, prefix=settings.redis_prefix)
            self.state = redis_state
        else:
            self.state = LocalState(settings.session_cache)
        conf = ApprovalSettings.from_env()
        self.queue = GatewayQueue(
            self.engine,
            audit=self.audit,
            notifier=conf.notifier(),
            max_break_glass_minutes=conf.max_break_glass_minutes,
        )
        self.queue.controls = CachedControls(
            self.queue.controls,
            self.state.sync if isinstance(self.state, RedisState) else memory_cache(),
            settings.pause_cache_seconds,
            settings.redis_prefix,
        )
        if isinstance(self.state, RedisState):
            self.queue.aio = self.state.aio
        # agent memory (/v1/memory, docs/memory.md): its fingerprints keyed as the CLI's are
        self.memory = Memory(
            self.engine,
            digest=deployment_digest(audit.store),
            policies=self.policies,
            audit=self.audit,
            embedder=embedder if embedder is not None else embedder_from_env(),
        )
        self.gate = Gate(
            self.policies,
            hooks=[AuditHook(self.audit), *hooks],
            approvals=self.queue,
            flow_store=self.state.flow,
            rates=self.state.rates,
            credentials=self._broker(),
            memory=self.memory,
            budgets=self._budgets(),
        )
        self.memory.vault = self.gate.data.vault  # whose tokens are whose: the gate's vault
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        for plan in http_plans(self.policies).values():
            self.gate.register(http_tool(plan, self.http_client))
        self.sessions = SessionStore(self.engine, self.state)
        self.auth = Authenticator(self.queue, settings.auth_cache_seconds)
        self._worker_interval = worker_interval
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task[None] | None = None

    def _broker(self) -> CredentialBroker | None:
        """A credential broker when a policy gives tools secrets: one environment per gateway
        (``PROCTOR_GATEWAY_ENVIRONMENT``, default production), secrets from the environment."""
        if not any(p.spec.credentials for p in self.policies.policies):
            return None
        import os

        env = os.environ.get("PROCTOR_GATEWAY_ENVIRONMENT") or "production"
        return CredentialBroker(
            env, backend=EnvSecretBackend(), signer=CredentialSigner.generate(env)
        )

    def _budgets(self) -> BudgetLedger:
        """Budgets in the SQL store every gateway process shares (durable: a restart refills
        nothing), or in Redis with ``PROCTOR_BUDGETS=redis`` (docs/budgets.md)."""
        import os

        where = os.environ.get("PROCTOR_BUDGETS") or "sql"
        if where == "sql":
            return SqlLedger(self.engine)
        if where == "redis" and isinstance(self.state, RedisState):
            return RedisLedger(self.state.sync, self.settings.redis_prefix + "budget:")
        raise GatewayConfigError(
            f"PROCTOR_BUDGETS={where!r}: expected 'sql', or 'redis' with PROCTOR_REDIS_URL set"
        )

    def http_client(self) -> httpx.AsyncClient:
        """The client HTTP tools send with (one per process, created in the serving loop)."""
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        return self._client

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the approval worker: it executes approved calls of HTTP tools (exactly once,
        whichever gateway process claims them first), expires requests, relays the outbox."""
        # the audit hook and the store calls wait in threads (a commit, shared by every request
        # that arrived meanwhile): enough of them that concurrent requests share one
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(64, thread_name_prefix="proctor-gateway"))
        worker = self.queue.worker()
        if worker is not None and self._worker_task is None:
            self._stop.clear()
            self._worker_task = asyncio.create_task(self._run(worker))

    async def _run(self, worker: ApprovalWorker) -> None:
        await worker.arun(self._worker_interval, self._stop)

    async def ready(self) -> dict[str, str]:
        """Each dependency's state: ``ok`` or why not."""
        checks: dict[str, str] = {}
        try:
            await asyncio.to_thread(self._ping_store)
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        if isinstance(self.state, RedisState):
            try:
                await self.state.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return checks

    def _ping_store(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def stop(self) -> None:
        self._stop.set()
        if self._worker_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._worker_task, 10)
            self._worker_task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if isinstance(self.state, RedisState):
            await self.state.aio.aclose()

    def close(self) -> None:
        """Release everything (after ``stop``)."""
        self.gate.close()
        try:
            self.queue.close()
        finally:
            self.state.close()
            self.audit.close()

    def describe(self) -> dict[str, Any]:
        return {
            "policies": len(self.policies.policies),
            "store": self.engine.dialect.name,
            "redis": isinstance(self.state, RedisState),
        }
