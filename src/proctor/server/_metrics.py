"""Prometheus metrics of one gateway process (its own registry: several apps in one process,
as in tests, do not collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
