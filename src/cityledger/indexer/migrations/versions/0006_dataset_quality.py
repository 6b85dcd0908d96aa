"""dataset_quality: the metadata quality score of each verified document, for the catalogue's filter

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_quality',
    sa.Column('metadata_hash', sa.String(length=66), nullable=False),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('domain', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('max_score', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scored_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('metadata_hash', 'personal_data', 'domain', name=op.f('pk_dataset_quality')),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('dataset_quality')
