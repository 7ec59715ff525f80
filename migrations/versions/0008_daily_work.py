"""canned replies, merged appeals, contact history (daily work)

Revision ID: 0008_daily_work
Revises: 0007_registry_calendar
Create Date: 2026-12-01 12:50:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0008_daily_work'
down_revision = '0007_registry_calendar'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phrases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_phrases_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_phrases_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phrases'))
    )
    with op.batch_alter_table('phrases', schema=None) as batch_op:
        batch_op.create_index('ix_phrases_unit_position', ['unit_id', 'position', 'id'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=30), nullable=True))

    # SQLite adds the columns in place (a batch would rebuild appeals and lose its expression index
    # ix_appeals_open_due, which SQLite cannot reflect), the foreign key written with its column.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE appeals ADD COLUMN no_contact_reason VARCHAR(200)')
        op.execute('ALTER TABLE appeals ADD COLUMN merged_into_id INTEGER '
                   'CONSTRAINT fk_appeals_merged_into_id_appeals REFERENCES appeals (id)')
        op.execute('ALTER TABLE appeals ADD COLUMN merged_at DATETIME')
    else:
        op.add_column('appeals', sa.Column('no_contact_reason', sa.String(length=200), nullable=True))
        op.add_column('appeals', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.add_column('appeals', sa.Column('merged_at', gaoxin.models.base.UTCDateTime(), nullable=True))
        op.create_foreign_key(op.f('fk_appeals_merged_into_id_appeals'), 'appeals', 'appeals',
                              ['merged_into_id'], ['id'])
    op.create_index(op.f('ix_appeals_merged_into_id'), 'appeals', ['merged_into_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_appeals_merged_into_id'), table_name='appeals')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite 3.35+ drops a column in place; a batch would rebuild the table (see upgrade).
        op.execute('ALTER TABLE appeals DROP COLUMN merged_at')
        op.execute('ALTER TABLE appeals DROP COLUMN merged_into_id')
        op.execute('ALTER TABLE appeals DROP COLUMN no_contact_reason')
    else:
        op.drop_constraint(op.f('fk_appeals_merged_into_id_appeals'), 'appeals', type_='foreignkey')
        op.drop_column('appeals', 'merged_at')
        op.drop_column('appeals', 'merged_into_id')
        op.drop_column('appeals', 'no_contact_reason')

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('phone')

    with op.batch_alter_table('phrases', schema=None) as batch_op:
        batch_op.drop_index('ix_phrases_unit_position')

    op.drop_table('phrases')
