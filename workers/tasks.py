"""Celery tasks. Named ``domain.action``, they take IDs only and are safe to run twice."""

from __future__ import annotations

import logging

from celery.signals import worker_process_shutdown

from campaign.db import session_scope
# Imported here, by the worker's main process, so that each pool process starts with them
# loaded: imported at a pool process's first delivery, they cost it about half a second of
# CPU (py-spy), a quarter of a millisecond per message over the send benchmark's 2,000.
from letters import followups, sending
from workers import mail, outbox, service
from workers.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name="system.heartbeat")
def heartbeat(token: str | None = None) -> None:
    """Complete a ping requested through the app or, sent by beat without one, record a beat.

    Beat's own also sweeps the outbox's spent claims and marks sent the letters whose
    messages have all gone.
    """
    with session_scope() as session:
        if token:
            service.complete_ping(session, token=token)
        else:
            service.record_beat(session)
            outbox.sweep_claims(session)
    if not token:
        _settle_letters(None)


def _enqueue_delivery(ids: list[int], claim: str) -> None:
    deliver.delay(ids, claim)


@celery_app.task(name="outbox.dispatch_due")
def dispatch_due() -> int:
    """Claim the messages that are due and enqueue their delivery once the claim has committed."""
    rules = outbox.SendingRules.from_settings()
    with session_scope() as session:
        # A backlog: the next dispatch is queued ahead of this claim's deliveries.
        claim = outbox.dispatch_due(session, enqueue=_enqueue_delivery, rules=rules, backlog=dispatch_due.delay)
    return len(claim.ids)


@celery_app.task(name="outbox.deliver")
def deliver(ids: list[int], claim: str) -> dict[str, int]:
    """Send the messages of one claim. A stale or repeated task finds nothing it may send."""
    tally = outbox.deliver_batch(lambda: session_scope(keep_connection=True), ids=ids, claim=claim,
                                 backend=mail.get_backend())
    if tally.get("scheduled") or tally.get("failed"):
        log.warning("outbox.deliver: %s", dict(tally))
    if tally.get("sent"):
        _settle_letters(ids)
    return dict(tally)


def _settle_letters(message_ids: list[int] | None) -> None:
    """Mark sent the letters whose last message just went (beat's heartbeat sweeps up any race)."""
    with session_scope() as session:
        letter_ids = None if message_ids is None else sending.letters_of_messages(session, message_ids=message_ids)
        if letter_ids is None or letter_ids:
            sending.settle_sent_letters(session, letter_ids=letter_ids)


@worker_process_shutdown.connect
def _close_mail_connection(**_kwargs) -> None:
    mail.close_backend()


@celery_app.task(name="followups.scan")
def scan_followups() -> int:
    """Create the follow-ups that are due, then the day's digests to coordinators (once a day).

    Both are idempotent, so a second run (or a redelivery) creates nothing new.
    """
    with session_scope() as session:
        created = followups.scan_followups(session)
        followups.send_digests(session)
    return len(created)
