"""claims on due messages move to their own narrow table, so claiming no longer rewrites outbox rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox_claim',
        sa.Column('message_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=100), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recipient_domain', sa.String(length=255), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('message_id', 'token', name=op.f('pk_outbox_claim')),
    )
    with op.batch_alter_table('outbox_claim', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_claim_campaign_id_claimed_at', ['campaign_id', 'claimed_at'], unique=False)
        batch_op.create_index('ix_outbox_claim_recipient_domain_claimed_at', ['recipient_domain', 'claimed_at'],
                              unique=False)
    # Claimed but not started under the old scheme: scheduled again, due when their lease ends.
    op.execute("UPDATE outbox_message SET status = 'scheduled', claimed_by = NULL, claimed_at = NULL, "
               "lease_expires_at = NULL WHERE status = 'sending' AND send_started_at IS NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_campaign_id_claimed_at')
        batch_op.drop_index('ix_outbox_message_recipient_domain_claimed_at')


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_recipient_domain_claimed_at', ['recipient_domain', 'claimed_at'],
                              unique=False)
        batch_op.create_index('ix_outbox_message_campaign_id_claimed_at', ['campaign_id', 'claimed_at'],
                              unique=False)
    with op.batch_alter_table('outbox_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_claim_recipient_domain_claimed_at')
        batch_op.drop_index('ix_outbox_claim_campaign_id_claimed_at')
    op.drop_table('outbox_claim')
