"""per-unit change stamps and counters kept with each transition (speed)

Revision ID: 0005_work_stamps
Revises: 0004_audit_chain
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0005_work_stamps'
down_revision = '0004_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
