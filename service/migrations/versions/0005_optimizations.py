"""Optimisations: one job each (`twin optimize` run by the service), with the workspace and
lease columns every job table has.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
DEFAULT = "default"


def upgrade() -> None:
    op.create_table(
        "optimizations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("folder", sa.String(500), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("owner", sa.String(32), nullable=True, index=True),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("workspace", sa.String(32), nullable=False, server_default=DEFAULT, index=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires", WHEN, nullable=True, index=True),
        sa.Column("lease_token", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("twin_id", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("budget", sa.Integer, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("optimizations")
