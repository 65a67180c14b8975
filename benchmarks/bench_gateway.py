"""The HTTP gateway under load: decisions per second and p50/p99 latency of
``POST /v1/sessions/ID/decide`` with the audit log on, against 1 and 2 ``proctor serve``
processes, on SQLite and on PostgreSQL + Redis.

Run with ``make bench`` (or ``python benchmarks/bench_gateway.py --seconds 10``). Prints
figures; asserts nothing. Every request is authenticated (an agent key), decided by the gate
(policy, flow, detectors, kill switch, rate limits) and recorded (a decision and an outcome
record, hash-chained, committed before the answer: concurrent requests share a commit). The
load generator runs on the same machine, keeping ``--connections`` keep-alive HTTP/1.1
connections busy, spread evenly over the gateway processes (and over sessions: one per
connection, or 8 per process with wrk): ``wrk`` (Debian's package, one thread per gateway
process) when it is on the PATH, else a minimal client on asyncio streams (httpx would cost
more CPU than the server). ``--client`` chooses; the line says which ran: the Python client
takes CPU from the servers. The machine's load average is printed before and after each run:
the machine is shared, and the figures move with it. The header also gives two readings of the
machine itself, taken just before the runs (``machine_reference``): the time of a fixed piece of
Python that is not Proctor's, and of a wake-up round trip between two threads; a second line
names the releases of Python and of the libraries a request passes through. The same code
has given 2,013 decisions/s on one day and 844 on another of these machines: compare figures of
different days only with these readings beside them.

The target on the 2-core development machine: >= 2,000 decisions/s with p99 <= 25 ms.
Each run is bounded: --seconds of load after 1 s of warm-up, and a 60 s start-up limit.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import queue
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path

import httpx

from proctor.approvals import ApprovalQueue, Role
from proctor.store import create_store_engine, migrate
from proctor.store.testing import fresh_schema, postgres_unreachable

PROCTOR = str(Path(sys.executable).parent / "proctor")
SEED = "be" * 32
POLICY = """
version: 1
agent: {name: bench-bot, role: svc-bench, owner: ops}
environments: {production: {max_autonomy: write}}
tools:
  orders.get:
    autonomy: read
    args: {order_id: string}
  payments.refund:
    autonomy: write
    args: {order_id: string, amount: number}
    constraints:
      - {id: refund.over-1000, when: "args.amount > 1000.0", verdict: deny}
"""
BODY = json.dumps({"tool": "payments.refund", "args": {"order_id": "O-1", "amount": 40.0}})


def machine_reference() -> tuple[float, float]:
    """Two readings of the machine, none of Proctor's code in them: (1) microseconds for a fixed
    piece of Python (the canonical JSON and SHA-256 of a 40-key record, best of 5 rounds), which
    follows the speed of the CPU; (2) microseconds for a round trip between two threads (one
    wakes the other, which wakes it back; the median of 2,000), which follows what the machine
    charges for waking a thread on another CPU: a gateway process wakes its audit writer and is
    woken back for every group of commits, and hands the GIL back and forth."""
    record = {f"field-{i}": [i, str(i) * 3, {"n": i / 7}] for i in range(40)}
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(2_000):
            text = json.dumps(record, sort_keys=True, separators=(",", ":"))
            hashlib.sha256(text.encode()).hexdigest()
        rounds.append((time.perf_counter() - start) / 2_000 * 1e6)
    ping: queue.SimpleQueue[float] = queue.SimpleQueue()
    pong: queue.SimpleQueue[float] = queue.SimpleQueue()

    def echo() -> None:
        while (item := ping.get()) >= 0:
            pong.put(item)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    trips = []
    for _ in range(2_000):
        start = time.perf_counter()
        ping.put(start)
        pong.get()
        trips.append((time.perf_counter() - start) * 1e6)
    ping.put(-1.0)
    thread.join()
    return min(rounds), statistics.median(trips)


STACK = (
    "uvicorn",
    "httptools",
    "uvloop",
    "starlette",
    "fastapi",
    "pydantic-core",
    "sqlalchemy",
    "psycopg",
    "redis",
    "hiredis",
    "cryptography",
)
"""The libraries a ``decide`` passes through, named in the header with their releases."""


def stack_versions() -> str:
    """Python's version and the installed release of each library in ``STACK`` ('-' when it is
    not installed): the virtual environment is built anew from version ranges, so figures of
    different days may come from different releases, and the header says which."""
    parts = [f"python {sys.version.split()[0]}"]
    for name in STACK:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} -")
    return ", ".join(parts)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _enroll(url: str) -> str:
    engine = create_store_engine(url)
    migrate(engine)
    queue = ApprovalQueue(engine)
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    key = queue.access.add("bench", [Role.AGENT], by=root)
    queue.grants.grant("bench", ["bench-bot"], ["acme"], by=root)
    queue.close()
    return f"bench:{key}"


def _start(
    n: int, policy: Path, env: dict[str, str]
) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    ports = [_port() for _ in range(n)]
    procs = [
        subprocess.Popen(  # noqa: S603 (our own console script, fixed arguments)
            [PROCTOR, "serve", "--policy", str(policy), "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in ports
    ]
    wait_ready(procs, ports, "/readyz", 60, "gateway")
    return procs, ports


def wait_ready(
    procs: list[subprocess.Popen[bytes]], ports: list[int], path: str, seconds: float, what: str
) -> None:
    """Wait until each server answers 200 on ``path``; stop them all and raise if one exits or
    the ``seconds`` pass first (with the end of its stderr, when it was piped)."""
    deadline = time.monotonic() + seconds
    for port, proc in zip(ports, procs, strict=True):
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
                _stop(procs)
                raise RuntimeError(f"{what} on port {port} did not start: {err[-2000:]}")
            time.sleep(0.1)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


async def _connection(
    port: int, path: str, key: str, start: float, stop: float, lat: list[float], out: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = BODY.encode()
    req = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Proctor-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    try:
        while (now := time.perf_counter()) < stop:
            writer.write(req)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            data = await reader.readexactly(length)
            if now >= start:
                lat.append(time.perf_counter() - now)
                code = status.split(b" ", 2)[1].decode()
                verdict = "ALLOW" if b'"verdict":"ALLOW"' in data else "other"
                out[f"{code} {verdict}"] = out.get(f"{code} {verdict}", 0) + 1
    finally:
        writer.close()


async def _load(ports: list[int], key: str, connections: int, seconds: float) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        sessions = []
        for i in range(connections):
            r = await client.post(
                f"http://127.0.0.1:{ports[i % len(ports)]}/v1/sessions",
                headers={"X-Proctor-Key": key},
                json={"agent": "bench-bot", "principal": f"user-{i}", "tenant": "acme"},
            )
            r.raise_for_status()
            sessions.append(r.json()["id"])
    lat: list[float] = []
    out: dict[str, int] = {}
    start = time.perf_counter() + 1.0  # warm-up
    stop = start + seconds
    await asyncio.gather(
        *(
            _connection(
                ports[i % len(ports)],
                f"/v1/sessions/{sessions[i]}/decide",
                key,
                start,
                stop,
                lat,
                out,
            )
            for i in range(connections)
        )
    )
    lat.sort()
    q = statistics.quantiles(lat, n=100) if len(lat) >= 100 else [float("nan")] * 99
    return {
        "n": len(lat),
        "rate": len(lat) / seconds,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "codes": out,
    }


WRK_SCRIPT = """
local paths = {%s}
local i = 0
local threads = {}
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Proctor-Key"] = "%s"
function setup(thread) table.insert(threads, thread) end
function init(args) allowed = 0; other = 0 end
function request()
  i = i + 1
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"verdict":"ALLOW"', 1, true) then
    allowed = allowed + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("allowed"); o = o + t:get("other") end
  io.write(string.format("PROCTOR %%d %%d %%d %%d %%d\\n", a, o,
    latency:percentile(50), latency:percentile(99), summary.duration))
end
"""


def _wrk_load(
    ports: list[int], key: str, connections: int, seconds: float, tmp: Path
) -> dict[str, object]:
    """The same load from ``wrk``: one wrk process (one thread) per gateway process."""
    paths: dict[int, list[str]] = {}
    for port in ports:
        sessions = [
            httpx.post(
                f"http://127.0.0.1:{port}/v1/sessions",
                headers={"X-Proctor-Key": key},
                json={"agent": "bench-bot", "principal": f"user-{i}", "tenant": "acme"},
            ).json()["id"]
            for i in range(8)
        ]
        paths[port] = [f"/v1/sessions/{s}/decide" for s in sessions]
    allowed, other, p50, p99 = wrk(paths, key, connections, seconds, tmp)
    n = allowed + other
    return {
        "n": n,
        "rate": n / seconds,
        "p50": p50,
        "p99": p99,
        "codes": {"200 ALLOW": allowed, "other": other} if other else {"200 ALLOW": allowed},
    }


def wrk(
    paths: dict[int, list[str]], key: str, connections: int, seconds: float, tmp: Path
) -> tuple[int, int, float, float]:
    """Run one ``wrk`` (one thread) per port, each posting ``BODY`` to its ``paths`` in turn
    from ``connections`` connections shared evenly; return the answers as expected (200
    ALLOW), the others, and the worst process's p50 and p99 in ms (wrk reports each run's
    own percentiles)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not on the PATH (Debian: apt-get install wrk)")
    runs = []
    for port, urls in paths.items():
        script = tmp / f"wrk-{port}.lua"
        script.write_text(WRK_SCRIPT % (",".join(f'"{u}"' for u in urls), json.dumps(BODY), key))
        conns = max(1, connections // len(paths))
        url = f"http://127.0.0.1:{port}"
        runs.append(
            subprocess.Popen(  # noqa: S603 (wrk from PATH, fixed arguments)
                [binary, "-t1", f"-c{conns}", f"-d{seconds:g}s", "-s", str(script), url],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    allowed = other = 0
    p50s: list[float] = []
    p99s: list[float] = []
    for run in runs:
        out = run.communicate(timeout=seconds + 60)[0]
        line = next((ln for ln in out.splitlines() if ln.startswith("PROCTOR ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result: {out[-2000:]}")
        a, o, p50, p99, _ = (int(x) for x in line.split()[1:])
        allowed, other = allowed + a, other + o
        p50s.append(p50 / 1000)
        p99s.append(p99 / 1000)
    return allowed, other, max(p50s), max(p99s)


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return float("nan")
    return total


def run(
    label: str,
    processes: int,
    env: dict[str, str],
    policy: Path,
    key: str,
    args: argparse.Namespace,
) -> None:
    procs, ports = _start(processes, policy, env)
    try:
        before = os.getloadavg()
        pids = [p.pid for p in procs]
        cpu0 = _cpu(pids)
        if args.client == "wrk":
            res = _wrk_load(ports, key, args.connections, args.seconds, policy.parent)
        else:
            res = asyncio.run(_load(ports, key, args.connections, args.seconds))
        cpu = _cpu(pids) - cpu0
        after = os.getloadavg()
    finally:
        _stop(procs)
    per = cpu * 1000 / max(1, int(res["n"]))  # includes the warm-up's requests: an upper bound
    print(
        f"{label:<16} {processes} proc {args.client:<6} {res['rate']:>7.0f} decisions/s  "
        f"p50 {res['p50']:>6.2f} ms  p99 {res['p99']:>6.2f} ms  server CPU {per:.2f} ms/decision"
        f"  ({res['n']} requests, {res['codes']}; load avg {before[0]:.2f} -> {after[0]:.2f})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="measured seconds per run")
    ap.add_argument("--connections", type=int, default=32, help="concurrent connections")
    ap.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    ap.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when it is on the PATH)",
    )
    args = ap.parse_args(argv)
    python_us, wake_us = machine_reference()
    print(
        f"gateway decide, audit log on: {args.connections} connections, {args.seconds:g} s per "
        f"run; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; machine: reference "
        f"Python {python_us:.1f} us, thread wake-up round trip {wake_us:.0f} us",
        flush=True,
    )
    print(f"releases: {stack_versions()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policies"
        policy.mkdir()
        (policy / "bench.yaml").write_text(POLICY)
        base = {
            **os.environ,
            "PROCTOR_AUDIT_SIGNING_KEY": SEED,
            "PROCTOR_DIGEST_KEY": SEED,  # memory's fingerprints: one key for every process
            "PROCTOR_GATEWAY_KEY_RATE": "1000000",
            "PROCTOR_GATEWAY_KEY_BURST": "1000000",
        }
        base.pop("PROCTOR_DATABASE_URL", None)
        base.pop("PROCTOR_REDIS_URL", None)
        if args.only in (None, "sqlite"):
            for n in (1, 2):
                db = Path(tmp) / f"sqlite-{n}.db"
                env = {**base, "PROCTOR_SQLITE_PATH": str(db)}
                key = _enroll(f"sqlite:///{db}")
                run("sqlite", n, env, policy, key, args)
        if args.only in (None, "postgres"):
            why = postgres_unreachable()
            redis_url = os.environ.get("PROCTOR_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
            if why is None:
                why = _redis_unreachable(redis_url)
            if why is not None:
                print(f"postgres+redis   skipped: {why}")
                return 0
            for n in (1, 2):
                with ExitStack() as stack:
                    url = stack.enter_context(fresh_schema(prefix="proctor_bench"))
                    prefix = f"proctor-bench-{secrets.token_hex(4)}:"
                    env = {
                        **base,
                        "PROCTOR_DATABASE_URL": url,
                        "PROCTOR_REDIS_URL": redis_url,
                        "PROCTOR_REDIS_PREFIX": prefix,
                    }
                    key = _enroll(url)
                    try:
                        run("postgres+redis", n, env, policy, key, args)
                    finally:
                        _flush(redis_url, prefix)
    return 0


def _redis_unreachable(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis unreachable at {url}: {exc}"
    return None


def _flush(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


if __name__ == "__main__":
    sys.exit(main())
