"""scan: ``dispatch_due`` over a large outbox, against the bare indexed SELECT of the due rows.

N outbox rows (default 1,000,000) of which 1,000 are due: most were sent long ago, some
are scheduled for later. They are loaded with the driver's fastest bulk path (COPY on
PostgreSQL, one executemany transaction on SQLite); that is setup, not measured.

All rows belong to one campaign whose rule follows up sent letters after 14 days, and
2,000 of the recipients are people in the directory (so the scan has matches to make).

Cosign: ``dispatch_due`` claims the due rows (within the rate limits) and commits; the
claims are dropped between runs. Then ``followups.scan_followups`` runs as beat runs it,
in steady state (its first run, which creates the follow-ups, is setup). The figure is
the two together, measured in a process of its own (so its peak memory is theirs, not the
bulk load's). Baseline: the same due rows read through the same index with a bare
SELECT on the driver's cursor.

    python -m bench.scan [--size 1000000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench import common
from bench.run_all import standalone

DEFAULT_SIZE = 1_000_000
DUE = 1000
DOMAINS = 650
RUNS = 5
PEOPLE = 2000
FOLLOW_UP_DAYS = 14
COLUMNS = ("campaign_id", "kind", "sender", "recipient_address", "recipient_name", "recipient_domain", "reply_to",
           "subject", "text_body", "html_body", "message_id", "in_reply_to", "thread_references", "scheduled_at",
           "status", "paused", "attempts", "next_attempt_at", "claimed_at", "last_error", "smtp_response",
           "created_at", "updated_at", "sent_at")


def _rows(size: int, now: datetime, due: int, campaign_id: int | None = None) -> Iterator[tuple]:
    """Due rows spread through the table; the rest sent weeks ago (90%) or scheduled for later."""
    rng = random.Random(7)
    due_every = max(size // due, 1)
    for n in range(size):
        domain = f"parl{n % DOMAINS}.example"
        if n % due_every == 0 and n // due_every < due:
            status, when, sent_at = "scheduled", now - timedelta(seconds=rng.uniform(1, 600)), None
            claimed_at = None
        elif rng.random() < 0.9:
            when = now - timedelta(days=rng.uniform(1, 400))
            status, sent_at, claimed_at = "sent", when, when
        else:
            status, when, sent_at, claimed_at = "scheduled", now + timedelta(days=rng.uniform(1, 60)), None, None
        yield (campaign_id, "letter", "Cosign <cosign@localhost>", f"member{n}@{domain}", f"Member {n}", domain, "",
               f"Stop the visit ({n})", f"Dear Member {n},\n\nPlease sign.\n", f"<p>Dear Member {n}</p>",
               f"<scan.{n}@bench.example>", "", "", when, status, False, int(status == "sent"), when, claimed_at,
               "", "250 OK" if sent_at else "", when, when, sent_at)


def _campaign(size: int) -> int:
    """The campaign the rows belong to, its follow-up rule, and people for some recipients."""
    from campaign.db import session_scope
    from campaign.models import Campaign
    from contacts.models import Person
    from letters.models import FollowUpRule, FollowUpSource

    with session_scope() as session:
        campaign = Campaign(slug="scan-bench", name="Scan bench")
        session.add(campaign)
        session.flush()
        session.add(FollowUpRule(campaign_id=campaign.id, applies_to=FollowUpSource.letter, days=FOLLOW_UP_DAYS))
        step = max(size // PEOPLE, 1)
        session.add_all(Person(name=f"Member {n}", email=f"member{n}@parl{n % DOMAINS}.example", sort_key=f"member {n}")
                        for n in range(1, size, step))
        return campaign.id


def _load(engine: sa.Engine, size: int, now: datetime, due: int, campaign_id: int | None = None) -> None:
    connection = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY outbox_message ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in _rows(size, now, due, campaign_id):
                        copy.write_row(row)
            connection.commit()
            driver = connection.driver_connection
            driver.autocommit = True
            with driver.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE outbox_message")
            driver.autocommit = False
        else:
            def sqlite_row(row: tuple) -> tuple:
                # As UTCDateTime stores them on SQLite: naive UTC text.
                return tuple(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                             if isinstance(value, datetime) else value for value in row)

            cursor = connection.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO outbox_message ({', '.join(COLUMNS)}) "
                               f"VALUES ({', '.join('?' * len(COLUMNS))})",
                               (sqlite_row(row) for row in _rows(size, now, due, campaign_id)))
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
            cursor.close()
    finally:
        connection.close()


def _baseline_query(dialect: str) -> str:
    mark, false = ("%s", "false") if dialect == "postgresql" else ("?", "0")
    return (f"SELECT * FROM outbox_message WHERE status = 'scheduled' AND next_attempt_at <= {mark} "
            f"AND paused = {false} ORDER BY next_attempt_at LIMIT {DUE}")


def _bare_select(engine: sa.Engine, now: datetime) -> tuple[float, int]:
    value = now if engine.dialect.name == "postgresql" else now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        start = time.perf_counter()
        cursor.execute(_baseline_query(engine.dialect.name), (value,))
        rows = cursor.fetchall()
        elapsed = time.perf_counter() - start
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return elapsed, len(rows)


def _dispatch(now: datetime) -> tuple[float, list[int]]:
    from campaign.db import session_scope
    from workers import outbox

    enqueued: list[int] = []
    rules = outbox.SendingRules.from_settings()
    start = time.perf_counter()
    with session_scope() as session:
        outbox.dispatch_due(session, enqueue=lambda ids, _claim: enqueued.extend(ids), now=now, rules=rules)
    return time.perf_counter() - start, enqueued


def _follow_up_scan(now: datetime) -> tuple[float, int]:
    from campaign.db import session_scope
    from letters import followups

    start = time.perf_counter()
    with session_scope() as session:
        created = followups.scan_followups(session, now=now)
    return time.perf_counter() - start, len(created)


def _put_back(engine: sa.Engine, ids: list[int]) -> None:
    """Drop the claims just taken, so the same rows are due again for the next run."""
    from workers.models import OutboxClaim

    with engine.begin() as connection:
        connection.execute(sa.delete(OutboxClaim).where(OutboxClaim.message_id.in_(ids)))


def _measure(now: datetime, due: int) -> tuple[list[float], list[float], list[float], float]:
    """RUNS rounds of the baseline, dispatch_due and the follow-up scan; and this process's peak memory."""
    from campaign.db import get_engine

    engine = get_engine()
    baseline, dispatch, scans = [], [], []
    for _ in range(RUNS):
        seconds, found = _bare_select(engine, now)
        assert found == due, f"the baseline found {found} due rows, not {due}"
        baseline.append(seconds)
        seconds, claimed = _dispatch(now)
        assert len(claimed) == due, f"dispatch_due claimed {len(claimed)} rows, not {due}"
        dispatch.append(seconds)
        _put_back(engine, claimed)
        seconds, created = _follow_up_scan(now)
        assert created == 0, f"a second follow-up scan created {created} follow-ups"
        scans.append(seconds)
    engine.dispose()
    return baseline, dispatch, scans, common.own_peak_rss_mb()


def run(backend: str, size: int, work_dir: Path) -> tuple[list[common.Result], dict[str, float]]:
    from campaign import migrate

    due = min(DUE, size)
    with common.environment(backend, work_dir, "scan") as env:
        Path(env["VAR_DIR"]).mkdir(parents=True)
        with common.applied(env):
            from campaign.db import get_engine

            engine = get_engine()
            migrate.upgrade(engine=engine)
            now = datetime.now(UTC)
            campaign_id = _campaign(size)
            load_seconds = common.timed(lambda: _load(engine, size, now, due, campaign_id))
            print(f"    loaded {size:,} outbox rows ({due} due) in {load_seconds:.1f} s", flush=True)
            first_scan, follow_ups = _follow_up_scan(now)
            print(f"    first follow-up scan (setup): {follow_ups} follow-ups in {first_scan:.1f} s", flush=True)
            engine.dispose()
            baseline, dispatch, scans, memory = common.in_fresh_process(_measure, now, due)
            cosign = [d + f for d, f in zip(dispatch, scans)]
    notes = (f"{size:,} rows, {due} due; median of {RUNS}; dispatch_due "
             f"{statistics.median(dispatch) * 1000:.1f} ms + follow-up scan {statistics.median(scans) * 1000:.1f} ms "
             f"(each with its commit; {follow_ups} follow-ups from {PEOPLE} known recipients)")
    result = common.Result("scan", backend, statistics.median(cosign) * 1000, statistics.median(baseline) * 1000,
                           "ms", False, 2.0, 1.2, notes)
    return [result], {"scan (the process that dispatches and scans)": memory}


if __name__ == "__main__":
    standalone("scan", DEFAULT_SIZE, run)
