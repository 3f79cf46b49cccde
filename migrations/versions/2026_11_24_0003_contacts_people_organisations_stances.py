"""contacts people organisations stances

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:47:44.063845
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('abbreviation', sa.String(length=80), nullable=False),
    sa.Column('classification', sa.Enum('parliament', 'chamber', 'party', 'parliamentary_group', 'committee', 'department', 'cross_party_group', 'ngo', 'government', 'other', name='orgclassification', native_enum=False, length=29), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['organization.id'], name=op.f('fk_organization_parent_id_organization'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization'))
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.create_index('ix_organization_classification_name', ['classification', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_parent_id'), ['parent_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('sort_name', sa.String(length=300), nullable=False),
    sa.Column('honorific_prefix', sa.String(length=100), nullable=False),
    sa.Column('honorific_suffix', sa.String(length=100), nullable=False),
    sa.Column('other_names', sa.JSON(), nullable=False),
    sa.Column('search_name', sa.String(length=600), nullable=False),
    sa.Column('sort_key', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('emails', sa.JSON(), nullable=False),
    sa.Column('phones', sa.JSON(), nullable=False),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=False),
    sa.Column('gender', sa.String(length=40), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_search_name'), ['search_name'], unique=False)
        batch_op.create_index('ix_person_sort_key_id', ['sort_key', 'id'], unique=False)

    op.create_table('identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=80), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(person_id IS NULL) <> (organization_id IS NULL)', name=op.f('ck_identifier_one_owner')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_identifier_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_identifier_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifier')),
    sa.UniqueConstraint('scheme', 'value', name=op.f('uq_identifier_scheme_value'))
    )
    with op.batch_alter_table('identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identifier_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identifier_person_id'), ['person_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.Column('post_label', sa.String(length=300), nullable=False),
    sa.Column('post_id', sa.String(length=200), nullable=False),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['on_behalf_of_id'], ['organization.id'], name=op.f('fk_membership_on_behalf_of_id_organization'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_membership_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_membership_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_on_behalf_of_id'), ['on_behalf_of_id'], unique=False)
        batch_op.create_index('ix_membership_organization_id_end_date', ['organization_id', 'end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_person_id'), ['person_id'], unique=False)

    op.create_table('person_tag',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_tag_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'tag', name=op.f('pk_person_tag'))
    )
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_tag_tag'), ['tag'], unique=False)

    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_segment_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_segment_created_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment'))
    )
    with op.batch_alter_table('segment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('stance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Enum('champion', 'supportive', 'leaning_for', 'undecided', 'leaning_against', 'opposed', 'unknown', name='position', native_enum=False, length=25), nullable=False),
    sa.Column('source_kind', sa.Enum('evidence', 'response', 'url', 'note', name='stancesource', native_enum=False, length=18), nullable=False),
    sa.Column('source_evidence_id', sa.Integer(), nullable=True),
    sa.Column('source_response_id', sa.Integer(), nullable=True),
    sa.Column('source_url', sa.String(length=1000), nullable=False),
    sa.Column('source_note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_stance_ask_id_ask'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_stance_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_stance_recorded_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stance'))
    )
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stance_ask_id'), ['ask_id'], unique=False)
        batch_op.create_index('ix_stance_person_id_ask_id', ['person_id', 'ask_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.drop_index('ix_stance_person_id_ask_id')
        batch_op.drop_index(batch_op.f('ix_stance_ask_id'))

    op.drop_table('stance')
    with op.batch_alter_table('segment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segment_campaign_id'))

    op.drop_table('segment')
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_tag_tag'))

    op.drop_table('person_tag')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_person_id'))
        batch_op.drop_index('ix_membership_organization_id_end_date')
        batch_op.drop_index(batch_op.f('ix_membership_on_behalf_of_id'))
        batch_op.drop_index(batch_op.f('ix_membership_country'))

    op.drop_table('membership')
    with op.batch_alter_table('identifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identifier_person_id'))
        batch_op.drop_index(batch_op.f('ix_identifier_organization_id'))

    op.drop_table('identifier')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_sort_key_id')
        batch_op.drop_index(batch_op.f('ix_person_search_name'))
        batch_op.drop_index(batch_op.f('ix_person_email'))

    op.drop_table('person')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_parent_id'))
        batch_op.drop_index('ix_organization_classification_name')

    op.drop_table('organization')
