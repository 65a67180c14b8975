"""Fixtures for flow tests: a gate on the mailer policy, a session, and a transcript."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import proctor
from proctor import Gate, Session

from ._transcript import POLICY, Transcript


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate(proctor.load_policy_text(POLICY))
    yield g
    g.close()


@pytest.fixture
def make_gate() -> Iterator[Callable[..., Gate]]:
    made: list[Gate] = []

    def make(policy: str = POLICY, **kwargs: Any) -> Gate:
        g = Gate(proctor.load_policy_text(policy), **kwargs)
        made.append(g)
        return g

    yield make
    for g in made:
        g.close()


@pytest.fixture
def session(gate: Gate) -> Session:
    return gate.open_session("mailer", principal="u:1", tenant="acme")


@pytest.fixture
def t(gate: Gate, session: Session) -> Transcript:
    return Transcript(gate, session)
