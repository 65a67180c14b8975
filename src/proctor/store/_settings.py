"""Where the store lives: ``PROCTOR_DATABASE_URL``, or one SQLite file by default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from proctor.store._errors import StoreError

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Connection settings of the store.

    ``database_url`` is any SQLAlchemy URL (``postgresql+psycopg://user@host/db``); when it is
    unset the store is the SQLite file ``sqlite_path`` in WAL mode. ``sqlite_synchronous`` is
    SQLite's ``PRAGMA synchronous``: ``FULL`` (the default) makes every commit durable across a
    power loss; ``NORMAL`` survives a process crash but may lose the last commits on power loss.
    """

    database_url: str | None = None
    sqlite_path: Path = Path("proctor.db")
    sqlite_synchronous: str = "FULL"

    def __post_init__(self) -> None:
        if self.sqlite_synchronous.upper() not in _SYNCHRONOUS:
            raise StoreError(
                f"sqlite_synchronous must be one of {', '.join(_SYNCHRONOUS)}, "
                f"got {self.sqlite_synchronous!r}"
            )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL this store connects to."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        """Read ``PROCTOR_DATABASE_URL``, ``PROCTOR_SQLITE_PATH`` and
        ``PROCTOR_SQLITE_SYNCHRONOUS`` (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("PROCTOR_DATABASE_URL") or None,
            sqlite_path=Path(env.get("PROCTOR_SQLITE_PATH") or "proctor.db"),
            sqlite_synchronous=env.get("PROCTOR_SQLITE_SYNCHRONOUS") or "FULL",
        )
