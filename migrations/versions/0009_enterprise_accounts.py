"""enterprise accounts and activation codes (portal)

Revision ID: 0009_enterprise_accounts
Revises: 0008_daily_work
Create Date: 2026-12-01 16:30:00
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0009_enterprise_accounts'
down_revision = '0008_daily_work'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enterprise_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('login_name', sa.String(length=40), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('password_changed_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('activated_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('disabled_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('disabled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_enterprise_accounts_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_enterprise_accounts_created_by_id_users')),
    sa.ForeignKeyConstraint(['disabled_by_id'], ['users.id'], name=op.f('fk_enterprise_accounts_disabled_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_accounts_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_accounts')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_enterprise_accounts_contact_id')),
    sa.UniqueConstraint('login_name', name=op.f('uq_enterprise_accounts_login_name'))
    )
    with op.batch_alter_table('enterprise_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_accounts_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('activation_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['enterprise_accounts.id'], name=op.f('fk_activation_codes_account_id_enterprise_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_activation_codes_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activation_codes_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_activation_codes_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_activation_codes_code_hash'))
    )
    with op.batch_alter_table('activation_codes', schema=None) as batch_op:
        batch_op.create_index('ix_activation_codes_contact_open', ['contact_id', 'used_at', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_activation_codes_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('enterprise_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('created_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['enterprise_accounts.id'], name=op.f('fk_enterprise_sessions_account_id_enterprise_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_sessions')),
    sa.UniqueConstraint('token', name=op.f('uq_enterprise_sessions_token'))
    )
    with op.batch_alter_table('enterprise_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_sessions_open', ['account_id', 'ended_at'], unique=False)



def downgrade():
    with op.batch_alter_table('enterprise_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_sessions_open')

    op.drop_table('enterprise_sessions')
    with op.batch_alter_table('activation_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activation_codes_enterprise_id'))
        batch_op.drop_index('ix_activation_codes_contact_open')

    op.drop_table('activation_codes')
    with op.batch_alter_table('enterprise_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_accounts_enterprise_id'))

    op.drop_table('enterprise_accounts')
