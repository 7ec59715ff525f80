"""audit log hash chain (tamper evidence)

Revision ID: 0004_audit_chain
Revises: 0003_password_policy
Create Date: 2026-12-01 12:15:00

Adds seq / prev_hash / hash to audit_entries and the one-row chain head `audit_chain`. Entries written
before this revision are sealed here, in id order, with the application's GAOXIN_AUDIT_KEY (the upgrade
runs under `flask db upgrade`, inside the app): from now on they are vouched for as they stand today.
"""
from alembic import op
import sqlalchemy as sa

import gaoxin.models.base


# revision identifiers, used by Alembic.
revision = '0004_audit_chain'
down_revision = '0003_password_policy'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("seq", "id", "at", "user_id", "username", "ip", "action", "object_type", "object_id",
                 "result", "detail")


def upgrade():
    op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=False),
    sa.Column('anchor_seq', sa.BigInteger(), nullable=False),
    sa.Column('anchor_hash', sa.String(length=64), nullable=False),
    sa.Column('anchor_mac', sa.String(length=64), nullable=False),
    sa.Column('verified_at', gaoxin.models.base.UTCDateTime(), nullable=True),
    sa.Column('verified_ok', sa.Boolean(), nullable=True),
    sa.Column('verified_count', sa.BigInteger(), nullable=True),
    sa.Column('verified_message', sa.Text(), nullable=True),
    sa.Column('verified_mac', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_entries_seq'), ['seq'], unique=True)
    _seal_existing_entries()


def _seal_existing_entries():
    """Chain the entries already in the table (id order) and write the head, genesis when there are none."""
    from gaoxin.services.audit import _mac, audit_key, entry_hash

    bind = op.get_bind()
    entries = sa.table('audit_entries', *(sa.column(name) for name in HASHED_FIELDS if name != 'at'),
                       sa.column('at', gaoxin.models.base.UTCDateTime()), sa.column('prev_hash'), sa.column('hash'))
    key, seq, prev, sealed = None, 0, GENESIS_HASH, []
    for row in bind.execute(sa.select(entries).order_by(entries.c.id)).mappings():
        key = key or audit_key()
        seq += 1
        values = {**row, "seq": seq}
        digest = entry_hash(key, prev, values)
        sealed.append({"row_id": row["id"], "new_seq": seq, "new_prev": prev, "new_hash": digest})
        prev = digest
    if sealed:
        bind.execute(entries.update().where(entries.c.id == sa.bindparam("row_id")).values(
            seq=sa.bindparam("new_seq"), prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")), sealed)
    chain = sa.table('audit_chain', *(sa.column(name) for name in (
        'id', 'seq', 'hash', 'mac', 'anchor_seq', 'anchor_hash', 'anchor_mac')))
    bind.execute(chain.insert().values(id=1, seq=seq, hash=prev, mac=_mac(key, "head", seq, prev) if key else "",
                                       anchor_seq=0, anchor_hash=GENESIS_HASH, anchor_mac=""))


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_seq'))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    op.drop_table('audit_chain')
