"""responses and follow ups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:32:53.456587
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_up_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('applies_to', sa.Enum('letter', 'signing_invitation', name='followupsource', native_enum=False, length=28), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('remind_owner', 'queue_chaser', name='followupaction', native_enum=False, length=22), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_follow_up_rule_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_rule')),
    sa.UniqueConstraint('campaign_id', 'applies_to', name=op.f('uq_follow_up_rule_campaign_id_applies_to'))
    )
    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('reply', 'meeting', 'signed', 'declined', 'question_tabled', 'question_answered', 'no_reply', name='responsekind', native_enum=False, length=27), nullable=False),
    sa.Column('channel', sa.Enum('email', 'letter', 'phone', 'meeting', 'social', 'other', name='responsechannel', native_enum=False, length=17), nullable=False),
    sa.Column('occurred_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=True),
    sa.Column('stance_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('logged_by_label', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_response_ask_id_ask'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_response_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_response_event_id_event'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_response_letter_id_letter'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['logged_by_id'], ['user_account.id'], name=op.f('fk_response_logged_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_response_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_response_question_id_question'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stance_id'], ['stance.id'], name=op.f('fk_response_stance_id_stance'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_campaign_id_occurred_date', ['campaign_id', 'occurred_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index('ix_response_person_id_letter_id', ['person_id', 'letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_question_id'), ['question_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=120), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('reminder', 'chaser', name='followupkind', native_enum=False, length=18), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'chaser_queued', name='followupstatus', native_enum=False, length=23), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_response_id', sa.Integer(), nullable=True),
    sa.Column('chaser_outbox_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_follow_up_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_follow_up_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chaser_outbox_id'], ['outbox_message.id'], name=op.f('fk_follow_up_chaser_outbox_id_outbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_response_id'], ['response.id'], name=op.f('fk_follow_up_closed_by_response_id_response'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invitation_id'], ['signing_invitation.id'], name=op.f('fk_follow_up_invitation_id_signing_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_follow_up_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'], name=op.f('fk_follow_up_outbox_message_id_outbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_follow_up_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['follow_up_rule.id'], name=op.f('fk_follow_up_rule_id_follow_up_rule'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up')),
    sa.UniqueConstraint('source_key', name=op.f('uq_follow_up_source_key'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index('ix_follow_up_person_id_status', ['person_id', 'status'], unique=False)
        batch_op.create_index('ix_follow_up_status_due_at', ['status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_due_at')
        batch_op.drop_index('ix_follow_up_person_id_status')
        batch_op.drop_index(batch_op.f('ix_follow_up_letter_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_campaign_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_question_id'))
        batch_op.drop_index('ix_response_person_id_letter_id')
        batch_op.drop_index(batch_op.f('ix_response_letter_id'))
        batch_op.drop_index('ix_response_campaign_id_occurred_date')

    op.drop_table('response')
    op.drop_table('follow_up_rule')
