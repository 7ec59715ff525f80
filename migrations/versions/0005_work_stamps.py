"""per-unit change stamps kept with each transition (speed)

Every unit there is gets its row (version 0); a unit made later gets one with its first change.

Revision ID: 0005_work_stamps
Revises: 0004_audit_chain
Create Date: 2026-12-01 12:50:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0005_work_stamps'
down_revision = '0004_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_stamps',
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_work_stamps_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_work_stamps'))
    )
    # Naive UTC, as UTCDateTime stores it (CURRENT_TIMESTAMP would be the server's zone on PostgreSQL).
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.get_bind().execute(sa.text("INSERT INTO work_stamps (unit_id, version, changed_at) "
                                  "SELECT id, 0, :now FROM units"), {"now": now})


def downgrade():
    op.drop_table('work_stamps')
