"""letters templates drafts questions signatures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:57:38.832431
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('letter_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('head_of_government', 'open_letter', 'member_to_minister', 'commons_written_question', 'lords_written_question', 'oral_question', 'ep_written_question', 'us_congressional_letter', 'signatory_invitation', 'follow_up_chaser', name='letterkind', native_enum=False, length=34), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_letter_template_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_template')),
    sa.UniqueConstraint('slug', name=op.f('uq_letter_template_slug'))
    )
    with op.batch_alter_table('letter_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_template_kind'), ['kind'], unique=False)

    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('chamber', sa.Enum('commons_written', 'commons_oral', 'lords_written', 'lords_oral', 'ep_written', name='chamber', native_enum=False, length=25), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('addressee', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('named_day', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'suggested', 'tabled', 'answered', 'withdrawn', name='questionstate', native_enum=False, length=19), nullable=False),
    sa.Column('asking_member_id', sa.Integer(), nullable=True),
    sa.Column('tabled_reference', sa.String(length=80), nullable=False),
    sa.Column('tabled_date', sa.Date(), nullable=True),
    sa.Column('answer_due_date', sa.Date(), nullable=True),
    sa.Column('answered_date', sa.Date(), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asking_member_id'], ['person.id'], name=op.f('fk_question_asking_member_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_question_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_question_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_asking_member_id'), ['asking_member_id'], unique=False)
        batch_op.create_index('ix_question_campaign_id_state', ['campaign_id', 'state'], unique=False)

    op.create_table('letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('head_of_government', 'open_letter', 'member_to_minister', 'commons_written_question', 'lords_written_question', 'oral_question', 'ep_written_question', 'us_congressional_letter', 'signatory_invitation', 'follow_up_chaser', name='letterkind', native_enum=False, length=34), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('addressees', sa.JSON(), nullable=False),
    sa.Column('recipient_segment_id', sa.Integer(), nullable=True),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('sender_organisation', sa.String(length=300), nullable=False),
    sa.Column('sender_email', sa.String(length=320), nullable=False),
    sa.Column('state', sa.Enum('draft', 'in_review', 'approved', 'open_for_signatures', 'signatures_closed', 'scheduled', 'sent', 'withdrawn', name='letterstate', native_enum=False, length=29), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('publish', sa.Boolean(), nullable=False),
    sa.Column('signing_closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_letter_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_letter_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_letter_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_segment_id'], ['segment.id'], name=op.f('fk_letter_recipient_segment_id_segment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['letter_template.id'], name=op.f('fk_letter_template_id_letter_template'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter'))
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index('ix_letter_campaign_id_state', ['campaign_id', 'state'], unique=False)

    op.create_table('letter_citation',
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('evidence_version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evidence_version_id'], ['evidence_version.id'], name=op.f('fk_letter_citation_evidence_version_id_evidence_version')),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_letter_citation_letter_id_letter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('letter_id', 'slug', name=op.f('pk_letter_citation'))
    )
    with op.batch_alter_table('letter_citation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_citation_evidence_version_id'), ['evidence_version_id'], unique=False)

    op.create_table('letter_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('addressees', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'in_review', 'approved', 'open_for_signatures', 'signatures_closed', 'scheduled', 'sent', 'withdrawn', name='letterstate', native_enum=False, length=29), nullable=False),
    sa.Column('change_note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_letter_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_letter_version_letter_id_letter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_version')),
    sa.UniqueConstraint('letter_id', 'version', name=op.f('uq_letter_version_letter_id_version'))
    )
    op.create_table('signing_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_chased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chase_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_signing_invitation_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_signing_invitation_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_signing_invitation_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_invitation')),
    sa.UniqueConstraint('letter_id', 'person_id', name=op.f('uq_signing_invitation_letter_id_person_id'))
    )
    with op.batch_alter_table('signing_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_invitation_person_id'), ['person_id'], unique=False)

    op.create_table('signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('signed', 'declined', 'correction_requested', 'withdrawn', name='signaturestatus', native_enum=False, length=30), nullable=False),
    sa.Column('printed_name', sa.String(length=300), nullable=False),
    sa.Column('printed_title', sa.String(length=300), nullable=False),
    sa.Column('correction_note', sa.Text(), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['signing_invitation.id'], name=op.f('fk_signature_invitation_id_signing_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_signature_letter_id_letter'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_signature_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature')),
    sa.UniqueConstraint('letter_id', 'person_id', name=op.f('uq_signature_letter_id_person_id'))
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index('ix_signature_letter_id_status', ['letter_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_signature_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_person_id'))
        batch_op.drop_index('ix_signature_letter_id_status')

    op.drop_table('signature')
    with op.batch_alter_table('signing_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_invitation_person_id'))

    op.drop_table('signing_invitation')
    op.drop_table('letter_version')
    with op.batch_alter_table('letter_citation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_citation_evidence_version_id'))

    op.drop_table('letter_citation')
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_campaign_id_state')

    op.drop_table('letter')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_campaign_id_state')
        batch_op.drop_index(batch_op.f('ix_question_asking_member_id'))

    op.drop_table('question')
    with op.batch_alter_table('letter_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_template_kind'))

    op.drop_table('letter_template')
