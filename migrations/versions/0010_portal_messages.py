"""enterprise messages, online supplements, self-given satisfaction (portal); contacts edited and removed

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

_KINDS = "'signed', 'replied', 'supplement', 'accepted', 'result', 'refused'"


def upgrade():
    op.create_table('portal_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('receipt_no', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('read_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.CheckConstraint('(appeal_id IS NULL) <> (application_id IS NULL)', name=op.f('ck_portal_messages_one_case')),
    sa.CheckConstraint(f'kind IN ({_KINDS})', name=op.f('ck_portal_messages_kind')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_portal_messages_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_portal_messages_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_portal_messages_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_messages'))
    )
    op.create_index('ix_portal_messages_enterprise', 'portal_messages', ['enterprise_id', 'id'], unique=False)
    op.create_index('ix_portal_messages_unread', 'portal_messages', ['enterprise_id'], unique=False,
                    sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))

    # Contacts are retired, never rewritten (services/contacts.py). SQLite adds the columns in place, the
    # foreign key written with its column, as 0008 does for appeals.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE contacts ADD COLUMN removed_at DATETIME')
        op.execute('ALTER TABLE contacts ADD COLUMN replaced_by_id INTEGER '
                   'CONSTRAINT fk_contacts_replaced_by_id_contacts REFERENCES contacts (id)')
        op.execute('ALTER TABLE contacts ADD COLUMN version INTEGER DEFAULT 1 NOT NULL')
    else:
        op.add_column('contacts', sa.Column('removed_at', gaoxin.models.base.UTCDateTime(), nullable=True))
        op.add_column('contacts', sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        op.add_column('contacts', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        op.create_foreign_key(op.f('fk_contacts_replaced_by_id_contacts'), 'contacts', 'contacts',
                              ['replaced_by_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE contacts DROP COLUMN version')
        op.execute('ALTER TABLE contacts DROP COLUMN replaced_by_id')
        op.execute('ALTER TABLE contacts DROP COLUMN removed_at')
    else:
        op.drop_constraint(op.f('fk_contacts_replaced_by_id_contacts'), 'contacts', type_='foreignkey')
        op.drop_column('contacts', 'version')
        op.drop_column('contacts', 'replaced_by_id')
        op.drop_column('contacts', 'removed_at')
    op.drop_index('ix_portal_messages_unread', table_name='portal_messages')
    op.drop_index('ix_portal_messages_enterprise', table_name='portal_messages')
    op.drop_table('portal_messages')
