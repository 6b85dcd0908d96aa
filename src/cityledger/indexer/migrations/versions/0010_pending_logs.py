"""dataroom_pending_releases and dataroom_answers: a release or a private answer is recorded after its
log transaction is signed and before it is sent, so a crash loses neither (dataroom/pending.py)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataroom_pending_releases',
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('operator', sa.String(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('sha256', sa.String(length=66), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('rows_in', sa.BigInteger(), nullable=False),
    sa.Column('rows_out', sa.BigInteger(), nullable=False),
    sa.Column('snapshot_hash', sa.String(length=66), nullable=False),
    sa.Column('spool', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tx_hash', name=op.f('pk_dataroom_pending_releases')),
    sqlite_with_rowid=False
    )
    op.create_table('dataroom_answers',
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('operator', sa.String(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('query_hash', sa.String(length=66), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('query_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tx_hash', name=op.f('pk_dataroom_answers')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('dataroom_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataroom_answers_access_id'), ['access_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataroom_answers_query_hash'), ['query_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dataroom_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataroom_answers_query_hash'))
        batch_op.drop_index(batch_op.f('ix_dataroom_answers_access_id'))

    op.drop_table('dataroom_answers')
    op.drop_table('dataroom_pending_releases')
