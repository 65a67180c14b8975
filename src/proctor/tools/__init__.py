"""Tool registry, schemas, rate limiting and circuit breaking."""

from __future__ import annotations

from proctor.tools._breaker import BreakerState, CircuitBreaker
from proctor.tools._ratelimit import RateCounter, RateLimiter
from proctor.tools._registry import Tool, check_against_policy, tool_from_function

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "RateCounter",
    "RateLimiter",
    "Tool",
    "check_against_policy",
    "tool_from_function",
]
