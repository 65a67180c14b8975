"""RateLimiter: exact sliding windows; acquire is atomic across rules and across threads."""

from __future__ import annotations

import threading

import pytest

import proctor
from proctor.tools import RateLimiter

POLICY = """
version: 1
agent: {name: bot, role: svc-bot, owner: team@acme.test}
environments: {production: {max_autonomy: read}}
defaults:
  rate_limits: {per_session: 3/minute}
tools:
  web.search:
    autonomy: read
    rate_limit: {per_session: 2/minute, per_agent: 5/hour}
  web.fetch:
    autonomy: read
"""


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limiter(clock):
    return RateLimiter(clock)


@pytest.fixture(scope="module")
def policy():
    return proctor.load_policy_text(POLICY)


@pytest.fixture
def search_rules(policy):
    return policy.rate_rules_for("web.search")


@pytest.fixture
def fetch_rules(policy):
    return policy.rate_rules_for("web.fetch")


def test_rules_of_a_tool_include_the_session_wide_ones(search_rules, fetch_rules):
    assert [r.id for r in search_rules] == [
        "rate.web.search.session",
        "rate.web.search.agent",
        "rate.session",
    ]
    assert [r.id for r in fetch_rules] == ["rate.session"]


def test_usage_starts_at_zero_and_counts_acquisitions(limiter, search_rules):
    assert limiter.usage(search_rules, "bot", "s1") == {
        "rate.web.search.session": 0,
        "rate.web.search.agent": 0,
        "rate.session": 0,
    }
    assert limiter.acquire(search_rules, "bot", "s1") is None
    assert limiter.usage(search_rules, "bot", "s1") == {
        "rate.web.search.session": 1,
        "rate.web.search.agent": 1,
        "rate.session": 1,
    }
    assert limiter.usage(search_rules, "bot", "s2") == {
        "rate.web.search.session": 0,
        "rate.web.search.agent": 1,  # the agent's counter spans sessions
        "rate.session": 0,
    }


def test_usage_does_not_consume(limiter, search_rules):
    for _ in range(10):
        limiter.usage(search_rules, "bot", "s1")
    assert limiter.acquire(search_rules, "bot", "s1") is None


def test_full_rule_is_returned_and_nothing_is_recorded(limiter, search_rules):
    assert limiter.acquire(search_rules, "bot", "s1") is None
    assert limiter.acquire(search_rules, "bot", "s1") is None
    full = limiter.acquire(search_rules, "bot", "s1")
    assert full is not None
    assert full.id == "rate.web.search.session"
    usage = limiter.usage(search_rules, "bot", "s1")
    assert usage == {"rate.web.search.session": 2, "rate.web.search.agent": 2, "rate.session": 2}


def test_session_wide_rule_is_shared_by_tools(limiter, search_rules, fetch_rules):
    assert limiter.acquire(search_rules, "bot", "s1") is None
    assert limiter.acquire(fetch_rules, "bot", "s1") is None
    assert limiter.acquire(fetch_rules, "bot", "s1") is None
    full = limiter.acquire(search_rules, "bot", "s1")
    assert full is not None
    assert full.id == "rate.session"
    assert limiter.usage(search_rules, "bot", "s1")["rate.web.search.session"] == 1


def test_agent_rule_spans_sessions(limiter, search_rules):
    for i in range(5):
        assert limiter.acquire(search_rules, "bot", f"s{i}") is None
    full = limiter.acquire(search_rules, "bot", "s9")
    assert full is not None
    assert full.id == "rate.web.search.agent"
    assert limiter.acquire(search_rules, "other-bot", "s9") is None


def test_window_slides(limiter, search_rules, clock):
    rules = search_rules[:1]  # 2/minute per session
    assert limiter.acquire(rules, "bot", "s1") is None  # t = 0
    clock.now += 40
    assert limiter.acquire(rules, "bot", "s1") is None  # t = 40
    clock.now += 19.999
    assert limiter.acquire(rules, "bot", "s1") is not None
    clock.now += 0.001  # t = 60: the first call leaves the window
    assert limiter.usage(rules, "bot", "s1") == {"rate.web.search.session": 1}
    assert limiter.acquire(rules, "bot", "s1") is None
    clock.now += 1000
    assert limiter.usage(rules, "bot", "s1") == {"rate.web.search.session": 0}


def test_no_rules_always_acquires(limiter):
    assert limiter.acquire((), "bot", "s1") is None
    assert limiter.usage((), "bot", "s1") == {}


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_acquire_grants_exactly_the_limit(limiter, policy, round_):
    rules = policy.rate_rules_for("web.search")[1:2]  # 5/hour per agent
    threads = 32
    barrier = threading.Barrier(threads)
    granted = []
    lock = threading.Lock()

    def worker(i):
        barrier.wait(timeout=10)
        full = limiter.acquire(rules, "bot", f"s{i}")
        with lock:
            granted.append(full is None)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert len(granted) == threads
    assert granted.count(True) == 5
    assert limiter.usage(rules, "bot", "any") == {"rate.web.search.agent": 5}
