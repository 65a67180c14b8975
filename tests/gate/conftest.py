"""Fixtures for the gate pipeline tests: a fake clock and a gate factory that cleans up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import proctor
from proctor import Gate


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_gate(clock: FakeClock) -> Iterator[Callable[..., Gate]]:
    """``make_gate(policy_yaml, **gate_kwargs)``: a Gate on the fake clock, closed at teardown."""
    made: list[Gate] = []

    def make(policy: str, **kwargs: Any) -> Gate:
        kwargs.setdefault("clock", clock)
        gate = Gate(proctor.load_policy_text(policy), **kwargs)
        made.append(gate)
        return gate

    yield make
    for gate in made:
        gate.close()
