"""dataset_metadata: searchable DCAT fields by metadata hash; datasets.registered_block index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_metadata',
    sa.Column('metadata_hash', sa.String(length=66), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('keywords', sa.Text(), nullable=True),
    sa.Column('license', sa.Text(), nullable=True),
    sa.Column('temporal', sa.Text(), nullable=True),
    sa.Column('spatial', sa.Text(), nullable=True),
    sa.Column('record_count', sa.BigInteger(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metadata_hash', name=op.f('pk_dataset_metadata')),
    sqlite_with_rowid=False
    )
    # The after-commit enrichment looks up the datasets a block range registered.
    op.create_index(op.f('ix_datasets_registered_block'), 'datasets', ['registered_block'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_datasets_registered_block'), table_name='datasets')
    op.drop_table('dataset_metadata')
