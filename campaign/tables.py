"""Imports every module that defines tables, so SQLModel's metadata is complete.

Alembic's env.py and the migration drift test import this; add new model modules here.
"""

from campaign import audit  # noqa: F401
from campaign import models as campaign_models  # noqa: F401
from campaign.accounts import models as accounts_models  # noqa: F401
from workers import models as workers_models  # noqa: F401
from contacts import models as contacts_models  # noqa: F401
from letters import models as letters_models  # noqa: F401
