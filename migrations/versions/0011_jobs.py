"""background jobs and department notices

A new `jobs` table rather than a generalised `import_jobs`: an import keeps its own row for what only an import
has (row counts by outcome, the per-row report, unused columns) and its page and report links stay as they are;
the job row that the queue runs points at it (params.import_job_id) like any other kind's input. `jobs.key` is
the idempotency key (unique). `department_notices` are the overdue and due-soon notices the periodic jobs leave
for a department, one per (kind, appeal, due date); the inbox badge counts a unit's unread ones over a partial
index.

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
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('result_path', sa.String(length=200), nullable=True),
    sa.Column('result_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('started_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('finished_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('expires_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('registry_import', 'export', 'recompute_due_dates', 'overdue_check', "
                       "'due_reminders', 'integrity_check', 'cleanup')", name=op.f('ck_jobs_kind')),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name='uq_jobs_key')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_jobs_created', [sa.text('created_at DESC'), sa.text('id DESC')], unique=False)
        batch_op.create_index('ix_jobs_state_updated', ['state', 'updated_at'], unique=False)
        batch_op.create_index('ix_jobs_kind', ['kind', 'id'], unique=False)

    op.create_table('department_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('read_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('overdue', 'due_soon')", name=op.f('ck_department_notices_kind')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_department_notices_appeal_id_appeals'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_department_notices_unit_id_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_notices')),
    sa.UniqueConstraint('kind', 'appeal_id', 'due_on', name='uq_department_notices_once')
    )
    with op.batch_alter_table('department_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_notices_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index('ix_department_notices_unit_created',
                              ['unit_id', sa.text('created_at DESC'), sa.text('id DESC')], unique=False)
        batch_op.create_index('ix_department_notices_unread', ['unit_id'], unique=False,
                              sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))


def downgrade():
    op.drop_table('department_notices')
    op.drop_table('jobs')
