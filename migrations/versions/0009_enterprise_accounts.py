"""enterprise accounts and activation codes (portal)

Revision ID: 0009_enterprise_accounts
Revises: 0008_daily_work
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0009_enterprise_accounts'
down_revision = '0008_daily_work'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
