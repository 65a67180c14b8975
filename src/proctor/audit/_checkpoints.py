"""Signed checkpoints: what they sign, how they are signed, and reading them back.

A checkpoint signs the chain's head and, from version 2 on, the Merkle root over the records
since the checkpoint before (``_merkle``). Signing takes the head's lock only to check that no
other process signed meanwhile and to insert: the records' hashes are read and their root
computed before, outside the lock, so that appenders, who queue on that lock, never wait for
the hashing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from proctor.audit._errors import AuditError
from proctor.audit._keys import Signer, checkpoint_message, tree_checkpoint_message
from proctor.audit._merkle import merkle_root
from proctor.store import audit_checkpoints, audit_head, audit_records
from proctor.store._engine import WRITE

_TRIES = 5  # checkpoints signed by other processes in the meantime before giving up


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature by the key ``key_id`` over (seq, head hash) (``version`` 1), or over
    (seq, head hash, ``root``, ``tree_from``, ts) (``version`` 2): ``root`` is the Merkle root
    over the hashes of records ``tree_from + 1 .. seq``, the records since the checkpoint
    before (see ``_merkle``)."""

    seq: int
    head_hash: str
    ts: str
    key_id: str
    public_key: str
    signature: str
    version: int = 1
    root: str | None = None
    tree_from: int | None = None

    def message(self) -> bytes:
        """The bytes the signature is over, for this checkpoint's version. A version other
        than 1 and 2, or a version 2 row without its root, signs nothing that verifies."""
        if self.version == 1:
            return checkpoint_message(self.seq, self.head_hash)
        if self.version == 2 and self.root is not None and self.tree_from is not None:
            return tree_checkpoint_message(
                self.seq, self.head_hash, self.root, self.tree_from, self.ts
            )
        return b""


def sign_checkpoint(
    engine: Engine,
    signer: Signer,
    clock: Callable[[], float],
    *,
    every: int | None = None,
    seconds: float | None = None,
) -> Checkpoint | None:
    """Sign the head as it is now, unless it is already signed or the log is empty. Reads the
    head and the hashes of the records since the last checkpoint (one query), computes their
    Merkle root, then, under the head's lock, signs and inserts the checkpoint if no other
    process signed one since; otherwise it starts again from the new checkpoint.

    With ``every`` and ``seconds`` (a checkpoint that fell due on an append), only if one is
    still due when the head is read: ``every`` records or ``seconds`` after the last one. The
    appends that found it due while it was being signed, here or in another process, find it
    signed, and make no second checkpoint over the few records appended meanwhile."""
    for _ in range(_TRIES):
        # one snapshot on SQLite; on PostgreSQL the records up to the head committed before it
        with engine.connect() as conn, conn.begin():
            head = conn.execute(
                select(
                    audit_head.c.seq,
                    audit_head.c.hash,
                    audit_head.c.checkpoint_seq,
                    audit_head.c.checkpoint_at,
                ).where(audit_head.c.id == 1)
            ).one()
            seq, head_hash, tree_from = int(head.seq), str(head.hash), int(head.checkpoint_seq)
            if seq == 0 or seq == tree_from:
                return None
            if (
                every is not None
                and seconds is not None
                and seq - tree_from < every
                and clock() - float(head.checkpoint_at) < seconds
            ):
                return None  # signed since it fell due; the next one is not due yet
            hashes = list(
                conn.execute(
                    select(audit_records.c.hash)
                    .where(audit_records.c.seq > tree_from, audit_records.c.seq <= seq)
                    .order_by(audit_records.c.seq)
                ).scalars()
            )
        if len(hashes) != seq - tree_from or hashes[-1] != head_hash:
            raise AuditError(
                f"cannot checkpoint: records {tree_from + 1}..{seq} are not all there "
                f"({len(hashes)} found) or do not end at the head; run proctor audit verify"
            )
        unsigned = Checkpoint(
            seq,
            head_hash,
            utc_now(),
            signer.key_id,
            signer.public_hex,
            "",
            2,
            merkle_root(hashes),
            tree_from,
        )
        cp = replace(unsigned, signature=signer.sign_message(unsigned.message()))
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                now = conn.execute(
                    select(audit_head.c.checkpoint_seq)
                    .where(audit_head.c.id == 1)
                    .with_for_update()
                ).scalar_one()
                if int(now) != tree_from:
                    continue  # another process signed meanwhile: start from its checkpoint
                conn.execute(
                    insert(audit_checkpoints).values(
                        seq=cp.seq,
                        head_hash=cp.head_hash,
                        ts=cp.ts,
                        key_id=cp.key_id,
                        public_key=cp.public_key,
                        signature=cp.signature,
                        version=cp.version,
                        root=cp.root,
                        tree_from=cp.tree_from,
                    )
                )
                conn.execute(
                    update(audit_head)
                    .where(audit_head.c.id == 1)
                    .values(checkpoint_seq=cp.seq, checkpoint_at=clock())
                )
                return cp
    return None


def read_checkpoints(engine: Engine) -> list[Checkpoint]:
    """Every signed checkpoint, in sequence order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_checkpoints.c.seq,
                audit_checkpoints.c.head_hash,
                audit_checkpoints.c.ts,
                audit_checkpoints.c.key_id,
                audit_checkpoints.c.public_key,
                audit_checkpoints.c.signature,
                audit_checkpoints.c.version,
                audit_checkpoints.c.root,
                audit_checkpoints.c.tree_from,
            ).order_by(audit_checkpoints.c.seq)
        ).all()
    return [
        Checkpoint(
            int(r[0]),
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            int(r[6]),
            r[7],
            None if r[8] is None else int(r[8]),
        )
        for r in rows
    ]
