"""The floor under the gateway benchmark: what uvicorn alone costs per request, without Proctor.

A bare ASGI application (it reads the request's body and answers a fixed JSON body of the size
of a ``decide`` answer, 1,860 bytes) is served exactly as ``proctor serve`` serves the gateway
(uvicorn with httptools, uvloop and ``OneWriteProtocol``, no access log), by 1 and 2 processes,
each on its own port, and loaded by the same ``wrk`` command as ``benchmarks/bench_gateway.py``
(one wrk thread per process, ``--connections`` spread over them). Prints each run's requests/s,
p50/p99 and the server's CPU ms per request (user + system, from ``/proc``); asserts nothing.
Subtract its CPU figure from the gateway's: what is left is Proctor's (the gate, the audit log,
the receipt, the lean route).

``python benchmarks/bench_gateway_floor.py --seconds 8 --connections 16``. Bounded: --seconds
of load per run, and 30 s for the servers to start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_gateway import _cpu, _port, _stop, machine_reference, stack_versions, wait_ready, wrk

# a decide answer's shape and size (1,860 bytes), with fixed values
ANSWER = json.dumps(
    {
        "call_id": "call_0eaa56789667a5a9",
        "tool": "payments.refund",
        "verdict": "ALLOW",
        "status": "allowed",
        "approval_id": None,
        "reasons": [
            "arguments match the declared schema",
            "tool 'payments.refund' is allowlisted; autonomy write is within the grant (write) "
            "in production",
        ],
        "rule_ids": ["schema.payments.refund", "allow.payments.refund"],
        "steps": [
            {
                "step": "resolve",
                "verdict": "ALLOW",
                "status": "ok",
                "hits": [
                    {
                        "rule_id": "schema.payments.refund",
                        "verdict": "ALLOW",
                        "reason": "arguments match the declared schema",
                    }
                ],
            },
            {
                "step": "boundary",
                "verdict": "ALLOW",
                "status": "ok",
                "hits": [
                    {
                        "rule_id": "allow.payments.refund",
                        "verdict": "ALLOW",
                        "reason": "tool 'payments.refund' is allowlisted; autonomy write is "
                        "within the grant (write) in production",
                    }
                ],
            },
            {"step": "limits", "verdict": "ALLOW", "status": "ok", "hits": []},
            {"step": "rate", "verdict": "ALLOW", "status": "ok", "hits": []},
        ],
        "receipt": {
            "receipt": {
                "args_commitment": "e0" * 32,
                "call_id": "call_0eaa56789667a5a9",
                "key_id": "2c7b2c08e78a0a2d",
                "policy": "bench-bot@6b1fa0eaeab3",
                "policy_sha256": "6b" * 32,
                "record": {"hash": "9f" * 32, "id": "rec_b5af07c5d55538d9", "seq": 6},
                "rule_ids": ["schema.payments.refund", "allow.payments.refund"],
                "session": {
                    "agent": "bench-bot",
                    "environment": "production",
                    "id": "ses_7e236ee9be3874c7",
                    "principal": "hmac-sha256:audit-2c7b2c08:" + "99" * 32,
                    "tenant": "acme",
                },
                "status": "allowed",
                "tool": "payments.refund",
                "ts": "2026-11-26T08:41:02.275338Z",
                "v": "proctor.receipt/v2",
                "verdict": "ALLOW",
            },
            "signature": "98" * 64,
            "opening": "1b" * 32,
        },
    },
    separators=(",", ":"),
).encode()
HEADERS = [(b"content-length", str(len(ANSWER)).encode()), (b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the request, answers ``ANSWER``: nothing else."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})


def serve(port: int) -> None:
    """uvicorn as ``proctor serve`` runs it (src/proctor/cli/serve.py)."""
    import uvicorn

    from proctor.server._http import OneWriteProtocol

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
        http=OneWriteProtocol,
    )


def _start(n: int) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    ports = [_port() for _ in range(n)]
    procs = [
        subprocess.Popen(  # noqa: S603 (this script, fixed arguments)
            [sys.executable, __file__, "--serve", str(p)], stdout=subprocess.DEVNULL
        )
        for p in ports
    ]
    wait_ready(procs, ports, "/", 30, "the floor server")
    return procs, ports


def run(processes: int, args: argparse.Namespace, tmp: Path) -> None:
    procs, ports = _start(processes)
    try:
        pids = [p.pid for p in procs]
        before = os.getloadavg()
        cpu0 = _cpu(pids)
        paths = {port: [f"/v1/sessions/ses_floor{i}/decide" for i in range(8)] for port in ports}
        a, other, p50, p99 = wrk(paths, "bench:key", args.connections, args.seconds, tmp)
        n = a + other
        cpu = _cpu(pids) - cpu0
        after = os.getloadavg()
    finally:
        _stop(procs)
    print(
        f"floor  {processes} proc wrk  {n / args.seconds:>7.0f} requests/s  "
        f"p50 {p50:>6.2f} ms  p99 {p99:>6.2f} ms  "
        f"server CPU {cpu * 1000 / max(1, n):.3f} ms/request  "
        f"({n} requests, {other} not as expected; load avg {before[0]:.2f} -> {after[0]:.2f})",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds of load per run")
    ap.add_argument("--connections", type=int, default=16, help="concurrent connections")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    python_us, wake_us = machine_reference()  # the same readings as bench_gateway's header
    print(
        f"gateway floor (bare ASGI app, {len(ANSWER)}-byte answer, uvicorn as proctor serve "
        f"runs it): {args.connections} connections, {args.seconds:g} s per run; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; machine: reference "
        f"Python {python_us:.1f} us, thread wake-up round trip {wake_us:.0f} us",
        flush=True,
    )
    print(f"releases: {stack_versions()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.processes:
            run(n, args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
