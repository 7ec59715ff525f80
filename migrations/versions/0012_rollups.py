"""daily figures rollup for the dashboard

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
    pass


def downgrade():
    pass
