"""The leak filter, adversarially: whatever values tenants and subjects store, a text carrying
one that only others own is refused, and a text of one's own values never is."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.errors import MemoryLeakError
from proctor.memory import Origin, Scope

TENANTS = ["acme", "globex", "initech"]
SUBJECTS = [None, "C-1", "C-2"]


def value(kind: str, n: int) -> str:
    if kind == "email":
        return f"person{n}" + "@example.com"
    if kind == "phone":
        return f"+44 20 7946 {n:04d}"
    return "GB" + f"{(n % 89) + 10:02d}" + "WEST" + f"{n:014d}"


@pytest.fixture
def memory(sqlite_url, make_memory):
    return make_memory(sqlite_url)


@pytest.fixture
def owners() -> dict[str, set[tuple[str, str | None]]]:
    return {}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(TENANTS),
            st.sampled_from(SUBJECTS),
            st.sampled_from(["email", "phone", "iban"]),
            st.integers(0, 30),
        ),
        max_size=8,
    ),
    reader=st.tuples(st.sampled_from(TENANTS), st.sampled_from(SUBJECTS)),
    probe=st.tuples(st.sampled_from(["email", "phone", "iban"]), st.integers(0, 30)),
)
def test_a_value_only_others_own_never_enters(memory, owners, writes, reader, probe):
    for tenant, subject, kind, n in writes:
        v = value(kind, n)
        try:
            memory.put(
                Scope(tenant, "w", "bot", subject), f"on file: {v}", origin=Origin.principal()
            )
        except MemoryLeakError:
            continue  # another tenant or subject owned it first: refused, not stored
        owners.setdefault(v, set()).add((tenant, subject))
    tenant, subject = reader
    v = value(*probe)
    reasons = memory.leaks.reasons(f"the record says {v}", tenant, subject)
    known = owners.get(v, set())
    mine = {s for t, s in known if t == tenant}
    bound = {s for s in mine if s is not None}
    if not known:
        assert reasons == ()  # nobody's: nothing to attribute
    elif not mine:
        assert reasons, f"{v} of {known} entered {tenant}"
        assert "another tenant" in reasons[0]
    elif subject is not None and bound and subject not in bound:
        assert reasons, f"{v} of {known} entered {tenant}/{subject}"
        assert "another subject" in reasons[0]
    else:
        assert reasons == ()
    assert v not in " ".join(reasons)  # the reasons never quote the value
