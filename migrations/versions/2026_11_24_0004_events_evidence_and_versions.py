"""events evidence and versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:48:33.493135
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'resolution', 'report', 'sanction', 'arrest_or_detention', 'court_ruling', 'hearing', 'debate', 'statement', 'letter_sent', 'meeting', 'response_logged', 'other', name='eventkind', native_enum=False, length=29), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('start_precision', sa.Enum('day', 'month', 'year', name='dateprecision', native_enum=False, length=15), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_precision', sa.Enum('day', 'month', 'year', name='dateprecision', native_enum=False, length=15), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=80), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_event_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_event_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_campaign_id_kind', ['campaign_id', 'kind'], unique=False)
        batch_op.create_index('ix_event_campaign_id_start_date', ['campaign_id', 'start_date'], unique=False)

    op.create_table('evidence',
    sa.Column('kind', sa.Enum('figure', 'quote', 'claim', 'table', 'document', name='evidencekind', native_enum=False, length=18), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('source_title', sa.String(length=500), nullable=False),
    sa.Column('source_author', sa.String(length=300), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=True),
    sa.Column('source_url', sa.String(length=1000), nullable=False),
    sa.Column('accessed_date', sa.Date(), nullable=True),
    sa.Column('archive_url', sa.String(length=1000), nullable=False),
    sa.Column('reliability_notes', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_evidence_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('campaign_id', 'slug', name=op.f('uq_evidence_campaign_id_slug'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_campaign_id_kind', ['campaign_id', 'kind'], unique=False)

    op.create_table('event_organization',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_organization_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_event_organization_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'organization_id', name=op.f('pk_event_organization'))
    )
    with op.batch_alter_table('event_organization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_organization_organization_id'), ['organization_id'], unique=False)

    op.create_table('event_person',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_person_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_event_person_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'person_id', name=op.f('pk_event_person'))
    )
    with op.batch_alter_table('event_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_person_person_id'), ['person_id'], unique=False)

    op.create_table('evidence_event',
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_evidence_event_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_event_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('evidence_id', 'event_id', name=op.f('pk_evidence_event'))
    )
    with op.batch_alter_table('evidence_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_event_event_id'), ['event_id'], unique=False)

    op.create_table('evidence_person',
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_person_evidence_id_evidence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_evidence_person_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('evidence_id', 'person_id', name=op.f('pk_evidence_person'))
    )
    with op.batch_alter_table('evidence_person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_person_person_id'), ['person_id'], unique=False)

    op.create_table('evidence_tag',
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_tag_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('evidence_id', 'tag', name=op.f('pk_evidence_tag'))
    )
    with op.batch_alter_table('evidence_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_tag_tag'), ['tag'], unique=False)

    op.create_table('evidence_version',
    sa.Column('kind', sa.Enum('figure', 'quote', 'claim', 'table', 'document', name='evidencekind', native_enum=False, length=18), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('source_title', sa.String(length=500), nullable=False),
    sa.Column('source_author', sa.String(length=300), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=True),
    sa.Column('source_url', sa.String(length=1000), nullable=False),
    sa.Column('accessed_date', sa.Date(), nullable=True),
    sa.Column('archive_url', sa.String(length=1000), nullable=False),
    sa.Column('reliability_notes', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('change_note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_evidence_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_version_evidence_id_evidence'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_version')),
    sa.UniqueConstraint('evidence_id', 'version', name=op.f('uq_evidence_version_evidence_id_version'))
    )
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_stance_source_evidence_id_evidence'), 'evidence', ['source_evidence_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stance_source_evidence_id_evidence'), type_='foreignkey')

    op.drop_table('evidence_version')
    with op.batch_alter_table('evidence_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_tag_tag'))

    op.drop_table('evidence_tag')
    with op.batch_alter_table('evidence_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_person_person_id'))

    op.drop_table('evidence_person')
    with op.batch_alter_table('evidence_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_event_event_id'))

    op.drop_table('evidence_event')
    with op.batch_alter_table('event_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_person_person_id'))

    op.drop_table('event_person')
    with op.batch_alter_table('event_organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_organization_organization_id'))

    op.drop_table('event_organization')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_campaign_id_kind')

    op.drop_table('evidence')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_campaign_id_start_date')
        batch_op.drop_index('ix_event_campaign_id_kind')

    op.drop_table('event')
