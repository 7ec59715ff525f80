"""daily figures rollup for the dashboard

The table is filled from the appeals already there (one INSERT … SELECT per kind of row, the same statements
as `flask gaoxin rollup-rebuild`); from then on services.rollups keeps it with every change.

Revision ID: 0012_rollups
Revises: 0011_jobs
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0012_rollups'
down_revision = '0011_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appeal_rollups',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('dispatched_on', sa.Date(), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('dim', sa.String(length=1), nullable=False),
    sa.Column('value', sa.String(length=20), nullable=False),
    sa.Column('dispatched', sa.Integer(), nullable=False),
    sa.Column('signed_on_time', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('followed_up', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('replied_on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'dispatched_on', 'lead_unit_id', 'dim', 'value', name=op.f('pk_appeal_rollups'))
    )
    # The backfill: the statements live with the code that keeps the rollup, so that both count alike.
    from gaoxin.services import rollups

    rollups.fill(op.get_bind())


def downgrade():
    op.drop_table('appeal_rollups')
