"""Owners and sizes: each twin, study and calibration records the key that made it, and
each job the bytes it holds on disk, for the per-key quotas.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("twins", "studies", "calibrations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("owner", sa.String(32), nullable=True))
            batch.create_index(f"ix_{table}_owner", ["owner"])
            if table != "twins":
                batch.add_column(sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("twins", "studies", "calibrations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_owner")
            batch.drop_column("owner")
            if table != "twins":
                batch.drop_column("bytes")
