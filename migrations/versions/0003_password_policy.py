"""password history, reset stamps and password age (security, 等保 level 3)

Revision ID: 0003_password_policy
Revises: 0002_application_outcome_enum
Create Date: 2026-12-01 12:15:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0003_password_policy'
down_revision = '0002_application_outcome_enum'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_passwords',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('replaced_at', gaoxin.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_used_passwords_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_passwords'))
    )
    with op.batch_alter_table('used_passwords', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_passwords_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', gaoxin.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('password_reset_at', gaoxin.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('password_reset_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_password_reset_by_id_users'), 'users', ['password_reset_by_id'], ['id'])
    # Existing passwords count their age from the upgrade (naive UTC, as UTCDateTime stores it), so that
    # the maximum age does not force every account to change on the first day.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.execute(sa.text("UPDATE users SET password_changed_at = :now").bindparams(
        sa.bindparam("now", now, type_=sa.DateTime())))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('password_changed_at', existing_type=gaoxin.models.base.UTCDateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_password_reset_by_id_users'), type_='foreignkey')
        batch_op.drop_column('password_reset_by_id')
        batch_op.drop_column('password_reset_at')
        batch_op.drop_column('password_changed_at')

    with op.batch_alter_table('used_passwords', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_passwords_user_id'))

    op.drop_table('used_passwords')
