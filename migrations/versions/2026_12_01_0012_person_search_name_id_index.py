"""the person name search index carries the id, so PostgreSQL counts a name search from the index alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 08:00:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_person_search_name_id', 'person', ['search_name', 'id'], unique=False)
    op.drop_index('ix_person_search_name', table_name='person')


def downgrade() -> None:
    op.create_index('ix_person_search_name', 'person', ['search_name'], unique=False)
    op.drop_index('ix_person_search_name_id', table_name='person')
