"""outbox message names the letter it delivers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 12:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_letter_id'), ['letter_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_letter_id_letter'), 'letter', ['letter_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_letter_id_letter'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_letter_id'))
        batch_op.drop_column('letter_id')
