"""A separate process for the crash and concurrency tests: ``python _child.py ROLE URL ...``.

Its refund tool appends one line per execution to EFFECTS (opened with O_APPEND): the tests
count lines to count executions across processes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from approvals._world import WallClock, make_world


def effects_wrapper(path: str, block: bool = False):
    def wrap(fn):
        def refund(order_id: str, amount: float) -> str:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, f"{os.getpid()} {order_id}\n".encode())
            finally:
                os.close(fd)
            if block:
                print("running", flush=True)
                time.sleep(3600)
            return fn(order_id, amount)

        return refund

    return wrap


def world_for(url: str, effects: str, *, clock: float | None = None, block: bool = False):
    wall = WallClock(clock) if clock is not None else None
    return make_world(url, clock=wall, people=False, tool_wrapper=effects_wrapper(effects, block))


def main() -> None:
    role, url, effects = sys.argv[1:4]
    if role == "approve-then-hang":
        # approves, says so, and is killed before it executes anything
        approval_id, name, key = sys.argv[4:7]
        world = world_for(url, effects)
        who = world.queue.authenticate(name, key)
        world.queue.approve(approval_id, by=who)
        print("approved", flush=True)
        time.sleep(3600)
    elif role == "execute-and-hang":
        # claims and starts executing; the tool blocks after its side effect
        approval_id = sys.argv[4]
        world = world_for(url, effects, block=True)
        world.queue.worker().execute(approval_id)
    elif role == "recover":
        # a restarted process: one recovery pass, at wall-clock time CLOCK
        clock = float(sys.argv[4])
        world = world_for(url, effects, clock=clock)
        report = world.queue.worker().run_once()
        print("executed", *report.executed, flush=True)
        print("failed", *report.failed_stale, flush=True)
        world.close()
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main()
