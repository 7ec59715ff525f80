"""background jobs and department notices

Revision ID: 0011_jobs
Revises: 0010_portal_messages
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0011_jobs'
down_revision = '0010_portal_messages'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
