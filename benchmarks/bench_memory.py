"""Agent memory: put and scoped keyword search latency with 1,000,000 items across 1,000
tenants, on SQLite and on PostgreSQL.

Run with ``make bench`` (or ``python benchmarks/bench_memory.py --items 100000`` for a quicker
run). Prints p50 and p99; asserts nothing (timings depend on the machine). Target: scoped
keyword search p99 <= 20 ms.

The store is seeded in bulk (one transaction per tenant, with the tenant set as the gateway
sets it): 1,000 items per tenant over 2 workspaces, 50 subjects and items about none, texts of
8 to 15 words from a 2,000-word vocabulary. Then:

- "put" is ``Memory.put`` as the API runs it (leak filter lookup, instruction detectors, one
  insert transaction; no audit log), with a trusted origin;
- "search" is ``Memory.search`` in a random scope (tenant, workspace, agent, subject) for one or
  two random vocabulary words: the scoped query, then ranking;
- "get" is ``Memory.get`` of a known item in its scope;
- "vector" and "hybrid" are ``Memory.search(..., mode=...)`` in random scopes of the first
  ``--vector-tenants`` tenants (100 by default), whose items are seeded with 384-dimension
  vectors (MiniLM's size) of ``HashingEmbedder``: the scoped query, reading the vectors, brute
  force cosine ranking. Embedding the query with ``HashingEmbedder`` takes microseconds; a real
  MiniLM adds its own inference time (milliseconds on a CPU), not measured here.

PostgreSQL runs as an ordinary role that owns the tables, so that row-level security applies
to every query measured (a superuser would bypass it); a scratch schema and role are dropped
afterwards. SQLite is one file in WAL mode with ``synchronous=FULL``.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from proctor.flow import normalize
from proctor.memory import HashingEmbedder, Memory, MemoryStore, Origin, Scope, SearchMode
from proctor.memory._vectors import embed_one
from proctor.store import create_store_engine, memory_items, migrate
from proctor.store.testing import fresh_schema, postgres_unreachable
from proctor.vault import KeyedDigest

WORKSPACES = ("retail", "loans")
SUBJECTS = 50
DAY = 86400.0
EMBEDDER = HashingEmbedder(384)


def vocabulary(n: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    return sorted(words)


def seed(
    store: MemoryStore,
    items: int,
    tenants: int,
    words: list[str],
    rng: random.Random,
    vector_tenants: int = 0,
) -> None:
    per = items // tenants
    now = time.time()
    n = 0
    for t in range(tenants):
        tenant = f"tenant-{t:04d}"
        rows = []
        for i in range(per):
            body = " ".join(rng.choice(words) for _ in range(rng.randint(8, 15)))
            subject = None if i % 5 == 0 else f"C-{rng.randrange(SUBJECTS)}"
            rows.append(
                {
                    "id": f"mem_{secrets.token_hex(8)}",
                    "tenant": tenant,
                    "workspace": WORKSPACES[i % 2],
                    "agent": "support-bot",
                    "subject": subject,
                    "kind": "note",
                    "text": body,
                    "search_text": normalize(body),
                    "status": "active",
                    "trust": "trusted",
                    "confidentiality": "internal",
                    "source": "operator",
                    "session_id": None,
                    "audit_id": None,
                    "provenance": '{"contents": [], "findings": []}',
                    "created_at": now - rng.random() * 30 * DAY,
                    "expires_at": now + 90 * DAY,
                    "reviewed_by": None,
                    "reviewed_at": None,
                    "embedding_model": EMBEDDER.name if t < vector_tenants else None,
                    "embedding": embed_one(EMBEDDER, body, "seed") if t < vector_tenants else None,
                }
            )
        with store.transaction(tenant, write=True) as conn:
            conn.execute(memory_items.insert(), rows)
        n += per
        if (t + 1) % max(1, tenants // 10) == 0:
            print(f"  seeded {n:,} items", flush=True)
    if store.postgres:
        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE proctor_memory_items"))
            conn.commit()


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(label: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"  {label:<28} n={len(ms):<6} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")


def run(
    url: str, name: str, items: int, tenants: int, queries: int, puts: int, vector_tenants: int
) -> None:
    rng = random.Random(7)
    words = vocabulary(2000, rng)
    engine = create_store_engine(url)
    migrate(engine)
    store = MemoryStore(engine)
    print(
        f"{name}: seeding {items:,} items across {tenants:,} tenants "
        f"(row-level security applies: {store.rls_enforced()})"
    )
    t0 = time.perf_counter()
    vector_tenants = min(vector_tenants, tenants)
    seed(store, items, tenants, words, rng, vector_tenants)
    print(f"  seeded in {time.perf_counter() - t0:.1f} s")
    memory = Memory(store, digest=KeyedDigest(b"b" * 32, "bench"), embedder=EMBEDDER)

    def scope(among: int = tenants) -> Scope:
        subject = None if rng.random() < 0.2 else f"C-{rng.randrange(SUBJECTS)}"
        return Scope(
            f"tenant-{rng.randrange(among):04d}", rng.choice(WORKSPACES), "support-bot", subject
        )

    def search() -> object:
        return memory.search(scope(), " ".join(rng.sample(words, rng.randint(1, 2))))

    hits = [len(memory.search(scope(), rng.choice(words))) for _ in range(200)]
    timed(search, 50)  # warm up
    report("search (scoped keyword)", timed(search, queries))
    print(f"  (a one-word search returns {statistics.mean(hits):.1f} items on average)")
    if vector_tenants:
        modes: tuple[SearchMode, ...] = ("vector", "hybrid")
        for mode in modes:

            def near(mode: SearchMode = mode) -> object:
                query = " ".join(rng.sample(words, rng.randint(1, 2)))
                return memory.search(scope(vector_tenants), query, mode=mode)

            timed(near, 20)
            report(f"search (scoped {mode})", timed(near, queries))
    known = [(memory.put(scope(), "seed for get", origin=Origin.principal())) for _ in range(50)]
    report(
        "get (in scope)",
        timed(lambda: memory.get(rng.choice(known).scope, rng.choice(known).id), queries),
    )
    body = " ".join(rng.choice(words) for _ in range(12))
    report(
        "put (detectors + insert)",
        timed(lambda: memory.put(scope(), body, origin=Origin.principal()), puts),
    )
    engine.dispose()


@contextmanager
def app_role(pg_url: str) -> Iterator[str]:
    """An ordinary role owning ``pg_url``'s schema (row-level security applies to it)."""
    role = f"proctor_bench_{secrets.token_hex(4)}"
    url = make_url(pg_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"'))
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}" CASCADE'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--tenants", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=2_000)
    ap.add_argument("--puts", type=int, default=300)
    ap.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    ap.add_argument("--vector-tenants", type=int, default=100)
    args = ap.parse_args()
    sizes = (args.items, args.tenants, args.queries, args.puts, args.vector_tenants)
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'memory.db'}"
            run(url, "sqlite", *sizes)
    if args.only != "sqlite":
        reason = postgres_unreachable()
        if reason is not None:
            print(f"postgres: skipped ({reason})")
            return
        with fresh_schema(prefix="proctor_bench") as pg, app_role(pg) as url:
            run(url, "postgres", *sizes)


if __name__ == "__main__":
    main()
