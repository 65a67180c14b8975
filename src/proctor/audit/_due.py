"""A thread that does one piece of work whenever it is told the work is due.

The audit log's background chores (signing a checkpoint beside the group-commit writer,
copying SQLite's WAL beside the appends) have one shape: started at the first call, woken
through a condition, one run for any number of calls that arrive while it runs, stopped and
joined by ``close``. A run that raises is logged and the thread waits for the next call: a
chore that fails once is tried again, never lost with its thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("proctor.audit")


class DueThread:
    """Runs ``work`` in a thread named ``name`` after each ``due()`` (calls made while a run is
    under way make one more run). ``close`` lets a run that is due finish, then joins."""

    def __init__(self, name: str, work: Callable[[], None]) -> None:
        self.name = name
        self._work = work
        self._cond = threading.Condition()
        self._due = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def due(self) -> None:
        """The work is due: wake the thread (start it the first time). Ignored once closing."""
        with self._cond:
            if self._stopping:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._due = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due and not self._stopping:
                    self._cond.wait()
                if not self._due:  # stopping, and nothing due
                    return
                self._due = False
            try:
                self._work()
            except Exception:  # never lose the thread: the next call tries again
                log.exception("%s failed", self.name)

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
