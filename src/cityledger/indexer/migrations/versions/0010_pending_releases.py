"""dataroom_pending_releases: a release whose log_release is signed, kept until its receipt is known

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


def downgrade() -> None:
    op.drop_table('dataroom_pending_releases')
