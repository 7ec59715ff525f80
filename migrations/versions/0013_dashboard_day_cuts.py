"""dashboard: applications per policy from a covering index

(The id was reserved for day-grain rollup rows for the cuts; they were not needed: a period's part-months are
read as a month row minus the days outside the period when that is fewer days, see services.rollups.plan.)
The dashboard's applications per policy scanned every application of every policy; this index holds the period's
applications by submission time with every column the figure sums, so the figure is an index-only range scan.

Revision ID: 0013_dashboard_day_cuts
Revises: 0012_rollups
Create Date: 2026-12-01 20:20:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_dashboard_day_cuts'
down_revision = '0012_rollups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_submitted_figures', ['submitted_at', 'policy_id', 'accepted_on', 'outcome',
                              'approved_amount', 'disbursed_amount', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_submitted_figures')
