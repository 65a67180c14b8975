"""Agent memory: the items, and the keyed fingerprints of the values they carry.

On PostgreSQL the items table has row-level security, forced on its owner too: a row is
visible, insertable and changeable only when the transaction's ``proctor.tenant`` setting
(``set_config('proctor.tenant', tenant, true)``, which the memory store issues at the start of
every transaction) names its tenant. A query without the setting sees nothing. The sweeper's
transactions set ``proctor.sweep`` instead, which lets them see and delete only rows already
expired by the database's clock. Superusers and roles with BYPASSRLS are not subject to any
of this: run the gateway as an ordinary role.

The fingerprints table holds no value and no tenant name: keyed digests (HMAC) of values, of
their tenant and of their subject, so that the leak filter can tell a value of another tenant
without reading that tenant's memory. It is deliberately not tenant-scoped.

Revision ID: 0005_memory
Revises: 0004_vault
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_memory"
down_revision = "0004_vault"
branch_labels = None
depends_on = None

ITEMS = "proctor_memory_items"
VALUES = "proctor_memory_values"

_EXPIRED = (
    "current_setting('proctor.sweep', true) = 'on' "
    "AND expires_at <= extract(epoch from statement_timestamp())"
)
_RLS = (
    f"ALTER TABLE {ITEMS} ENABLE ROW LEVEL SECURITY",
    f"ALTER TABLE {ITEMS} FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY proctor_memory_tenant ON {ITEMS} "
    "USING (tenant = current_setting('proctor.tenant', true)) "
    "WITH CHECK (tenant = current_setting('proctor.tenant', true))",
    f"CREATE POLICY proctor_memory_sweep_read ON {ITEMS} FOR SELECT USING ({_EXPIRED})",
    f"CREATE POLICY proctor_memory_sweep_delete ON {ITEMS} FOR DELETE USING ({_EXPIRED})",
)


def upgrade() -> None:
    op.create_table(
        ITEMS,
        sa.Column("id", sa.String(40), primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("workspace", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trust", sa.String(16), nullable=False),
        sa.Column("confidentiality", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("audit_id", sa.String(64), nullable=True),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_proctor_memory_items_scope",
        ITEMS,
        ["tenant", "workspace", "agent", "subject", "status", "created_at"],
    )
    op.create_index("ix_proctor_memory_items_subject", ITEMS, ["tenant", "subject"])
    op.create_index("ix_proctor_memory_items_expires_at", ITEMS, ["expires_at"])
    op.create_table(
        VALUES,
        sa.Column("value", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.String(40), primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
    )
    op.create_index("ix_proctor_memory_values_item_id", VALUES, ["item_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _RLS:
            op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_proctor_memory_values_item_id", VALUES)
    op.drop_table(VALUES)
    op.drop_index("ix_proctor_memory_items_expires_at", ITEMS)
    op.drop_index("ix_proctor_memory_items_subject", ITEMS)
    op.drop_index("ix_proctor_memory_items_scope", ITEMS)
    op.drop_table(ITEMS)
