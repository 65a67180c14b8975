"""Verification: recompute the chain from the stored rows and check every signed checkpoint,
and the Merkle root each version 2 checkpoint signs over the records since the one before.

It trusts nothing in the database but the rows' content: not the head table, not the public
keys stored beside the signatures (unless told to, for a quick look). Each problem names the
first record it concerns, by sequence number, and says what is wrong.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from proctor.audit._canonical import record_hash
from proctor.audit._checkpoints import Checkpoint, read_checkpoints
from proctor.audit._keys import key_id, parse_public_key, verify_message
from proctor.audit._merkle import merkle_root
from proctor.store import (
    GENESIS_HASH,
    audit_head,
    audit_records,
    create_store_engine,
)


class Fault(StrEnum):
    """What verification found wrong."""

    EDITED = "edited"  # the content does not match its own hash
    MOVED = "moved"  # the record is intact but sits at another position than it was written
    MISSING = "missing"  # a sequence number is absent: the record was deleted
    INSERTED = "inserted"  # a record that was not in the chain sits between two that were
    BROKEN_CHAIN = "broken_chain"  # prev_hash does not match the record before it
    BAD_LINK = "bad_link"  # links to a record that is not earlier in the chain
    TRUNCATED = "truncated"  # records stop before a signed checkpoint (or the head)
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"  # a signed head hash differs from the chain's
    BAD_SIGNATURE = "bad_signature"  # a checkpoint's signature does not verify
    UNTRUSTED_KEY = "untrusted_key"  # a checkpoint is signed by a key not trusted
    ROOT_MISMATCH = "root_mismatch"  # a signed Merkle root differs from the records' tree
    CHECKPOINT_GAP = "checkpoint_gap"  # a checkpoint's tree does not start at the one before

    def __str__(self) -> str:
        return self.value


_RANK = {fault: rank for rank, fault in enumerate(Fault)}  # at one seq, the first listed wins


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    fault: Fault
    message: str

    def __str__(self) -> str:
        return f"record seq {self.seq}: {self.fault}: {self.message}"


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of ``verify``. ``ok`` iff no problem; ``first`` is the earliest one."""

    records: int
    last_seq: int
    head_hash: str
    checkpoints: int
    last_checkpoint: int
    keys_trusted: bool
    problems: tuple[Problem, ...] = field(default=())
    roots: int = 0  # Merkle roots of version 2 checkpoints recomputed from the records

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


_SELECT = (
    "SELECT seq, id, ts, kind, session_id, links, body, prev_hash, hash "
    "FROM proctor_audit_records WHERE seq > {lo} AND seq <= {hi} ORDER BY seq"
)
_PARALLEL_MIN = 50_000  # records below which one process is faster than several


def _links(text: str) -> list[str]:
    """The ids in a stored ``links`` column. Canonical JSON of plain ids needs no parser."""
    if text.startswith('["') and text.endswith('"]') and "\\" not in text:
        return text[2:-2].split('","')
    links = json.loads(text)
    return [str(x) for x in links] if isinstance(links, list) else [str(links)]


def _stream(conn: Connection, lo: int, hi: int, batch: int) -> Iterator[list[Any]]:
    """Records ``lo < seq <= hi`` in chain order, in lists of at most ``batch``, straight from
    the driver: verification is bound by fetching rows, and this skips SQLAlchemy's row objects.
    PostgreSQL is read one range of ``batch`` sequence numbers per query, in binary (faster to
    decode than a server-side cursor, and memory stays bounded)."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        query = _SELECT.format(lo="%s", hi="%s")
        with raw.cursor(binary=True) as cur:
            for start in range(lo, hi, batch):
                cur.execute(query, (start, min(start + batch, hi)), prepare=True)
                rows = cur.fetchall()
                if rows:
                    yield rows
        return
    cur = raw.cursor()
    try:
        cur.execute(_SELECT.format(lo=int(lo), hi=int(hi)))
        while rows := cur.fetchmany(batch):
            yield rows
    finally:
        cur.close()


class _Scan:
    """Verifies one contiguous range of the chain. A range that does not start the chain does
    not know the hash before it (``prev`` None) nor the ids before it: the first link and the
    links it cannot resolve are left to ``verify`` to check across ranges."""

    def __init__(
        self, lo: int, signed: dict[int, Checkpoint], good_cp: int, prev: str | None
    ) -> None:
        self.lo = lo
        self.signed = signed
        self.good_cp = good_cp
        self.prev = prev
        self.prev_prev = ""
        self.expected = lo + 1
        self.first: tuple[int, str] | None = None  # (seq, prev_hash) of the first record
        self.count = 0
        self.last = lo
        self.problems: list[Problem] = []
        self.unresolved: dict[str, int] = {}  # link -> first seq that names it
        self.mismatches: list[tuple[int, Checkpoint, str]] = []  # (last good cp, cp, hash)
        self._seen: set[str] = set()
        # Merkle roots: the hashes since the last checkpoint (only if a version 2 one is ahead)
        self.merkle = any(cp.version == 2 for cp in signed.values())
        self.tree_start = lo
        self.tree: list[str] = []
        self.roots: list[tuple[Checkpoint, str]] = []  # (checkpoint, root of the records)
        self.deferred: list[Checkpoint] = []  # trees that start before ``lo``

    def add(self, seq: int, fault: Fault, message: str) -> None:
        self.problems.append(Problem(seq, fault, message))

    def feed(self, rows: list[Any]) -> None:
        add = self.add
        seen = self._seen
        signed = self.signed
        prev, prev_prev, expected = self.prev, self.prev_prev, self.expected
        if rows and self.first is None:
            self.first = (int(rows[0][0]), rows[0][7])
        for seq, rid, ts, kind, session, links, body, prev_hash, digest in rows:
            jumped = seq != expected
            if jumped:
                self.problems.append(_missing(expected, seq))
            if record_hash(seq, rid, ts, kind, session, links, body, prev_hash) != digest:
                if record_hash(seq - 1, rid, ts, kind, session, links, body, prev_hash) == digest:
                    if prev_hash == prev_prev:
                        add(
                            seq - 1,
                            Fault.INSERTED,
                            f"record {seq - 1} was inserted: record {seq} was written as "
                            f"seq {seq - 1} and follows the same predecessor",
                        )
                    add(seq, Fault.MOVED, f"was written as seq {seq - 1}, now sits at {seq}")
                elif record_hash(seq + 1, rid, ts, kind, session, links, body, prev_hash) == (
                    digest
                ):
                    add(seq, Fault.MOVED, f"was written as seq {seq + 1}, now sits at {seq}")
                else:
                    add(seq, Fault.EDITED, "its content does not match its stored hash")
            elif prev is not None and prev_hash != prev and not jumped:
                self.problems.append(_unchained(seq))
            if links != "[]":
                ids = (
                    links[2:-2].split('","')
                    if links[:2] == '["' and "\\" not in links
                    else _links(links)
                )
                for link in ids:
                    if link not in seen:
                        if self.lo == 0:
                            add(seq, Fault.BAD_LINK, f"links to {link}, not an earlier record")
                        else:
                            self.unresolved.setdefault(link, seq)
            if self.merkle:
                self.tree.append(digest)
            cp = signed.get(seq)
            if cp is not None:
                _checkpoint(self, cp, seq, digest)
                self._tree(cp)
            seen.add(rid)
            prev_prev, prev = prev_hash, digest
            expected = seq + 1
        self.count += len(rows)
        self.prev, self.prev_prev, self.expected = prev, prev_prev, expected
        self.last = expected - 1

    def _tree(self, cp: Checkpoint) -> None:
        """At a checkpoint: the root of the records its tree covers, then a new tree."""
        if cp.version == 2 and cp.tree_from is not None:
            if cp.tree_from >= self.tree_start:
                self.roots.append((cp, merkle_root(self.tree[cp.tree_from - self.tree_start :])))
            elif self.tree_start == self.lo and self.lo > 0:
                self.deferred.append(cp)  # another range holds its start: ``verify`` reads it
            # else: it overlaps the tree before it, reported as a checkpoint gap
        self.tree_start, self.tree = cp.seq, []

    def result(self) -> _Scan:
        self._seen = set()  # not needed by the caller; do not ship it across processes
        return self


def _missing(expected: int, seq: int) -> Problem:
    """The chain jumps from ``expected - 1`` to ``seq``."""
    gap = f"records {expected}..{seq - 1} are" if seq - 1 > expected else f"record {expected} is"
    return Problem(
        expected,
        Fault.MISSING,
        f"{gap} missing: the chain jumps from seq {expected - 1} to seq {seq} (deleted)",
    )


def _unchained(seq: int) -> Problem:
    """Record ``seq`` is intact but does not chain to the hash of the record before it."""
    if seq == 1:
        return Problem(1, Fault.BROKEN_CHAIN, "the first record does not start the chain")
    return Problem(
        seq - 1,
        Fault.EDITED,
        f"its hash differs from the one record {seq} chained to: it was "
        f"rewritten and its hash recomputed (or record {seq} was replaced)",
    )


def _checkpoint(scan: _Scan, cp: Checkpoint, seq: int, digest: str) -> None:
    if cp.head_hash == digest:
        scan.good_cp = seq
    else:  # judged once every other problem is known: see ``_mismatch``
        scan.mismatches.append((scan.good_cp, cp, digest))


def _mismatch(good_cp: int, cp: Checkpoint, digest: str, problems: list[Problem]) -> Problem:
    """A signed head hash that the chain no longer has. If a problem found in the records
    since the last good checkpoint explains it, report it at the checkpoint; otherwise the
    records in between were rewritten and re-chained: report the range from its start."""
    explained = any(good_cp < p.seq <= cp.seq for p in problems)
    return Problem(
        cp.seq if explained else good_cp + 1,
        Fault.CHECKPOINT_MISMATCH,
        f"the checkpoint signed at {cp.ts} covers seq {cp.seq} with head hash "
        f"{cp.head_hash[:16]}..., but the chain's hash there is {digest[:16]}...: "
        f"records {good_cp + 1}..{cp.seq} were rewritten and re-chained",
    )


def _root_problem(cp: Checkpoint, root: str, problems: list[Problem]) -> Problem | None:
    """A signed root that the records' tree does not have: reported at the checkpoint if a
    problem in its records explains it, else from the first record of its tree."""
    if cp.root == root or cp.tree_from is None:
        return None
    explained = any(cp.tree_from < p.seq <= cp.seq for p in problems)
    return Problem(
        cp.seq if explained else cp.tree_from + 1,
        Fault.ROOT_MISMATCH,
        f"the checkpoint signed at {cp.ts} covers records {cp.tree_from + 1}..{cp.seq} with "
        f"Merkle root {(cp.root or '')[:16]}..., but their hashes give {root[:16]}...",
    )


def _gaps(cps: list[Checkpoint]) -> list[Problem]:
    """Each version 2 checkpoint's tree must start where the checkpoint before it ended."""
    problems: list[Problem] = []
    before = 0
    for cp in cps:
        if cp.version == 2 and cp.tree_from != before:
            problems.append(
                Problem(
                    cp.seq,
                    Fault.CHECKPOINT_GAP,
                    f"the checkpoint at seq {cp.seq} signs the records after seq "
                    f"{cp.tree_from}, but the checkpoint before it is at seq {before}: "
                    "a checkpoint was deleted or inserted",
                )
            )
        before = cp.seq
    return problems


def _deferred_roots(engine: Engine, cps: list[Checkpoint]) -> list[tuple[Checkpoint, str]]:
    """The roots of trees that straddle two ranges of a parallel verification."""
    out: list[tuple[Checkpoint, str]] = []
    with engine.connect() as conn:
        for cp in cps:
            lo = cp.tree_from or 0
            hashes = conn.execute(
                select(audit_records.c.hash)
                .where(audit_records.c.seq > lo, audit_records.c.seq <= cp.seq)
                .order_by(audit_records.c.seq)
            ).scalars()
            out.append((cp, merkle_root(list(hashes))))
    return out


def _scan_range(
    url: str, lo: int, hi: int, signed: dict[int, Checkpoint], good_cp: int, batch: int
) -> _Scan:
    """Verify ``lo < seq <= hi`` on a connection of its own (runs in a worker process)."""
    engine = create_store_engine(url)
    try:
        scan = _Scan(lo, signed, good_cp, GENESIS_HASH if lo == 0 else None)
        with engine.connect() as conn:
            for rows in _stream(conn, lo, hi, batch):
                scan.feed(rows)
        return scan.result()
    finally:
        engine.dispose()


def _check_signatures(
    cps: list[Checkpoint], trusted: Sequence[Ed25519PublicKey] | None
) -> list[Problem]:
    problems: list[Problem] = []
    keys = {key_id(k): k for k in trusted or ()}
    for cp in cps:
        key = keys.get(cp.key_id)
        if key is None and trusted is None:
            try:
                key = parse_public_key(cp.public_key)
            except Exception:  # a garbled key column is a bad signature, reported below
                key = None
        if key is None and trusted is not None:
            problems.append(
                Problem(
                    cp.seq,
                    Fault.UNTRUSTED_KEY,
                    f"the checkpoint at seq {cp.seq} is signed by key {cp.key_id}, "
                    "which is not among the trusted public keys",
                )
            )
        elif key is None or not verify_message(key, cp.message(), cp.signature):
            problems.append(
                Problem(
                    cp.seq,
                    Fault.BAD_SIGNATURE,
                    f"the signature of the checkpoint at seq {cp.seq} does not verify "
                    f"(key {cp.key_id})",
                )
            )
    return problems


def verify(
    engine: Engine,
    trusted_keys: Sequence[Ed25519PublicKey] | None = None,
    *,
    workers: int = 1,
    max_problems: int = 100,
    batch: int = 20000,
) -> Report:
    """Verify the whole chain. ``trusted_keys`` None: check signatures against the public keys
    stored with them (proves integrity against accidents, not against an attacker who can write
    the database; the report says so with ``keys_trusted=False``). ``workers`` > 1 splits a large
    chain into ranges verified by that many processes, then checks the seams between them."""
    cps = read_checkpoints(engine)  # read before the records: every checkpoint is then covered
    problems = _check_signatures(cps, trusted_keys) + _gaps(cps)
    signed = {cp.seq: cp for cp in cps}
    with engine.connect() as conn:
        head = conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).first()
        top = conn.execute(select(func.max(audit_records.c.seq))).scalar()
    head_seq = int(head[0]) if head is not None else 0
    top = int(top or 0)

    stopped = False  # gave up early: too many problems to go on listing
    if workers <= 1 or top < _PARALLEL_MIN:
        scan = _Scan(0, signed, 0, GENESIS_HASH)
        with engine.connect() as conn:
            for rows in _stream(conn, 0, top, batch):
                scan.feed(rows)
                if len(scan.problems) >= max_problems:
                    stopped = True
                    break
        scans = [scan]
    else:
        scans = _parallel(engine, top, workers, signed, batch)
    anchor = scans[0]  # the last range before the current one that holds records
    for scan in scans:
        problems += scan.problems
        if scan is anchor or not scan.count:
            continue
        _seam(anchor, scan, problems)
        if scan.unresolved:
            problems += _resolve_links(engine, scan.unresolved)
        anchor = scan
    problems += [_mismatch(*m, problems) for s in scans for m in s.mismatches]
    roots = [r for s in scans for r in s.roots]
    roots += _deferred_roots(engine, [cp for s in scans for cp in s.deferred])
    problems += [p for cp, root in roots if (p := _root_problem(cp, root, problems)) is not None]

    counted = [s for s in scans if s.count]
    last = counted[-1].last if counted else 0
    count = sum(s.count for s in scans)
    for cp in [] if stopped else cps:
        if cp.seq > last:
            problems.append(
                Problem(
                    last + 1,
                    Fault.TRUNCATED,
                    f"records stop at seq {last}, but the checkpoint signed at {cp.ts} "
                    f"covers seq {cp.seq}: the tail was truncated",
                )
            )
            break
    else:
        if head_seq > last and not stopped:
            problems.append(
                Problem(
                    last + 1,
                    Fault.TRUNCATED,
                    f"records stop at seq {last}, but the chain head says {head_seq}: "
                    "the tail was truncated after the last checkpoint",
                )
            )
    problems.sort(key=lambda p: (p.seq, _RANK[p.fault]))
    return Report(
        records=count,
        last_seq=last,
        head_hash=counted[-1].prev or GENESIS_HASH if counted else GENESIS_HASH,
        checkpoints=len(cps),
        last_checkpoint=cps[-1].seq if cps else 0,
        keys_trusted=trusted_keys is not None,
        problems=tuple(problems[:max_problems]),
        roots=len(roots),
    )


def _parallel(
    engine: Engine, top: int, workers: int, signed: dict[int, Checkpoint], batch: int
) -> list[_Scan]:
    url = engine.url.render_as_string(hide_password=False)
    bounds = [top * i // workers for i in range(workers + 1)]
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = []
        for lo, hi in itertools.pairwise(bounds):
            good = max((s for s in signed if s <= lo), default=0)
            part = {s: cp for s, cp in signed.items() if lo < s <= hi}
            futures.append(pool.submit(_scan_range, url, lo, hi, part, good, batch))
        return [f.result() for f in futures]


def _seam(before: _Scan, after: _Scan, problems: list[Problem]) -> None:
    """Check what two adjacent ranges could not check alone: records missing at the end of
    the first, and the hash link from its last record to the second's first."""
    if after.first is None:
        return
    first_seq, first_prev = after.first
    if before.expected <= after.lo:  # records missing at the end of ``before``
        problems.append(_missing(before.expected, first_seq))
    elif first_seq == after.lo + 1 and before.prev is not None and first_prev != before.prev:
        problems.append(_unchained(first_seq))


def _resolve_links(engine: Engine, unresolved: dict[str, int]) -> list[Problem]:
    """Links a range could not resolve itself: each must name a record earlier than the one
    that links to it."""
    found: dict[str, int] = {}
    ids = list(unresolved)
    with engine.connect() as conn:
        for i in range(0, len(ids), 500):
            rows = conn.execute(
                select(audit_records.c.id, audit_records.c.seq).where(
                    audit_records.c.id.in_(ids[i : i + 500])
                )
            )
            found.update({r[0]: int(r[1]) for r in rows})
    return [
        Problem(seq, Fault.BAD_LINK, f"links to {link}, not an earlier record")
        for link, seq in unresolved.items()
        if found.get(link, seq) >= seq
    ]
