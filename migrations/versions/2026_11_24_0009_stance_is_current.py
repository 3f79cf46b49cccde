"""stance.is_current marks each person's latest stance on an ask; a covering membership index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# As in contacts/models.py: SQLite matches a partial index by the text of its condition.
CURRENT = {'sqlite_where': sa.text('is_current = 1'), 'postgresql_where': sa.text('is_current')}


def upgrade() -> None:
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_current', sa.Boolean(), server_default=sa.false(), nullable=False))
    # The latest row (highest id) of each person and ask is the current one, as before.
    op.execute(sa.text('UPDATE stance SET is_current = TRUE WHERE id IN '
                       '(SELECT max(id) FROM stance GROUP BY person_id, ask_id)'))
    op.create_index('uq_stance_current_person_id_ask_id', 'stance', ['person_id', 'ask_id'], unique=True,
                    **CURRENT)
    op.create_index('ix_stance_current_ask_id_position', 'stance', ['ask_id', 'position', 'person_id'],
                    **CURRENT)
    # The directory's membership tests read this index alone; it replaces the one on person_id.
    op.create_index('ix_membership_person_id_organization_id', 'membership',
                    ['person_id', 'organization_id', 'on_behalf_of_id', 'end_date'], unique=False)
    op.drop_index('ix_membership_person_id', table_name='membership')


def downgrade() -> None:
    op.create_index('ix_membership_person_id', 'membership', ['person_id'], unique=False)
    op.drop_index('ix_membership_person_id_organization_id', table_name='membership')
    op.drop_index('ix_stance_current_ask_id_position', table_name='stance')
    op.drop_index('uq_stance_current_person_id_ask_id', table_name='stance')
    with op.batch_alter_table('stance', schema=None) as batch_op:
        batch_op.drop_column('is_current')
