"""PostgreSQL: append to the audit chain in one call, so the chain head is locked for the few
microseconds the server needs, not for client round trips nor for the disk.

``proctor_audit_append`` (a procedure: it commits) locks the head row, chains the hashes of the
new records, inserts them, moves the head and commits; then it waits for the WAL flush outside
the lock. The client sends each record's canonical JSON split around the two values
only the server knows (the previous hash and the sequence number), so the text hashed here is
byte for byte the text ``proctor.audit.record_hash`` hashes when verifying. SQLite needs no
function: its writer holds the database lock in-process.

Revision ID: 0002_audit_append
Revises: 0001_audit_log
"""

from __future__ import annotations

from alembic import op

revision = "0002_audit_append"
down_revision = "0001_audit_log"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE PROCEDURE proctor_audit_append(
    p_fields text[], p_ts text, p_now double precision, p_every bigint,
    p_seconds double precision,
    INOUT first_seq bigint DEFAULT NULL, INOUT first_prev text DEFAULT NULL,
    INOUT hashes text[] DEFAULT NULL, INOUT checkpoint_due boolean DEFAULT NULL
)
LANGUAGE plpgsql AS $$
-- p_fields holds 7 fields per record, in order: id, kind, session_id, links, body, and the
-- record's canonical text before the previous hash and after the sequence number.
DECLARE
    n integer := coalesce(array_length(p_fields, 1), 0) / 7;
    head_seq bigint;
    head_hash text;
    cp_seq bigint;
    cp_at double precision;
    prev text;
    chained text[] := '{}';
BEGIN
    IF n = 0 OR array_length(p_fields, 1) <> 7 * n THEN
        RAISE EXCEPTION 'proctor_audit_append: expected 7 fields per record, got %',
            coalesce(array_length(p_fields, 1), 0) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The append commits without waiting for the WAL flush, so that the head row is unlocked
    -- at once and the next writer can go on; see the end for the wait.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT h.seq, h.hash, h.checkpoint_seq, h.checkpoint_at
        INTO head_seq, head_hash, cp_seq, cp_at
        FROM proctor_audit_head AS h WHERE h.id = 1 FOR UPDATE;
    prev := head_hash;
    FOR i IN 1..n LOOP
        prev := encode(sha256(convert_to(
            p_fields[7 * i - 1] || prev || '","seq":' || (head_seq + i)::text || p_fields[7 * i],
            'UTF8'
        )), 'hex');
        chained := chained || prev;
    END LOOP;
    INSERT INTO proctor_audit_records
        (seq, id, ts, kind, session_id, links, body, prev_hash, hash)
    SELECT head_seq + g, p_fields[7 * g - 6], p_ts, p_fields[7 * g - 5], p_fields[7 * g - 4],
           p_fields[7 * g - 3], p_fields[7 * g - 2],
           CASE WHEN g = 1 THEN head_hash ELSE chained[g - 1] END, chained[g]
    FROM generate_series(1, n) AS g;
    IF cp_at = 0 THEN
        cp_at := p_now;  -- the first append starts the checkpoint clock
    END IF;
    UPDATE proctor_audit_head SET seq = head_seq + n, hash = prev, checkpoint_at = cp_at
        WHERE id = 1;
    first_seq := head_seq + 1;
    first_prev := head_hash;
    hashes := chained;
    checkpoint_due := head_seq + n - cp_seq >= p_every OR p_now - cp_at >= p_seconds;
    COMMIT;
    -- Durability before success: a second transaction that takes a transaction id commits
    -- with the session's synchronous_commit (on), so it waits until the WAL is flushed past
    -- its own commit record, hence past the append's. Writers that wait at the same time share
    -- one flush (PostgreSQL's group commit); none of them holds the head while waiting.
    PERFORM txid_current();
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)


def downgrade() -> None:
    raise NotImplementedError("the audit log is never dropped by a migration")
