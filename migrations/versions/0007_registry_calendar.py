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
    # The search grams are a derived index: their foreign key's per-row check made a full import slow.
    with op.batch_alter_table('enterprise_grams', schema=None, table_kwargs={'sqlite_with_rowid': False}) as batch_op:
        batch_op.drop_constraint('fk_enterprise_grams_enterprise_id_enterprises', type_='foreignkey')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('founded_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('business_scope', sa.Text(), nullable=True))
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unused_columns', sa.Text(), nullable=True))
    op.create_table(
        'calendar_years',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('notice', sa.Text(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', gaoxin.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_calendar_years_confirmed_by_id_users')),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years')),
    )
    op.create_table(
        'calendar_notice_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('is_workday', sa.Boolean(), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['year'], ['calendar_years.year'], name=op.f('fk_calendar_notice_days_year_calendar_years'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_notice_days')),
    )
    with op.batch_alter_table('calendar_notice_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_notice_days_year'), ['year'], unique=False)


def downgrade():
    with op.batch_alter_table('calendar_notice_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_notice_days_year'))
    op.drop_table('calendar_notice_days')
    op.drop_table('calendar_years')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('unused_columns')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_column('business_scope')
        batch_op.drop_column('founded_on')
        batch_op.drop_column('status')
    with op.batch_alter_table('enterprise_grams', schema=None, table_kwargs={'sqlite_with_rowid': False}) as batch_op:
        batch_op.create_foreign_key('fk_enterprise_grams_enterprise_id_enterprises', 'enterprises', ['enterprise_id'],
                                    ['id'], ondelete='CASCADE')
