"""the relayer's outbox and rate limits: relay_senders, relay_requests, relay_attempts, relay_limits

Written beside the writer lease (0004), the second round's events (0005) and the stored quality
score (0006), and put after them at the merges (it touches none of their tables).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:13:06
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('relay_attempts',
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('max_fee', sa.BigInteger(), nullable=False),
    sa.Column('tip', sa.BigInteger(), nullable=True),
    sa.Column('sent_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tx_hash', name=op.f('pk_relay_attempts')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('relay_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_attempts_request_id'), ['request_id'], unique=False)

    op.create_table('relay_limits',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('tokens', sa.Double(), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_relay_limits')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('relay_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_limits_at'), ['at'], unique=False)

    op.create_table('relay_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('sender', sa.String(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('contract', sa.String(length=42), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('consent_key', sa.String(length=66), nullable=False),
    sa.Column('consent_nonce', sa.BigInteger(), nullable=False),
    sa.Column('digest', sa.String(length=66), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('gas', sa.BigInteger(), nullable=False),
    sa.Column('max_fee', sa.BigInteger(), nullable=False),
    sa.Column('tip', sa.BigInteger(), nullable=True),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('sent_at', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=True),
    sa.Column('worker', sa.String(length=80), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relay_requests')),
    sa.UniqueConstraint('chain_id', 'sender', 'nonce', name=op.f('uq_relay_requests_chain_id_sender_nonce'))
    )
    with op.batch_alter_table('relay_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_requests_contract_consent_key_consent_nonce'), ['contract', 'consent_key', 'consent_nonce'], unique=False)
        batch_op.create_index(batch_op.f('ix_relay_requests_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_relay_requests_status'), ['status'], unique=False)

    op.create_table('relay_senders',
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('sender', sa.String(length=42), nullable=False),
    sa.Column('next_nonce', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'sender', name=op.f('pk_relay_senders'))
    )


def downgrade() -> None:
    op.drop_table('relay_senders')
    with op.batch_alter_table('relay_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_requests_status'))
        batch_op.drop_index(batch_op.f('ix_relay_requests_digest'))
        batch_op.drop_index(batch_op.f('ix_relay_requests_contract_consent_key_consent_nonce'))

    op.drop_table('relay_requests')
    with op.batch_alter_table('relay_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_limits_at'))

    op.drop_table('relay_limits')
    with op.batch_alter_table('relay_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_attempts_request_id'))

    op.drop_table('relay_attempts')
