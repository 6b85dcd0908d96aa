"""checkpoint.node_inconsistent / node_inconsistent_since: a node that contradicts itself

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_inconsistent', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('node_inconsistent_since', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_column('node_inconsistent_since')
        batch_op.drop_column('node_inconsistent')
