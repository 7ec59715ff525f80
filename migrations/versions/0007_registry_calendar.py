"""enterprise registration status, founding date, business scope; confirmed calendar years

Revision ID: 0007_registry_calendar
Revises: 0006_salons_figures
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0007_registry_calendar'
down_revision = '0006_salons_figures'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
