"""salons from sign-up to summary, figures for the dashboard

Revision ID: 0006_salons_figures
Revises: 0005_work_stamps
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0006_salons_figures'
down_revision = '0005_work_stamps'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
