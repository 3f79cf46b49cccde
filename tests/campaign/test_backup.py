"""`campaign backup` and `campaign restore` give back every row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from campaign import backup, migrate
from campaign.accounts import service as accounts_service
from campaign.accounts.models import User
from campaign.audit import AuditEntry
from campaign.db import make_engine
from campaign.errors import InvalidInput
from tests import services


def test_backup_then_restore_brings_back_every_row(tmp_path):
    with services.fresh_database(tmp_path, "backup") as url:
        engine = make_engine(url)
        migrate.upgrade(engine=engine)
        with Session(engine) as session:
            for number in range(25):
                accounts_service.create_user(session, email=f"person{number}@example.org", role="volunteer",
                                             password="a long enough password", actor="tests")
            session.commit()
            before = {user.email: user.password_hash for user in session.exec(select(User))}
            audit_count = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        archive = backup.backup(tmp_path / "cosign.backup", url=url)

        with engine.begin() as connection:  # a mistake after the backup
            connection.execute(sa.delete(AuditEntry))
            connection.execute(sa.delete(User).where(User.email.like("person1%")))
        engine.dispose()

        backup.restore(archive, url=url)
        engine = make_engine(url)
        with Session(engine) as session:
            after = {user.email: user.password_hash for user in session.exec(select(User))}
            assert after == before
            assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_count == 25
        assert migrate.current(engine=engine) is not None
        engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "holiday-photo.jpg"
    bogus.write_bytes(b"\xff\xd8\xff\xe0 not a database")
    with pytest.raises(InvalidInput, match="is not a"):
        backup.restore(bogus)
    with pytest.raises(InvalidInput, match="No backup file"):
        backup.restore(tmp_path / "missing.backup")
