"""Live twins: a twin fed with the operation's events as they happen, and those events.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_twins",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("twin_id", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(32), nullable=True, index=True),
        sa.Column("workspace", sa.String(32), nullable=False, index=True, server_default="default"),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("latest", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "live_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("live_id", sa.String(32), nullable=False, index=True),
        sa.Column("case", sa.String(200), nullable=False),
        sa.Column("activity", sa.String(200), nullable=False),
        sa.Column("resource", sa.String(200), nullable=True),
        sa.Column("start", WHEN, nullable=False),
        sa.Column("end", WHEN, nullable=True),
        sa.Column("closes", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("live_events")
    op.drop_table("live_twins")
