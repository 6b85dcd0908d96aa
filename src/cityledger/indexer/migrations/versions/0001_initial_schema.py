"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 02:13:19.878621
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('access',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('requester', sa.String(length=42), nullable=False),
    sa.Column('purpose', sa.String(length=66), nullable=False),
    sa.Column('terms_hash', sa.String(length=66), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('expiry', sa.BigInteger(), nullable=True),
    sa.Column('requested_block', sa.BigInteger(), nullable=False),
    sa.Column('requested_at', sa.BigInteger(), nullable=False),
    sa.Column('requested_tx', sa.String(length=66), nullable=False),
    sa.Column('granted_block', sa.BigInteger(), nullable=True),
    sa.Column('granted_at', sa.BigInteger(), nullable=True),
    sa.Column('granted_tx', sa.String(length=66), nullable=True),
    sa.Column('refused_block', sa.BigInteger(), nullable=True),
    sa.Column('refused_at', sa.BigInteger(), nullable=True),
    sa.Column('refused_tx', sa.String(length=66), nullable=True),
    sa.Column('refused_reason', sa.String(length=66), nullable=True),
    sa.Column('ended_block', sa.BigInteger(), nullable=True),
    sa.Column('ended_at', sa.BigInteger(), nullable=True),
    sa.Column('ended_tx', sa.String(length=66), nullable=True),
    sa.Column('ended_by', sa.String(length=42), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access'))
    )
    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requester'), ['requester'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_status'), ['status'], unique=False)

    op.create_table('attestations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('auditor', sa.String(length=42), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('report_hash', sa.String(length=66), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('added_block', sa.BigInteger(), nullable=False),
    sa.Column('added_at', sa.BigInteger(), nullable=False),
    sa.Column('added_tx', sa.String(length=66), nullable=False),
    sa.Column('revoked_block', sa.BigInteger(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.Column('revoked_tx', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestations'))
    )
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attestations_auditor'), ['auditor'], unique=False)
        batch_op.create_index(batch_op.f('ix_attestations_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('blocks',
    sa.Column('number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=66), nullable=False),
    sa.Column('parent_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_blocks'))
    )
    op.create_table('checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=66), nullable=False),
    sa.Column('start_block', sa.BigInteger(), nullable=False),
    sa.Column('head_block', sa.BigInteger(), nullable=True),
    sa.Column('finalized_block', sa.BigInteger(), nullable=True),
    sa.Column('confirmations', sa.Integer(), nullable=False),
    sa.Column('roles_address', sa.String(length=42), nullable=False),
    sa.Column('datasets_address', sa.String(length=42), nullable=False),
    sa.Column('consents_address', sa.String(length=42), nullable=False),
    sa.Column('access_address', sa.String(length=42), nullable=False),
    sa.Column('rights_address', sa.String(length=42), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=True),
    sa.Column('rpc_error', sa.Text(), nullable=True),
    sa.Column('rpc_error_at', sa.BigInteger(), nullable=True),
    sa.Column('reorgs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoint'))
    )
    op.create_table('consent_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=66), nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('purpose', sa.String(length=66), nullable=False),
    sa.Column('scope_kind', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.String(length=66), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('expiry', sa.BigInteger(), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('submitted_by', sa.String(length=42), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_consent_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_events_citizen_block_number'), ['citizen', 'block_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_key_block_number'), ['key', 'block_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_purpose_scope_kind_scope_id_block_number'), ['purpose', 'scope_kind', 'scope_id', 'block_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_timestamp'), ['timestamp'], unique=False)

    op.create_table('consents',
    sa.Column('key', sa.String(length=66), nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('purpose', sa.String(length=66), nullable=False),
    sa.Column('scope_kind', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.String(length=66), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('expiry', sa.BigInteger(), nullable=False),
    sa.Column('nonce', sa.BigInteger(), nullable=False),
    sa.Column('granted_at', sa.BigInteger(), nullable=False),
    sa.Column('granted_block', sa.BigInteger(), nullable=False),
    sa.Column('granted_tx', sa.String(length=66), nullable=False),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.Column('revoked_block', sa.BigInteger(), nullable=True),
    sa.Column('revoked_tx', sa.String(length=66), nullable=True),
    sa.Column('submitted_by', sa.String(length=42), nullable=False),
    sa.Column('updated_block', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_consents')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_citizen'), ['citizen'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_purpose_scope_kind_scope_id'), ['purpose', 'scope_kind', 'scope_id'], unique=False)

    op.create_table('datasets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('publisher', sa.String(length=42), nullable=False),
    sa.Column('content_hash', sa.String(length=66), nullable=False),
    sa.Column('metadata_hash', sa.String(length=66), nullable=False),
    sa.Column('metadata_uri', sa.Text(), nullable=False),
    sa.Column('domain', sa.Integer(), nullable=False),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('supersedes', sa.BigInteger(), nullable=True),
    sa.Column('successor', sa.BigInteger(), nullable=True),
    sa.Column('successor_block', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('registered_block', sa.BigInteger(), nullable=False),
    sa.Column('registered_at', sa.BigInteger(), nullable=False),
    sa.Column('registered_tx', sa.String(length=66), nullable=False),
    sa.Column('withdrawn_block', sa.BigInteger(), nullable=True),
    sa.Column('withdrawn_at', sa.BigInteger(), nullable=True),
    sa.Column('withdrawn_tx', sa.String(length=66), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_datasets')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_datasets_content_hash'))
    )
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_datasets_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_datasets_publisher'), ['publisher'], unique=False)
        batch_op.create_index(batch_op.f('ix_datasets_registered_at'), ['registered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_datasets_supersedes'), ['supersedes'], unique=False)

    op.create_table('ownership_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('previous_owner', sa.String(length=42), nullable=False),
    sa.Column('new_owner', sa.String(length=42), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_ownership_events')),
    sqlite_with_rowid=False
    )
    op.create_table('releases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('access_id', sa.BigInteger(), nullable=False),
    sa.Column('grantee', sa.String(length=42), nullable=False),
    sa.Column('dataset_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=66), nullable=False),
    sa.Column('subject_count', sa.BigInteger(), nullable=False),
    sa.Column('consent_root', sa.String(length=66), nullable=False),
    sa.Column('snapshot_block', sa.BigInteger(), nullable=False),
    sa.Column('release_hash', sa.String(length=66), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases'))
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_releases_access_id'), ['access_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_releases_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_releases_grantee'), ['grantee'], unique=False)

    op.create_table('rights_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('citizen', sa.String(length=42), nullable=False),
    sa.Column('publisher', sa.String(length=42), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=66), nullable=False),
    sa.Column('details_hash', sa.String(length=66), nullable=False),
    sa.Column('deadline', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('filed_block', sa.BigInteger(), nullable=False),
    sa.Column('filed_at', sa.BigInteger(), nullable=False),
    sa.Column('filed_tx', sa.String(length=66), nullable=False),
    sa.Column('answered_block', sa.BigInteger(), nullable=True),
    sa.Column('answered_at', sa.BigInteger(), nullable=True),
    sa.Column('answered_tx', sa.String(length=66), nullable=True),
    sa.Column('answer_hash', sa.String(length=66), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=True),
    sa.Column('withdrawn_block', sa.BigInteger(), nullable=True),
    sa.Column('withdrawn_at', sa.BigInteger(), nullable=True),
    sa.Column('withdrawn_tx', sa.String(length=66), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rights_requests'))
    )
    with op.batch_alter_table('rights_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rights_requests_citizen'), ['citizen'], unique=False)
        batch_op.create_index(batch_op.f('ix_rights_requests_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_rights_requests_publisher'), ['publisher'], unique=False)
        batch_op.create_index(batch_op.f('ix_rights_requests_status'), ['status'], unique=False)

    op.create_table('role_events',
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('role', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=42), nullable=False),
    sa.PrimaryKeyConstraint('block_number', 'log_index', name=op.f('pk_role_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('role_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_events_account'), ['account'], unique=False)

    op.create_table('roles',
    sa.Column('account', sa.String(length=42), nullable=False),
    sa.Column('role', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('granted_by', sa.String(length=42), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.PrimaryKeyConstraint('account', 'role', name=op.f('pk_roles')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roles_role'), ['role'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roles_role'))

    op.drop_table('roles')
    with op.batch_alter_table('role_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_events_account'))

    op.drop_table('role_events')
    with op.batch_alter_table('rights_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rights_requests_status'))
        batch_op.drop_index(batch_op.f('ix_rights_requests_publisher'))
        batch_op.drop_index(batch_op.f('ix_rights_requests_deadline'))
        batch_op.drop_index(batch_op.f('ix_rights_requests_citizen'))

    op.drop_table('rights_requests')
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_releases_grantee'))
        batch_op.drop_index(batch_op.f('ix_releases_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_releases_access_id'))

    op.drop_table('releases')
    op.drop_table('ownership_events')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_datasets_supersedes'))
        batch_op.drop_index(batch_op.f('ix_datasets_registered_at'))
        batch_op.drop_index(batch_op.f('ix_datasets_publisher'))
        batch_op.drop_index(batch_op.f('ix_datasets_domain'))

    op.drop_table('datasets')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_purpose_scope_kind_scope_id'))
        batch_op.drop_index(batch_op.f('ix_consents_citizen'))

    op.drop_table('consents')
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_events_timestamp'))
        batch_op.drop_index(batch_op.f('ix_consent_events_purpose_scope_kind_scope_id_block_number'))
        batch_op.drop_index(batch_op.f('ix_consent_events_key_block_number'))
        batch_op.drop_index(batch_op.f('ix_consent_events_citizen_block_number'))

    op.drop_table('consent_events')
    op.drop_table('checkpoint')
    op.drop_table('blocks')
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attestations_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_attestations_auditor'))

    op.drop_table('attestations')
    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_status'))
        batch_op.drop_index(batch_op.f('ix_access_requester'))
        batch_op.drop_index(batch_op.f('ix_access_dataset_id'))

    op.drop_table('access')

