"""enterprise messages, online supplements, self-given satisfaction (portal)

Revision ID: 0010_portal_messages
Revises: 0009_enterprise_accounts
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0010_portal_messages'
down_revision = '0009_enterprise_accounts'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
