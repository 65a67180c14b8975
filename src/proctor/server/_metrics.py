"""Prometheus metrics of one gateway process (its own registry: several apps in one process,
as in tests, do not collide)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "proctor_http_requests",
            "HTTP requests by route and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "proctor_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.verdicts = Counter(
            "proctor_decisions",
            "Gate verdicts by endpoint (decide, call), agent and verdict.",
            ["endpoint", "agent", "verdict"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "proctor_refusals",
            "Requests refused before the gate: authentication, role, rate, size.",
            ["reason"],
            registry=self.registry,
        )


class Measure:
    """ASGI middleware: count and time every request by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = str(getattr(route, "path", "unmatched"))
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
            self.metrics.requests.labels(path, scope.get("method", ""), str(status)).inc()
