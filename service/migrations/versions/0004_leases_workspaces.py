"""Leases and workspaces: each job's lease (owner, expiry, generation) and a record of each
run, so any number of servers share one database; workspaces, with every key, twin, study
and calibration in one (existing ones in the workspace `default`).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
DEFAULT = "default"


def upgrade() -> None:
    workspaces = op.create_table(
        "workspaces",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.bulk_insert(workspaces, [{"id": DEFAULT, "name": DEFAULT, "created_at": datetime.now(UTC)}])
    for table in ("api_keys", "twins", "studies", "calibrations"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("workspace", sa.String(32), nullable=False, server_default=DEFAULT))
            batch.create_index(f"ix_{table}_workspace", ["workspace"])
            if table in ("studies", "calibrations"):
                batch.add_column(sa.Column("lease_owner", sa.String(100), nullable=True))
                batch.add_column(sa.Column("lease_expires", WHEN, nullable=True))
                batch.add_column(sa.Column("lease_token", sa.Integer, nullable=False, server_default="0"))
                batch.create_index(f"ix_{table}_lease_expires", ["lease_expires"])
    op.create_table(
        "job_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token", sa.Integer, nullable=False),
        sa.Column("server", sa.String(100), nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("outcome", sa.String(300), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    for table in ("api_keys", "twins", "studies", "calibrations"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_workspace")
            batch.drop_column("workspace")
            if table in ("studies", "calibrations"):
                batch.drop_index(f"ix_{table}_lease_expires")
                for column in ("lease_owner", "lease_expires", "lease_token"):
                    batch.drop_column(column)
    op.drop_table("workspaces")
