"""team journeys: journey shares and contributions (Slack)

Revision ID: s0001_sharing
Revises: 0001_initial
Create Date: 2026-11-23 19:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0001_sharing"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "platform", "workspace", "channel_id", name="uq_journey_share"),
    )
    with op.batch_alter_table("journey_shares", schema=None) as batch_op:
        batch_op.create_index("ix_journey_shares_journey_id", ["journey_id"], unique=False)
        batch_op.create_index("ix_journey_shares_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_journey_shares_place", ["platform", "workspace", "channel_id"], unique=False)

    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("stage_slug", sa.String(length=64), nullable=False),
        sa.Column("stage_name", sa.Text(), nullable=False),
        sa.Column("touchpoint", sa.String(length=200), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["share_id"], ["journey_shares.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "workspace", "user_id", "stage_slug", "touchpoint", name="uq_contribution"),
    )
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index("ix_contributions_journey_id", ["journey_id"], unique=False)
        batch_op.create_index("ix_contributions_share_id", ["share_id"], unique=False)
        batch_op.create_index("ix_contributions_contributor", ["platform", "workspace", "user_id"], unique=False)

    op.create_table(
        "processed_contributions",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("processed_contributions", schema=None) as batch_op:
        batch_op.create_index("ix_processed_contributions_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("processed_contributions")
    op.drop_table("contributions")
    op.drop_table("journey_shares")
