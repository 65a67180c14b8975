"""Data access controls: what ingest costs with PII and secret detection and masking, a 50-field
JSON record through the field rules, and the tokenization vault's round trip.

Run with ``make bench``. Prints p50 and p99; asserts nothing (timings depend on the machine).
Targets on the 2-core development machine: <= 2 ms p50 for 1 KB of free text, <= 100 us for a
token round trip (tokenize a new value, then detokenize it).

"gate.call, detokenized" is a whole call whose argument is a token the tool may see in clear:
detokenized, judged again on the clear value (constraints, schema), and the tool's output,
which echoes the value, turned back into the token; "no token" is the same call without one.

"view" is ``DataAccess.view_sync``: Presidio's regex recognizers (email, phone, card, IBAN, SSN,
IP) behind cheap triggers, our secret detectors and detect-secrets' 22 regex plugins, overlap
resolution and masking or tokenization. "gate.ingest" adds flow control's labeling, value
indexing and spotlighting (the whole ``Gate.ingest``). Texts are support-ticket prose with a
few values of each kind; "clean" has none. Tokens are sealed with AES-256-GCM; the memory store
is one process's dict, the SQL stores write one transaction per ``tokenize`` (SQLite with
``synchronous=FULL``, PostgreSQL at its defaults in a scratch schema, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from proctor import Gate, load_policy_text
from proctor.store import create_store_engine, migrate
from proctor.store.testing import fresh_schema, postgres_unreachable
from proctor.vault import DataClass, Keyring, SqlVaultStore, Vault

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support@example.test}
environments: {production: {max_autonomy: write}}
tools:
  crm.get: {autonomy: read, args: {id: string}, output: {trust: trusted}}
  email.send:
    autonomy: write
    args: {to: string, body: string}
    constraints:
      - {id: email.domain, when: 'args.to.endsWith("@blocked.example")', verdict: deny}
data:
  resources:
    customer:
      tools: [crm.get]
      tenant_field: tenant
      fields:
        email: customer
        phone: customer
        name: customer
        card: financial
        iban: financial
        ssn: regulated
        salary: employee
        token: secret
  access:
    classes: {customer: masked, financial: tokenized, regulated: none}
    fields: {customer.email: tokenized}
  detokenize:
    email.send: [customer]
"""

PROSE = (
    "the customer wrote again about the refund for order and asked whether the card on file "
    "could be charged next week instead since the previous attempt failed twice with an error "
    "message that mentioned the billing address please check the account history before "
    "replying and note that the ticket was escalated by the night shift"
)
WORDS = tuple(PROSE.split(" "))


def _prose(rng: random.Random, size: int, values: list[str]) -> str:
    """About ``size`` characters of prose with one of ``values`` every 150 characters."""
    out: list[str] = []
    length, since, i = 0, 0, 0
    while length < size:
        if values and since >= 150:
            word, since, i = values[i % len(values)], 0, i + 1
        else:
            word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
        since += len(word) + 1
    return " ".join(out)


def _key() -> str:
    return "sk-" + "proj-" + "Xq4" * 16


VALUES = [
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "4242 4242 4242 4242",
    "GB82 WEST 1234 5698 7654 32",
    "203.0.113.42",
    "password: hunter2hunter2",
]


def _record(rng: random.Random) -> dict[str, object]:
    rec: dict[str, object] = {
        "tenant": "acme",
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
        "phone": "+44 20 7946 0958",
        "card": "4242424242424242",
        "iban": "GB82WEST12345698765432",
        "ssn": "536-22-4242",
        "salary": 64000,
        "token": _key(),
    }
    for i in range(50 - len(rec)):
        rec[f"field_{i:02d}"] = (
            rng.randint(1, 10_000) if i % 3 == 0 else " ".join(rng.choices(WORDS, k=6))
        )
    return rec


def _time(fn: Callable[[], object], n: int, warmup: int = 20) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    return statistics.median(samples) / 1000, samples[min(n - 1, int(n * 0.99))] / 1000


def _row(name: str, p50: float, p99: float, target: str = "") -> None:
    print(f"  {name:<46} p50 {p50:>9.1f} us   p99 {p99:>9.1f} us   {target}")


def _round_trip(vault: Vault, n: int) -> tuple[float, float]:
    counter = iter(range(10**9))

    def once() -> None:
        value = f"user{next(counter)}@example.com"
        tok = vault.tokenize("acme", "ses_bench", "email", DataClass.CUSTOMER, value)
        vault.detokenize(tok, tenant="acme", session_id="ses_bench")

    return _time(once, n)


def main() -> None:
    rng = random.Random(7)
    gate = Gate(load_policy_text(POLICY))
    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    data = gate.data
    texts = {
        "1 KB text, PII and secrets": _prose(rng, 1024, [*VALUES, _key()]),
        "1 KB text, clean": _prose(rng, 1024, []),
        "10 KB text, PII and secrets": _prose(rng, 10240, [*VALUES, _key()]),
        "10 KB text, clean": _prose(rng, 10240, []),
    }
    print("ingest (data access controls), per piece of content")
    for name, text in texts.items():
        found = len(data.view_sync(session, text, "email").report.findings)
        n = 100 if len(text) > 5000 else 500
        _row(
            f"view {name} ({found} found)",
            *_time(lambda t=text: data.view_sync(session, t, "email"), n),
            "target <= 2000 us p50" if name.startswith("1 KB text, PII") else "",
        )
    one_kb = texts["1 KB text, PII and secrets"]
    _row(
        "gate.ingest 1 KB text (view + flow labels)",
        *_time(lambda: gate.ingest(session, one_kb, "email"), 300),
    )
    _row(
        "  of which flow labels alone (gate.flow.ingest)",
        *_time(lambda: asyncio.run(gate.flow.ingest(session, one_kb, "email")), 300),
    )
    record = _record(rng)
    _row(
        "view JSON record, 50 fields",
        *_time(lambda: data.view_sync(session, record, "tool:crm.get"), 500),
    )
    _row(
        "gate.ingest JSON record, 50 fields",
        *_time(lambda: gate.ingest(session, record, "tool:crm.get"), 300),
    )
    print("a call whose argument is a token the tool may see in clear (fresh sessions)")
    calls = gate.open_session("support-bot", principal="ticket:T-2", tenant="acme")
    plain = gate.open_session("support-bot", principal="ticket:T-3", tenant="acme")
    token = data.view_sync(calls, record, "tool:crm.get").content["email"]

    @gate.tool("email.send")
    def send(to: str, body: str) -> str:
        return f"queued for {to}"  # echoes the clear value: turned back into the token

    _row(
        "gate.call, detokenized, judged again, echo",
        *_time(lambda: gate.call(calls, "email.send", {"to": token, "body": "hi"}), 300),
    )
    _row(
        "gate.call, same tool, no token",
        *_time(lambda: gate.call(plain, "email.send", {"to": "x", "body": "hi"}), 300),
    )
    gate.close()

    print("token round trip (tokenize a new value, then detokenize it)")
    _row("memory store", *_round_trip(Vault.ephemeral(), 5000), "target <= 100 us p50")
    mem = Vault.ephemeral()
    tok = mem.tokenize("acme", "s", "email", DataClass.CUSTOMER, "a@example.com")
    _row(
        "memory store, value already tokenized",
        *_time(
            lambda: mem.detokenize(
                mem.tokenize("acme", "s", "email", DataClass.CUSTOMER, "a@example.com"),
                tenant="acme",
                session_id="s",
            ),
            5000,
        ),
    )
    assert tok
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_store_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        _row(
            "SQLite (synchronous=FULL)",
            *_round_trip(Vault(SqlVaultStore(engine), Keyring.generate()), 500),
        )
        engine.dispose()
    reason = postgres_unreachable()
    if reason is not None:
        print(f"  PostgreSQL: skipped ({reason})")
        return
    with fresh_schema(prefix="proctor_bench") as url:
        engine = create_store_engine(url)
        migrate(engine)
        _row("PostgreSQL", *_round_trip(Vault(SqlVaultStore(engine), Keyring.generate()), 500))
        engine.dispose()


if __name__ == "__main__":
    main()
