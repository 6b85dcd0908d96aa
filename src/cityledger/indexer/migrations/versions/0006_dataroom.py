"""the data room: sign-in nonces and sessions, releases made by the data room,
download links, deliveries and the operator's sender lease (src/cityledger/dataroom/models.py)

After main's 0004 (writer lease) and ripple's 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:52:29.192833
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataroom_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('release_id', sa.BigInteger(), nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('recipient', sa.String(length=42), nullable=False),
    sa.Column('delivered_at', sa.BigInteger(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataroom_deliveries'))
    )
    with op.batch_alter_table('dataroom_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_deliveries_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataroom_deliveries_release_id'), ['release_id'], unique=False)

    op.create_table('dataroom_links',
    sa.Column('token_hash', sa.String(length=66), nullable=False),
    sa.Column('release_id', sa.BigInteger(), nullable=False),
    sa.Column('session_hash', sa.String(length=66), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_dataroom_links')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('dataroom_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_links_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_dataroom_links_release', ['release_id'], unique=False)

    op.create_table('dataroom_nonces',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_dataroom_nonces')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('dataroom_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_nonces_expires_at'), ['expires_at'], unique=False)

    op.create_table('dataroom_releases',
    sa.Column('release_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('sha256', sa.String(length=66), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('rows_in', sa.BigInteger(), nullable=False),
    sa.Column('rows_out', sa.BigInteger(), nullable=False),
    sa.Column('snapshot_hash', sa.String(length=66), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('release_id', name=op.f('pk_dataroom_releases'))
    )
    with op.batch_alter_table('dataroom_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_releases_access_id'), ['access_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataroom_releases_grantee'), ['grantee'], unique=False)

    op.create_table('dataroom_sender',
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('until', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_dataroom_sender')),
    sqlite_with_rowid=False
    )
    op.create_table('dataroom_sessions',
    sa.Column('id_hash', sa.String(length=66), nullable=False),
    sa.Column('address', sa.String(length=42), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_dataroom_sessions')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('dataroom_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_sessions_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataroom_sessions_expires_at'), ['expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dataroom_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataroom_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_dataroom_sessions_address'))

    op.drop_table('dataroom_sessions')
    op.drop_table('dataroom_sender')
    with op.batch_alter_table('dataroom_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataroom_releases_grantee'))
        batch_op.drop_index(batch_op.f('ix_dataroom_releases_access_id'))

    op.drop_table('dataroom_releases')
    with op.batch_alter_table('dataroom_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataroom_nonces_expires_at'))

    op.drop_table('dataroom_nonces')
    with op.batch_alter_table('dataroom_links', schema=None) as batch_op:
        batch_op.drop_index('ix_dataroom_links_release')
        batch_op.drop_index(batch_op.f('ix_dataroom_links_expires_at'))

    op.drop_table('dataroom_links')
    with op.batch_alter_table('dataroom_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataroom_deliveries_release_id'))
        batch_op.drop_index(batch_op.f('ix_dataroom_deliveries_recipient'))

    op.drop_table('dataroom_deliveries')
