"""Application.outcome as an enum with a check constraint

Revision ID: 0002_application_outcome_enum
Revises: ac3857ee5609
Create Date: 2026-12-01 12:15:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0002_application_outcome_enum'
down_revision = 'ac3857ee5609'
branch_labels = None
depends_on = None


# Written out, not read from gaoxin.workflow.ApplicationOutcome: a migration keeps the schema of its day.
OUTCOMES = "outcome IN ('approved', 'rejected')"
OLD_OUTCOMES = "outcome IS NULL OR outcome IN ('approved', 'rejected')"


def upgrade():
    # The hand-written check becomes the one enum_check builds from ApplicationOutcome (NULL still passes a
    # CHECK), and the column as wide as the longest outcome, as every enum column is (enum_column_type).
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_applications_outcome'), type_='check')
        batch_op.alter_column('outcome', existing_type=sa.String(length=10), type_=sa.String(length=8),
                              existing_nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_applications_outcome'), OUTCOMES)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_applications_outcome'), type_='check')
        batch_op.alter_column('outcome', existing_type=sa.String(length=8), type_=sa.String(length=10),
                              existing_nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_applications_outcome'), OLD_OUTCOMES)
