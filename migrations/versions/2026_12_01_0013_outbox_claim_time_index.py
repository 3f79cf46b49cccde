"""the rate limits read the claims of the last minute from one index on the claim time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:20:00
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _claim_time_index() -> tuple[str, list[str], dict]:
    """PostgreSQL includes the keys in the index; SQLite, which cannot, keys the index on them after the time."""
    if op.get_bind().dialect.name == 'postgresql':
        return 'ix_outbox_claim_claimed_at', ['claimed_at'], {'postgresql_include': ['recipient_domain', 'campaign_id']}
    return 'ix_outbox_claim_claimed_at_keys', ['claimed_at', 'recipient_domain', 'campaign_id'], {}


def upgrade() -> None:
    name, columns, options = _claim_time_index()
    op.create_index(name, 'outbox_claim', columns, unique=False, **options)
    op.drop_index('ix_outbox_claim_recipient_domain_claimed_at', table_name='outbox_claim')
    op.drop_index('ix_outbox_claim_campaign_id_claimed_at', table_name='outbox_claim')


def downgrade() -> None:
    op.create_index('ix_outbox_claim_campaign_id_claimed_at', 'outbox_claim', ['campaign_id', 'claimed_at'],
                    unique=False)
    op.create_index('ix_outbox_claim_recipient_domain_claimed_at', 'outbox_claim', ['recipient_domain', 'claimed_at'],
                    unique=False)
    op.drop_index(_claim_time_index()[0], table_name='outbox_claim')
