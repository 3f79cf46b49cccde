"""The outbox service: scheduling, claiming, delivering and recording, on the test's database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from campaign.db import get_engine, new_session, utcnow
from campaign.errors import Conflict, InvalidInput
from workers import outbox
from workers.mail import Accepted, Attachment, FileBackend, PermanentFailure, SmtpBackend, TemporaryFailure
from workers.models import DeliveryAttempt, DeliveryOutcome, OutboxAttachment, OutboxClaim, OutboxMessage, OutboxStatus
from tests.workers.factories import make_campaign, make_message

RULES = outbox.SendingRules(per_domain_per_minute=0, per_campaign_per_minute=0, lease_seconds=60,
                            retry_base_seconds=10, max_attempts=3)


class RecordingBackend:
    """Stands in for a server only where the test is about our bookkeeping, not about SMTP."""

    def __init__(self, answers=None):
        self.sent = []
        self.answers = list(answers or [])

    def send(self, mail):
        self.sent.append(mail)
        answer = self.answers.pop(0) if self.answers else Accepted(250, "250 OK")
        if isinstance(answer, Exception):
            raise answer
        return answer


def _claims(session, message_id):
    return list(session.scalars(select(OutboxClaim).where(OutboxClaim.message_id == message_id)
                                .order_by(OutboxClaim.claimed_at)))


def _deliver(open_test_session, claim, backend, rules=RULES):
    return outbox.deliver_batch(open_test_session, ids=claim.ids, claim=claim.token, backend=backend, rules=rules)


def test_schedule_stores_utc_and_a_deterministic_message_id(session):
    campaign = make_campaign(session, timezone="Europe/Paris", reply_to="campaign@ngo.example")
    local = datetime(2026, 12, 1, 9, 30)
    when = outbox.local_to_utc(local, campaign.timezone)
    message = make_message(session, when=when, campaign_id=campaign.id)
    assert message.scheduled_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert message.reply_to == "campaign@ngo.example"  # the campaign's address by default
    assert message.message_id == outbox.make_message_id(message.id)
    assert message.message_id.startswith(f"<cosign.{message.id}.") and message.message_id.endswith(">")
    assert message.status == OutboxStatus.scheduled and message.recipient_domain == "parliament.example"


def test_local_times_the_clocks_skip_are_refused():
    with pytest.raises(InvalidInput) as error:
        outbox.local_to_utc(datetime(2026, 3, 29, 1, 30), "Europe/London")
    assert error.value.errors[0].loc == "scheduled_at"
    with pytest.raises(InvalidInput):
        outbox.local_to_utc(datetime(2026, 3, 29, 9, 0), "Mars/Olympus_Mons")


def test_bad_input_says_what_and_where_and_writes_nothing(session):
    before = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    with pytest.raises(InvalidInput) as error:
        outbox.schedule(session, recipient_address="not an address", subject="two\nlines", text_body="",
                        scheduled_at=datetime(2026, 12, 1, 9, 30), campaign_id=999999)
    locs = {e.loc for e in error.value.errors}
    assert {"recipient_address", "subject", "text_body", "scheduled_at", "campaign_id"} <= locs
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before


def test_claim_takes_only_due_unpaused_rows_and_holds_them_under_a_lease(session):
    now = utcnow()
    due = make_message(session, number=1, when=now - timedelta(minutes=1))
    later = make_message(session, number=2, when=now + timedelta(hours=1))
    claim = outbox.claim_due(session, now=now, limit=10, worker="t", rules=RULES)
    assert due.id in claim.ids and later.id not in claim.ids
    [held] = _claims(session, due.id)
    assert held.token == claim.token and held.claimed_at == now and held.lease_until > now
    # Claiming writes nothing to the message: it is "sending" only once a worker starts it.
    row = outbox.get_message(session, message_id=due.id)
    assert row.status == OutboxStatus.scheduled and row.claimed_by is None
    started = outbox.start_attempt(session, message_id=due.id, claim=claim.token, now=now, rules=RULES)
    assert started is not None
    session.refresh(row)
    assert row.status == OutboxStatus.sending and row.claimed_by == claim.token
    assert row.lease_expires_at == row.next_attempt_at > now
    # A second claim finds nothing more; once the lease runs out (worker killed) it is due again.
    assert due.id not in outbox.claim_due(session, now=now, limit=10, rules=RULES).ids
    again = outbox.claim_due(session, now=now + timedelta(seconds=61), limit=10, rules=RULES)
    assert due.id in again.ids and again.token != claim.token


def test_a_claim_takes_the_rows_whose_sending_lease_ran_out_before_the_scheduled_ones(session, open_test_session,
                                                                                     monkeypatch):
    now = utcnow()
    stale = make_message(session, number=1, when=now - timedelta(seconds=5))
    first = outbox.claim_due(session, now=now, limit=10, rules=RULES)
    assert outbox.start_attempt(session, message_id=stale.id, claim=first.token, now=now, rules=RULES) is not None
    # Its worker died while sending: the row stays "sending" and is due again when the lease ends.
    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == stale.id)
                    .values(next_attempt_at=now - timedelta(seconds=1)))
    _lease_runs_out(session, stale.id)
    scheduled = [make_message(session, number=n, when=now - timedelta(minutes=n)) for n in (2, 3, 4)]
    statements = []
    run, run_together = outbox.prepared.run, outbox.prepared.run_together
    monkeypatch.setattr(outbox.prepared, "run", lambda *args: statements.append(args[1]) or run(*args))
    monkeypatch.setattr(outbox.prepared, "run_together",
                        lambda connection, steps: statements.extend(s for s, _ in steps)
                        or run_together(connection, steps))
    claim = outbox.claim_due(session, now=now, limit=3, rules=RULES)
    assert stale.id in claim.ids and len(claim.ids) == 3
    assert set(claim.ids) - {stale.id} == {scheduled[2].id, scheduled[1].id}  # then the longest due
    # On PostgreSQL both parts are one statement (one round trip); on SQLite one per status.
    assert len(statements) == (1 if session.get_bind().dialect.name == "postgresql" else 2)


def test_deliver_sends_once_and_records_the_attempt(session, open_test_session):
    message = make_message(session)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    backend = RecordingBackend([Accepted(250, "250 2.0.0 OK queued as 42")])
    assert _deliver(open_test_session, claim, backend)["sent"] == 1
    row = outbox.get_message(session, message_id=message.id)
    assert row.status == OutboxStatus.sent and row.sent_at is not None and row.claimed_by is None
    assert row.smtp_response == "250 2.0.0 OK queued as 42" and row.attempts == 1
    [attempt] = outbox.attempts_for(session, message_id=message.id)
    assert attempt.outcome == DeliveryOutcome.sent and attempt.response.endswith("queued as 42")
    # The same task delivered again (broker redelivery) changes nothing and sends nothing.
    assert _deliver(open_test_session, claim, backend)["skipped"] == 1
    assert len(backend.sent) == 1


def test_a_claim_whose_lease_ran_out_is_taken_again_and_the_stale_one_sends_nothing(session, open_test_session):
    message = make_message(session)
    now = utcnow()
    lost = outbox.claim_due(session, now=now, limit=10, rules=RULES)
    assert outbox.claim_due(session, now=now + timedelta(seconds=59), limit=10, rules=RULES).ids == []
    _lease_runs_out(session, message.id)
    again = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    assert again.ids == [message.id] and [c.token for c in _claims(session, message.id)] == [lost.token, again.token]
    backend = RecordingBackend()
    assert _deliver(open_test_session, lost, backend)["skipped"] == 1
    assert _deliver(open_test_session, again, backend)["sent"] == 1
    assert len(backend.sent) == 1


def test_a_slow_worker_still_sends_when_nobody_took_its_message_over(session, open_test_session):
    message = make_message(session)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    _lease_runs_out(session, message.id)  # the queue was slow; no other dispatcher claimed it meanwhile
    backend = RecordingBackend()
    assert _deliver(open_test_session, claim, backend)["sent"] == 1
    assert outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids == []


def test_rescheduled_later_while_queued_is_not_sent_until_then(session, open_test_session):
    message = make_message(session)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    later = utcnow() + timedelta(days=1)
    outbox.reschedule(session, message_id=message.id, scheduled_at=later, actor="tests")
    backend = RecordingBackend()
    assert _deliver(open_test_session, claim, backend)["skipped"] == 1 and backend.sent == []
    assert outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids == []
    assert outbox.claim_due(session, now=later, limit=10, rules=RULES).ids == [message.id]


def test_spent_claims_are_swept_but_the_last_minutes_still_count(session, open_test_session):
    sent, waiting = make_message(session, number=1), make_message(session, number=2)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    assert _deliver(open_test_session, outbox.Claim(claim.token, [sent.id]), RecordingBackend())["sent"] == 1
    _lease_runs_out(session, waiting.id)  # its worker died, over a minute ago
    now = utcnow()
    assert outbox.claim_due(session, now=now, limit=10, rules=RULES).ids == [waiting.id]
    assert outbox.sweep_claims(session, now=now) == 1  # `waiting`'s first claim: spent, and out of the window
    assert len(_claims(session, sent.id)) == 1 and len(_claims(session, waiting.id)) == 1  # still counted
    assert outbox.sweep_claims(session, now=now + timedelta(minutes=2)) == 2
    assert _claims(session, sent.id) == _claims(session, waiting.id) == []


def test_temporary_failures_back_off_with_jitter_then_give_up(session, open_test_session):
    message = make_message(session)
    backend = RecordingBackend([TemporaryFailure("451 4.3.0 busy", 451)] * 3)
    waits = []
    for attempt in range(1, 4):
        if attempt > 1:
            assert outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids == []  # backing off
            _time_passes(session, message.id)
        claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
        assert claim.ids == [message.id]
        before = utcnow()
        _deliver(open_test_session, claim, backend)
        row = outbox.get_message(session, message_id=message.id)
        assert row.attempts == attempt and row.last_error.startswith("451 4.3.0 busy")
        if attempt < 3:
            assert row.status == OutboxStatus.scheduled
            waits.append((row.next_attempt_at - before).total_seconds())
    assert 5 <= waits[0] <= 10.5 and 10 <= waits[1] <= 20.5  # base 10 s, doubled, half of it random
    assert row.status == OutboxStatus.failed and "gave up after 3 attempts" in row.last_error
    outcomes = [a.outcome for a in outbox.attempts_for(session, message_id=message.id)]
    assert outcomes == [DeliveryOutcome.retry, DeliveryOutcome.retry, DeliveryOutcome.failed]
    assert [a.smtp_code for a in outbox.attempts_for(session, message_id=message.id)] == [451, 451, 451]


def _lease_runs_out(session, message_id):
    """Its claims' leases end (moved back: the workers read the real clock)."""
    session.execute(sa.update(OutboxClaim).where(OutboxClaim.message_id == message_id)
                    .values(lease_until=utcnow() - timedelta(seconds=1), claimed_at=utcnow() - timedelta(seconds=61)))


def _time_passes(session, message_id):
    """The retry time comes: moved back rather than the clock forward, as workers read the real clock."""
    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_backoff_is_capped():
    rules = outbox.SendingRules(retry_base_seconds=10, retry_cap_seconds=60)
    assert all(30 <= outbox.backoff(12, rules).total_seconds() <= 60 for _ in range(20))


def test_permanent_failure_is_failed_with_the_server_text_and_can_be_retried(session, open_test_session):
    message = make_message(session)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    _deliver(open_test_session, claim, RecordingBackend([PermanentFailure("550 5.1.1 No such mailbox", 550)]))
    row = outbox.get_message(session, message_id=message.id)
    assert row.status == OutboxStatus.failed and row.last_error == "550 5.1.1 No such mailbox"
    retried = outbox.retry(session, message_id=message.id, actor="tests")
    assert retried.status == OutboxStatus.scheduled and retried.attempts == 0
    assert outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids == [message.id]  # due at once
    with pytest.raises(Conflict):
        outbox.retry(session, message_id=message.id, actor="tests")


def test_cancelled_while_queued_is_not_sent(session, open_test_session):
    kept, dropped = make_message(session, number=1), make_message(session, number=2)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    assert sorted(claim.ids) == sorted([kept.id, dropped.id])
    outbox.cancel(session, message_id=dropped.id, actor="tests")
    backend = RecordingBackend()
    tally = _deliver(open_test_session, claim, backend)
    assert tally["sent"] == 1 and tally["skipped"] == 1
    assert [m.recipient_address for m in backend.sent] == [kept.recipient_address]
    assert outbox.get_message(session, message_id=dropped.id).status == OutboxStatus.cancelled
    with pytest.raises(Conflict):  # sent: too late to cancel
        outbox.cancel(session, message_id=kept.id)


def test_a_message_being_sent_cannot_be_cancelled_or_rescheduled(session):
    message = make_message(session)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    assert outbox.start_attempt(session, message_id=message.id, claim=claim.token, now=utcnow(), rules=RULES)
    with pytest.raises(Conflict) as error:
        outbox.cancel(session, message_id=message.id)
    assert "being sent now" in error.value.detail
    with pytest.raises(Conflict):
        outbox.reschedule(session, message_id=message.id, scheduled_at=utcnow() + timedelta(days=1))


def test_reschedule_moves_the_send(session):
    message = make_message(session)
    later = utcnow() + timedelta(days=2)
    outbox.reschedule(session, message_id=message.id, scheduled_at=later, actor="tests")
    assert message.id not in outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids
    assert message.id in outbox.claim_due(session, now=later, limit=10, rules=RULES).ids
    with pytest.raises(InvalidInput):
        outbox.reschedule(session, message_id=message.id, scheduled_at=datetime(2027, 1, 1))


def test_pause_holds_a_campaign_including_queued_and_new_messages(session, open_test_session):
    campaign = make_campaign(session)
    queued = make_message(session, number=1, campaign_id=campaign.id)
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    waiting = make_message(session, number=2, campaign_id=campaign.id)
    other = make_message(session, number=3)
    assert outbox.pause_campaign(session, campaign_id=campaign.id, actor="tests") == 2
    added = make_message(session, number=4, campaign_id=campaign.id)
    assert added.paused
    backend = RecordingBackend()
    assert _deliver(open_test_session, claim, backend)["skipped"] == 1  # paused while queued: handed back
    ids = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids
    assert ids == [other.id]
    assert outbox.get_message(session, message_id=queued.id).status == OutboxStatus.scheduled
    assert outbox.resume_campaign(session, campaign_id=campaign.id, actor="tests") == 3
    resumed = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES).ids
    assert sorted(resumed) == sorted([queued.id, waiting.id, added.id])


def test_rate_limit_per_domain_holds_the_excess_for_the_next_window(session):
    rules = outbox.SendingRules(per_domain_per_minute=3, per_campaign_per_minute=0)
    now = utcnow()
    busy = [make_message(session, number=n, domain="busy.example", when=now - timedelta(seconds=5)) for n in range(5)]
    quiet = make_message(session, number=9, domain="quiet.example", when=now - timedelta(seconds=5))
    claim = outbox.claim_due(session, now=now, limit=100, rules=rules)
    assert len([i for i in claim.ids if i in {m.id for m in busy}]) == 3 and quiet.id in claim.ids
    held = [outbox.get_message(session, message_id=m.id) for m in busy if m.id not in claim.ids]
    assert all(m.status == OutboxStatus.scheduled and m.next_attempt_at >= now + timedelta(seconds=60) for m in held)
    assert outbox.claim_due(session, now=now + timedelta(seconds=30), limit=100, rules=rules).ids == []
    later = outbox.claim_due(session, now=now + timedelta(seconds=70), limit=100, rules=rules)
    assert sorted(later.ids) == sorted(m.id for m in held)


@pytest.mark.parametrize("limit", ["domain", "campaign"])
def test_rate_limits_count_the_claims_made_earlier_in_the_window(session, limit):
    rules = outbox.SendingRules(per_domain_per_minute=3 if limit == "domain" else 0,
                                per_campaign_per_minute=3 if limit == "campaign" else 0)
    campaign = make_campaign(session)
    now = utcnow()

    def due(numbers):
        return [make_message(session, number=n, domain="busy.example", campaign_id=campaign.id,
                             when=now - timedelta(seconds=5)) for n in numbers]

    first = due(range(2))
    assert sorted(outbox.claim_due(session, now=now, limit=100, rules=rules).ids) == sorted(m.id for m in first)
    more = due(range(10, 13))
    # Two of the three this minute allows are gone: one more now, the others in the next window.
    assert outbox.claim_due(session, now=now + timedelta(seconds=10), limit=100, rules=rules).ids == [more[0].id]
    assert outbox.claim_due(session, now=now + timedelta(seconds=30), limit=100, rules=rules).ids == []
    # A window later the first claim's two have left it; the one from ten seconds on is still in it.
    later = outbox.claim_due(session, now=now + timedelta(seconds=80), limit=100, rules=rules).ids
    assert sorted(later) == sorted(m.id for m in more[1:])


def test_rate_limit_per_campaign(session):
    rules = outbox.SendingRules(per_domain_per_minute=0, per_campaign_per_minute=2)
    campaign = make_campaign(session)
    for n in range(4):
        make_message(session, number=n, domain=f"d{n}.example", campaign_id=campaign.id)
    assert len(outbox.claim_due(session, now=utcnow(), limit=100, rules=rules).ids) == 2


def test_a_domain_over_its_limit_holds_nothing_of_another_domain(session):
    now = utcnow()
    busy = [make_message(session, number=n, domain="busy.example", when=now - timedelta(seconds=5)) for n in range(3)]
    unlimited = outbox.SendingRules(per_domain_per_minute=0, per_campaign_per_minute=0)
    assert len(outbox.claim_due(session, now=now, limit=100, rules=unlimited).ids) == len(busy)
    quiet = make_message(session, number=9, domain="quiet.example", when=now - timedelta(seconds=5))
    rules = outbox.SendingRules(per_domain_per_minute=2, per_campaign_per_minute=1)
    assert outbox.claim_due(session, now=now + timedelta(seconds=10), limit=100, rules=rules).ids == [quiet.id]


def test_a_dispatch_with_both_rate_limits_is_one_round_trip_before_its_commit(session, monkeypatch):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("statements go to the server together in PostgreSQL's pipeline mode")
    campaign = make_campaign(session)
    for n in range(4):
        make_message(session, number=n, domain="busy.example", campaign_id=campaign.id)
    rules = outbox.SendingRules(per_domain_per_minute=10, per_campaign_per_minute=10)
    session.flush()
    trips = []
    run_together = outbox.prepared.run_together
    monkeypatch.setattr(outbox.prepared, "run", lambda *args: pytest.fail("a statement of its own"))
    monkeypatch.setattr(outbox.prepared, "run_together",
                        lambda connection, steps: trips.append(len(steps)) or run_together(connection, steps))
    sa.event.listen(session.connection(), "before_cursor_execute", lambda *args: trips.append(1))
    claim = outbox.dispatch_due(session, enqueue=lambda ids, token: None, now=utcnow(), rules=rules)
    assert len(claim.ids) == 4
    assert trips == [4]  # the setting, the claim and the counts for both limits, together


def test_attachments_are_kept_out_of_the_outbox_row(session, open_test_session):
    pdf = b"%PDF-1.4\n% letter\n"
    message = make_message(session, attachments=[Attachment("letter.pdf", "application/pdf", pdf)])
    stored = session.exec(select(OutboxAttachment).where(OutboxAttachment.outbox_message_id == message.id)).one()
    assert stored.content == pdf
    claim = outbox.claim_due(session, now=utcnow(), limit=10, rules=RULES)
    backend = RecordingBackend()
    _deliver(open_test_session, claim, backend)
    assert backend.sent[0].attachments == (Attachment("letter.pdf", "application/pdf", pdf),)


def test_dispatch_enqueues_only_after_the_claim_commits(session):
    for n in range(5):
        make_message(session, number=n)
    enqueued = []
    rules = outbox.SendingRules(per_domain_per_minute=0, batch_size=2)
    claim = outbox.dispatch_due(session, enqueue=lambda ids, token: enqueued.append((ids, token)), rules=rules)
    assert len(claim.ids) == 5 and enqueued == []
    session.commit()
    assert [len(ids) for ids, _ in enqueued] == [2, 2, 1] and {t for _, t in enqueued} == {claim.token}


def test_a_full_claim_queues_the_next_dispatch_ahead_of_its_deliveries(session):
    for n in range(5):
        make_message(session, number=n)
    calls = []
    rules = outbox.SendingRules(per_domain_per_minute=0, batch_size=2, dispatch_limit=3)
    for _ in range(2):
        outbox.dispatch_due(session, enqueue=lambda ids, token: calls.append(len(ids)), rules=rules,
                            backlog=lambda: calls.append("next dispatch"))
        session.commit()
    assert calls == ["next dispatch", 2, 1, 2]  # the second claim (2 rows) was not full: nothing more due


def test_dispatch_enqueues_nothing_when_the_claim_rolls_back(session):
    make_message(session)
    enqueued = []
    session.begin_nested()
    outbox.dispatch_due(session, enqueue=lambda ids, token: enqueued.append(ids), rules=RULES)
    session.rollback()
    session.commit()
    assert enqueued == []


@pytest.fixture
def committed_messages():
    """Rows committed for real, so separate connections see them; removed afterwards."""
    domain = f"claim-{utcnow().timestamp():.0f}.example"
    with new_session() as setup:
        ids = [make_message(setup, number=n, domain=domain).id for n in range(40)]
        setup.commit()
    yield ids
    with new_session() as cleanup:
        cleanup.execute(sa.delete(DeliveryAttempt).where(DeliveryAttempt.outbox_message_id.in_(ids)))
        cleanup.execute(sa.delete(OutboxClaim).where(OutboxClaim.message_id.in_(ids)))
        cleanup.execute(sa.delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        cleanup.commit()


def test_two_claimers_on_two_connections_never_get_the_same_row(committed_messages):
    """One claim is held open (uncommitted) while another runs on its own connection."""
    now = utcnow()
    first = new_session()
    first_claim = outbox.claim_due(first, now=now, limit=25, rules=RULES)
    second_result = {}

    def claim_on_another_connection():
        with new_session() as second:
            second_result["claim"] = outbox.claim_due(second, now=now, limit=25, rules=RULES)
            second.commit()

    thread = threading.Thread(target=claim_on_another_connection)
    thread.start()
    if get_engine().dialect.name == "postgresql":
        thread.join(10)  # SKIP LOCKED: the second claimer does not wait for the first
        assert "claim" in second_result
        first.commit()
    else:
        first.commit()  # SQLite: the second waits for the write lock, then sees the first's claim
        thread.join(20)
    first.close()
    a, b = set(first_claim.ids), set(second_result["claim"].ids)
    assert len(a) == 25 and len(b) == 15 and not a & b
    assert a | b == set(committed_messages)
