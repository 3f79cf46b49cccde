"""Nothing lost, nothing sent twice: real worker and beat processes, a real SMTP server.

Every test schedules messages in a database of its own, runs ``campaign worker`` and
``campaign beat`` as subprocesses against it, and reads the outcome from the sink and the
database. Waits poll with a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import pytest

from campaign.db import utcnow
from workers import outbox
from workers.models import DeliveryAttempt, DeliveryOutcome, OutboxMessage, OutboxStatus
from tests.workers.cluster import Cluster, wait_for

pytestmark = pytest.mark.slow

REDIS = os.environ.get("CELERY_BROKER_URL", "").startswith("redis")


@pytest.fixture
def cluster(tmp_path, smtp_sink):
    running = Cluster(tmp_path, smtp_port=smtp_sink.port)
    yield running
    running.close()


def schedule(cluster: Cluster, count: int, *, domains: int = 50, prefix: str = "member", **fields) -> dict[int, str]:
    """``count`` messages due now, spread over ``domains`` parliaments; returns {id: Message-ID}."""
    with cluster.session() as session:
        rows = [outbox.schedule(session, recipient_address=f"{prefix}{n}@parl{n % domains}.example",
                                recipient_name=f"Member {n}", subject=f"Stop the visit ({n})",
                                text_body=f"Dear Member {n},\n\nPlease sign.\n", html_body=f"<p>Dear Member {n}</p>",
                                scheduled_at=utcnow() - timedelta(seconds=1), actor="tests", **fields)
                for n in range(count)]
        session.commit()
        return {row.id: row.message_id for row in rows}


def settled(cluster: Cluster) -> bool:
    counts = cluster.counts()
    return counts[OutboxStatus.scheduled] == 0 and counts[OutboxStatus.sending] == 0


def assert_all_sent_once(cluster, sink, expected: dict[int, str], *, may_repeat: set[str] = frozenset()):
    received = sink.message_ids()
    assert set(received) == set(expected.values()), "messages missing from the sink"
    repeated = {mid for mid, times in received.items() if times > 1}
    assert repeated <= set(may_repeat), f"sent twice though not in flight: {repeated - set(may_repeat)}"
    assert all(times <= 2 for times in received.values())
    assert cluster.counts()[OutboxStatus.sent] == len(expected)
    return repeated


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_only_what_was_in_flight(cluster, smtp_sink):
    expected = schedule(cluster, 500)
    cluster.beat()
    worker = cluster.worker()
    wait_for(lambda: smtp_sink.count() >= 120, timeout=40, what="the first messages to arrive")
    cluster.kill(worker)
    # Frozen now: the rows a worker had started but not recorded are the ones in flight.
    in_flight = cluster.message_ids(OutboxMessage.status == OutboxStatus.sending,
                                    OutboxMessage.send_started_at.is_not(None))
    received_at_kill = smtp_sink.count()
    assert received_at_kill < 500, "the run ended before the kill; nothing was tested"
    cluster.worker()
    wait_for(lambda: settled(cluster) and smtp_sink.count() >= 500, timeout=50,
             what=f"all 500 sent after the restart (now {cluster.counts()})")
    repeated = assert_all_sent_once(cluster, smtp_sink, expected, may_repeat=set(in_flight.values()))
    assert len(in_flight) <= 2  # one message per worker process at most
    for message_id in repeated:  # the repeat is the same message, under the same Message-ID
        first, second = smtp_sink.by_message_id(message_id)
        assert first.parsed()["Subject"] == second.parsed()["Subject"]
    print(f"\nkill test: {received_at_kill} received at the kill, {len(in_flight)} in flight, "
          f"{len(repeated)} sent twice")


def test_temporary_refusals_are_retried_until_everything_arrives(cluster, smtp_sink):
    smtp_sink.fail_next(25)
    expected = schedule(cluster, 60)
    cluster.beat()
    cluster.worker()
    wait_for(lambda: settled(cluster), timeout=55, what=f"all sent despite 451s (now {cluster.counts()})")
    assert_all_sent_once(cluster, smtp_sink, expected)
    assert smtp_sink.refused == 25
    with cluster.session() as session:
        attempts = session.query(DeliveryAttempt).all()
        retried = session.query(OutboxMessage).filter(OutboxMessage.attempts == 2).all()
    outcomes = [a.outcome for a in attempts]
    assert outcomes.count(DeliveryOutcome.retry) == 25 and outcomes.count(DeliveryOutcome.sent) == 60
    assert {a.smtp_code for a in attempts if a.outcome == DeliveryOutcome.retry} == {451}
    assert len(retried) == 25 and all(m.status == OutboxStatus.sent for m in retried)


def test_a_permanent_refusal_marks_the_message_failed_with_the_servers_text(cluster, smtp_sink):
    smtp_sink.reject("member3@parl3.example", "550 5.1.1 No such member in this parliament")
    expected = schedule(cluster, 10)
    cluster.beat()
    cluster.worker()
    wait_for(lambda: settled(cluster), timeout=40, what="every message settled")
    with cluster.session() as session:
        failed = session.query(OutboxMessage).filter(OutboxMessage.status == OutboxStatus.failed).one()
    assert failed.recipient_address == "member3@parl3.example" and failed.attempts == 1
    assert failed.last_error == "550 5.1.1 No such member in this parliament"
    assert set(smtp_sink.message_ids()) == set(expected.values()) - {failed.message_id}


def test_two_dispatchers_at_once_send_nothing_twice(cluster, smtp_sink):
    expected = schedule(cluster, 300)
    cluster.beat()
    cluster.beat()
    cluster.worker()
    cluster.worker()
    wait_for(lambda: settled(cluster), timeout=55, what=f"all sent (now {cluster.counts()})")
    assert_all_sent_once(cluster, smtp_sink, expected)


def test_a_message_cancelled_while_queued_is_not_sent(cluster, smtp_sink):
    expected = schedule(cluster, 20)
    with cluster.session() as session:
        claim = outbox.claim_due(session, now=utcnow(), limit=100, worker="tests")
        session.commit()
    assert sorted(claim.ids) == sorted(expected)
    cluster.producer().send_task("outbox.deliver", args=[claim.ids, claim.token])
    cancelled = claim.ids[::4]
    with cluster.session() as session:
        for message_id in cancelled:
            outbox.cancel(session, message_id=message_id, actor="tests")
        session.commit()
    cluster.worker()
    wait_for(lambda: settled(cluster), timeout=40, what="the queued delivery to run")
    received = smtp_sink.message_ids()
    assert not set(received) & {expected[i] for i in cancelled}
    assert set(received) == {mid for i, mid in expected.items() if i not in cancelled}
    assert cluster.counts()[OutboxStatus.cancelled] == len(cancelled)


@pytest.mark.skipif(not REDIS, reason="the embedded broker has no server to restart")
def test_redis_restarted_mid_run_loses_nothing(cluster, smtp_sink):
    expected = schedule(cluster, 400)
    cluster.beat()
    cluster.worker()
    wait_for(lambda: smtp_sink.count() >= 80, timeout=40, what="the first messages to arrive")
    subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, capture_output=True)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True, capture_output=True)
    wait_for(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).stdout.strip() == b"PONG",
             timeout=10, what="Redis to come back")
    wait_for(lambda: settled(cluster) and smtp_sink.count() >= 400, timeout=55,
             what=f"all sent after the restart (now {cluster.counts()})")
    assert_all_sent_once(cluster, smtp_sink, expected)
