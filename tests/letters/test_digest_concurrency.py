"""Two digest runs at once (two beats by mistake, a redelivered task) still send one digest each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from campaign.accounts import service as accounts
from campaign.accounts.models import Role
from campaign.db import utcnow
from letters import followups
from tests.letters.concurrency import fresh_writer, twice_at_once
from tests.letters.test_responses import log, setup_world
from workers.models import OutboxKind, OutboxMessage


def test_two_digest_runs_at_once_queue_one_digest_per_coordinator(tmp_path):
    with fresh_writer(tmp_path, "digests") as writer:
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

        made = twice_at_once(writer, lambda session: len(followups.send_digests(session, now=evening)))
        with Session(writer) as session:
            digests = session.exec(select(OutboxMessage.recipient_address)
                                   .where(OutboxMessage.kind == OutboxKind.digest)).all()
        assert sorted(digests) == [f"coordinator{n}@example.org" for n in range(3)]
        assert made == [0, 3]
