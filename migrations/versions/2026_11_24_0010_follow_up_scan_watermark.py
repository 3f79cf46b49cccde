"""follow-up rules remember how far the scan has looked; sent messages indexed by campaign and time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 13:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('follow_up_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scanned_through', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_campaign_id_sent_at', ['campaign_id', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_campaign_id_sent_at')
    with op.batch_alter_table('follow_up_rule', schema=None) as batch_op:
        batch_op.drop_column('scanned_through')
