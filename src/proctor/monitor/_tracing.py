"""OpenTelemetry spans for the gate's pipeline: one ``proctor.call`` span per call, and one
child span per step (``proctor.checks``, ``proctor.evaluate``, ``proctor.record``,
``proctor.execute``...). Spans carry the agent, tool, session and, on the call span, the
verdict and rule ids; never an argument value.

``Tracing.from_env()`` exports over OTLP/HTTP when ``PROCTOR_OTLP_ENDPOINT`` is set (the
``otlp`` extra); otherwise spans go to the process's global tracer provider (a no-op unless the
application configured OpenTelemetry). Tests pass a provider with an in-memory exporter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from proctor.errors import MonitorError

TRACER = "proctor.gate"


class Tracing:
    """Where the gate's spans go."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        self.provider = provider
        self.tracer = (
            provider.get_tracer(TRACER) if provider is not None else trace.get_tracer(TRACER)
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tracing:
        """``PROCTOR_OTLP_ENDPOINT`` (e.g. ``http://127.0.0.1:4318/v1/traces``): export there,
        in batches, as service ``PROCTOR_SERVICE_NAME`` (default ``proctor``). Unset: the
        global provider."""
        env = os.environ if environ is None else environ
        endpoint = env.get("PROCTOR_OTLP_ENDPOINT")
        if not endpoint:
            return cls()
        return cls.otlp(endpoint, service=env.get("PROCTOR_SERVICE_NAME") or "proctor")

    @classmethod
    def otlp(cls, endpoint: str, *, service: str = "proctor") -> Tracing:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MonitorError(
                "PROCTOR_OTLP_ENDPOINT is set but the OTLP exporter is not installed: "
                "pip install 'proctor[otlp]'"
            ) from exc
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        return cls(provider)

    def shutdown(self) -> None:
        """Export what is buffered and stop (a provider this object made)."""
        if isinstance(self.provider, TracerProvider):
            self.provider.shutdown()
