"""salons from sign-up to summary, figures for the dashboard

Revision ID: 0006_salons_figures
Revises: 0005_work_stamps
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0006_salons_figures'
down_revision = '0005_work_stamps'
branch_labels = None
depends_on = None


SALON_STATES = "state IN ('planned', 'open', 'held', 'summarised')"
SIGNUP_STATUSES = "status IN ('pending', 'accepted', 'declined')"
FIGURE_COLUMNS = ['dispatched_at', 'lead_unit_id', 'signed_in_time', 'replied_at', 'replied_in_time', 'reply_outcome',
                  'satisfaction', 'return_count', 'category_id', 'channel', 'recording_unit_id']


def upgrade():
    with op.batch_alter_table('salons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='planned', nullable=False))
        batch_op.add_column(sa.Column('organiser_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('summary_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('summarised_at', gaoxin.models.base.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_salons_organiser_unit_id_units'), 'units', ['organiser_unit_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_salons_state'), SALON_STATES)
        batch_op.create_index('ix_salons_state_held', ['state', 'held_on'], unique=False)

    op.create_table('salon_departments',
    sa.Column('salon_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['salon_id'], ['salons.id'], name=op.f('fk_salon_departments_salon_id_salons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_salon_departments_unit_id_units')),
    sa.PrimaryKeyConstraint('salon_id', 'unit_id', name=op.f('pk_salon_departments'))
    )
    op.create_table('salon_participants',
    sa.Column('salon_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('topic', sa.String(length=500), nullable=True),
    sa.Column('added_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_salon_participants_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['salon_id'], ['salons.id'], name=op.f('fk_salon_participants_salon_id_salons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('salon_id', 'enterprise_id', name=op.f('pk_salon_participants'))
    )
    with op.batch_alter_table('salon_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salon_participants_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('salon_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('salon_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_name', sa.String(length=200), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('decided_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint(SIGNUP_STATUSES, name=op.f('ck_salon_signups_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_salon_signups_decided_by_id_users')),
    sa.ForeignKeyConstraint(['salon_id'], ['salons.id'], name=op.f('fk_salon_signups_salon_id_salons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_signups')),
    sa.UniqueConstraint('salon_id', 'credit_code', name='uq_salon_signups_salon_code')
    )
    with op.batch_alter_table('salon_signups', schema=None) as batch_op:
        batch_op.create_index('ix_salon_signups_salon_status', ['salon_id', 'status', 'id'], unique=False)

    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index('ix_appeals_figures', FIGURE_COLUMNS, unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_action_at', ['action', 'at', 'actor_unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_action_at')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_appeals_figures')
    with op.batch_alter_table('salon_signups', schema=None) as batch_op:
        batch_op.drop_index('ix_salon_signups_salon_status')
    op.drop_table('salon_signups')
    with op.batch_alter_table('salon_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_salon_participants_enterprise_id'))
    op.drop_table('salon_participants')
    op.drop_table('salon_departments')
    with op.batch_alter_table('salons', schema=None) as batch_op:
        batch_op.drop_index('ix_salons_state_held')
        batch_op.drop_constraint(batch_op.f('ck_salons_state'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_salons_organiser_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('summarised_at')
        batch_op.drop_column('summary_note')
        batch_op.drop_column('organiser_unit_id')
        batch_op.drop_column('state')
