"""the second round's contracts: new events, tables and columns

DeletionRegistry, organisation profiles, release operators, privacy budgets and private queries,
deletion obligations, cancelled signatures, skipped batch entries, the access role and cancellation,
k and logged_by of a release, release audits; a content hash is no longer unique (one registration
per publisher).

Written beside the writer lease (0004) and ordered after it at the merge.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:29:17
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('spent', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_budget_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('budget_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_events_access_id'), ['access_id'], unique=False)

    op.create_table('deletion_obligations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('release_id', sa.BigInteger(), nullable=False),
    sa.Column('recipient', sa.String(length=42), nullable=False),
    sa.Column('subject', sa.String(length=42), nullable=False),
    sa.Column('deadline', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=42), nullable=False),
    sa.Column('requested_block', sa.BigInteger(), nullable=False),
    sa.Column('requested_at', sa.BigInteger(), nullable=False),
    sa.Column('requested_tx', sa.String(length=66), nullable=False),
    sa.Column('confirmed_block', sa.BigInteger(), nullable=True),
    sa.Column('confirmed_at', sa.BigInteger(), nullable=True),
    sa.Column('confirmed_tx', sa.String(length=66), nullable=True),
    sa.Column('evidence_hash', sa.String(length=66), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deletion_obligations'))
    )
    with op.batch_alter_table('deletion_obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deletion_obligations_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_deletion_obligations_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_deletion_obligations_release_id'), ['release_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deletion_obligations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_deletion_obligations_subject'), ['subject'], unique=False)

    op.create_table('operator_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('publisher', sa.String(length=42), nullable=False),
    sa.Column('operator', sa.String(length=42), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_operator_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('operator_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_events_operator'), ['operator'], unique=False)
        batch_op.create_index(batch_op.f('ix_operator_events_publisher'), ['publisher'], unique=False)

    op.create_table('private_queries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('epsilon_spent', sa.BigInteger(), nullable=False),
    sa.Column('spent_total', sa.BigInteger(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('query_hash', sa.String(length=66), nullable=False),
    sa.Column('consent_root', sa.String(length=66), nullable=False),
    sa.Column('snapshot_block', sa.BigInteger(), nullable=False),
    sa.Column('subject_count', sa.BigInteger(), nullable=False),
    sa.Column('logged_by', sa.String(length=42), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_private_queries'))
    )
    with op.batch_alter_table('private_queries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_private_queries_access_id'), ['access_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_private_queries_grantee'), ['grantee'], unique=False)

    op.create_table('profile_documents',
    sa.Column('profile_hash', sa.String(length=66), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('jurisdiction', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('profile_hash', name=op.f('pk_profile_documents')),
    sqlite_with_rowid=False
    )
    op.create_table('profile_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('profile_hash', sa.String(length=66), nullable=False),
    sa.Column('profile_uri', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=42), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_profile_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('profile_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_events_account'), ['account'], unique=False)

    op.create_table('release_audits',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('snapshot_hash', sa.String(length=66), nullable=True),
    sa.Column('lacking_consent', sa.BigInteger(), nullable=True),
    sa.Column('checked_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'id', name=op.f('pk_release_audits')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('release_audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_audits_block_number'), ['block_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_release_audits_status'), ['status'], unique=False)

    op.create_table('signature_cancellations',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=66), nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_signature_cancellations')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('signature_cancellations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_cancellations_citizen'), ['citizen'], unique=False)
        batch_op.create_index(batch_op.f('ix_signature_cancellations_key'), ['key'], unique=False)

    op.create_table('skipped_grants',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('batch_index', sa.Integer(), nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('key', sa.String(length=66), nullable=False),
    sa.Column('reason', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_skipped_grants')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('skipped_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skipped_grants_citizen'), ['citizen'], unique=False)

    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_block', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_tx', sa.String(length=66), nullable=True))

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_address', sa.String(length=42), nullable=True))

    # Several publishers (or one, after a withdrawal) may register the same bytes.
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_datasets_content_hash'), type_='unique')
        batch_op.create_index(batch_op.f('ix_datasets_content_hash'), ['content_hash'], unique=False)

    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('k_anonymity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('logged_by', sa.String(length=42), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_column('logged_by')
        batch_op.drop_column('k_anonymity')

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_datasets_content_hash'))
        batch_op.create_unique_constraint(batch_op.f('uq_datasets_content_hash'), ['content_hash'])

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_column('deletion_address')

    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.drop_column('cancelled_tx')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('cancelled_block')
        batch_op.drop_column('role')

    with op.batch_alter_table('skipped_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skipped_grants_citizen'))

    op.drop_table('skipped_grants')
    with op.batch_alter_table('signature_cancellations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_cancellations_key'))
        batch_op.drop_index(batch_op.f('ix_signature_cancellations_citizen'))

    op.drop_table('signature_cancellations')
    with op.batch_alter_table('release_audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_audits_status'))
        batch_op.drop_index(batch_op.f('ix_release_audits_block_number'))

    op.drop_table('release_audits')
    with op.batch_alter_table('profile_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_events_account'))

    op.drop_table('profile_events')
    op.drop_table('profile_documents')
    with op.batch_alter_table('private_queries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_private_queries_grantee'))
        batch_op.drop_index(batch_op.f('ix_private_queries_access_id'))

    op.drop_table('private_queries')
    with op.batch_alter_table('operator_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_events_publisher'))
        batch_op.drop_index(batch_op.f('ix_operator_events_operator'))

    op.drop_table('operator_events')
    with op.batch_alter_table('deletion_obligations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deletion_obligations_subject'))
        batch_op.drop_index(batch_op.f('ix_deletion_obligations_status'))
        batch_op.drop_index(batch_op.f('ix_deletion_obligations_release_id'))
        batch_op.drop_index(batch_op.f('ix_deletion_obligations_recipient'))
        batch_op.drop_index(batch_op.f('ix_deletion_obligations_deadline'))

    op.drop_table('deletion_obligations')
    with op.batch_alter_table('budget_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_events_access_id'))

    op.drop_table('budget_events')
