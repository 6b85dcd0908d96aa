"""writer_lease: the one indexer that writes the store; checkpoint.leader / leader_since

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('writer_lease',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('since', sa.Double(), nullable=False),
    sa.Column('heartbeat_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_writer_lease'))
    )
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('leader_since', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_column('leader_since')
        batch_op.drop_column('leader')
    op.drop_table('writer_lease')
