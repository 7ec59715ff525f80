"""canned replies, merged appeals, contact history (daily work)

Revision ID: 0008_daily_work
Revises: 0007_registry_calendar
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0008_daily_work'
down_revision = '0007_registry_calendar'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
