"""survey links: customers answer at a link per journey version; submissions stored once

Revision ID: 0004_survey_links
Revises: 0003_outbox
Create Date: 2026-12-01 05:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_survey_links"
down_revision = "0003_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_survey_links_journey_id", "survey_links", ["journey_id"])
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("link_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("submission", sa.String(length=64), nullable=True))
        batch.create_foreign_key("fk_survey_responses_link", "survey_links", ["link_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("uq_survey_responses_submission", ["submission"])
        batch.create_index("ix_survey_responses_link_id", ["link_id"])


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_index("ix_survey_responses_link_id")
        batch.drop_constraint("uq_survey_responses_submission", type_="unique")
        batch.drop_constraint("fk_survey_responses_link", type_="foreignkey")
        batch.drop_column("submission")
        batch.drop_column("link_id")
    op.drop_index("ix_survey_links_journey_id", table_name="survey_links")
    op.drop_table("survey_links")
