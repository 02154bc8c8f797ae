"""Calibrations: uploaded event logs -> a calibrated twin and its report (one job each).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("folder", sa.String(500), nullable=False),
        sa.Column(
            "twin_id",
            sa.String(32),
            sa.ForeignKey("twins.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("report_path", sa.String(500), nullable=True),
        sa.Column("report_html_path", sa.String(500), nullable=True),
        sa.Column("warnings", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("calibrations")
