"""Two digest runs at once (two beats by mistake, a redelivered task) still send one digest each."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from campaign.accounts import service as accounts
from campaign.accounts.models import Role
from campaign.db import make_engine, utcnow
from campaign.migrate import upgrade
from letters import followups
from tests import services
from tests.letters.test_responses import log, setup_world
from workers.models import OutboxKind, OutboxMessage


def test_two_digest_runs_at_once_queue_one_digest_per_coordinator(tmp_path):
    with services.fresh_database(tmp_path, "digests") as url:
        engine = make_engine(url)
        try:
            upgrade(engine=engine)
            writer = engine.execution_options(sqlite_begin="IMMEDIATE")
            with Session(writer, expire_on_commit=False) as session:
                staff, campaign, _, member, _ = setup_world(session)
                for n in range(3):
                    accounts.create_user(session, email=f"coordinator{n}@example.org", role=Role.coordinator,
                                         password="a long enough password")
                log(session, staff, person_id=member.id, campaign_id=campaign.id, kind="meeting", channel="phone",
                    summary="Agreed to meet")
                session.commit()
            now = utcnow()
            evening = datetime(now.year, now.month, now.day, 21, 0, tzinfo=UTC)
            evening += timedelta(days=1) if evening <= now else timedelta(0)

            start = threading.Barrier(2)
            made: list[int] = []
            errors: list[BaseException] = []

            def run() -> None:
                try:
                    with Session(writer, expire_on_commit=False) as session:
                        start.wait()
                        made.append(len(followups.send_digests(session, now=evening)))
                        session.commit()
                except BaseException as error:  # reported below, with the thread's traceback
                    errors.append(error)

            threads = [threading.Thread(target=run) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert errors == []
            with Session(engine) as session:
                digests = session.exec(select(OutboxMessage.recipient_address)
                                       .where(OutboxMessage.kind == OutboxKind.digest)).all()
            assert sorted(digests) == [f"coordinator{n}@example.org" for n in range(3)]
            assert sorted(made) == [0, 3]
        finally:
            engine.dispose()
