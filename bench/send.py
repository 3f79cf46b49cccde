"""send: scheduled messages delivered by real worker and beat processes to a local SMTP sink.

Cosign: N outbox rows fall due at once; ``campaign beat`` and ``campaign worker`` (prefork, with
the default WORKER_CONCURRENCY pool processes; BENCH_WORKERS=N to compare another number)
claim and deliver them over SMTP to an aiosmtpd sink in a process of its own. The
baseline, in the same run: a plain smtplib loop sending the same messages, already
rendered, over one connection to the same sink. Then 1,000 more fall due at once with the
workers idle, for the lateness bar (sink acceptance time minus ``scheduled_at``).

    python -m bench.send [--size 2000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import os
import secrets
import signal
import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from celery import Celery

from bench import common
from bench.run_all import standalone
from campaign.settings import Settings

DEFAULT_SIZE = 2000
WORKERS = int(os.environ.get("BENCH_WORKERS") or Settings.model_fields["worker_concurrency"].default)
LATENESS_BATCH = 1000
DOMAINS = 100
PROJECT_ROOT = Path(__file__).resolve().parent.parent
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


class Sink:
    """bench/sink.py running in its own process; reads back when it accepted each Message-ID."""

    def __init__(self, work_dir: Path):
        self.log = work_dir / f"sink-{secrets.token_hex(3)}.log"
        self.log.touch()
        self.process = subprocess.Popen([sys.executable, "-m", "bench.sink", str(self.log)], cwd=PROJECT_ROOT,
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.accepted_at: dict[str, float] = {}
        self._offset = 0

    def read(self) -> dict[str, float]:
        """Every Message-ID accepted since the last reset, with the time of its first acceptance."""
        with self.log.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        complete = data[:data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            when, message_id = line.split(" ", 1)
            self.accepted_at.setdefault(message_id, float(when))
        return self.accepted_at

    def reset(self) -> None:
        self.read()
        self.accepted_at = {}

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _schedule(env: dict[str, str], count: int, first: int) -> dict[str, int]:
    """``count`` messages far in the future (setup); returns {Message-ID: outbox id}."""
    from campaign.db import session_scope
    from workers import outbox

    with common.applied(env), session_scope() as session:
        rows = [outbox.schedule(session, recipient_address=f"member{n}@parl{n % DOMAINS}.example",
                                recipient_name=f"Member {n}", subject=f"Stop the visit ({n})",
                                text_body=f"Dear Member {n},\n\nPlease sign our letter.\n\nThe campaign\n",
                                html_body=f"<p>Dear Member {n},</p><p>Please sign our letter.</p>",
                                scheduled_at=FAR_FUTURE, actor="bench")
                for n in range(first, first + count)]
        session.flush()
        return {row.message_id: row.id for row in rows}


def _make_due(engine: sa.Engine, ids: list[int], when: datetime) -> None:
    from workers.models import OutboxMessage

    with engine.begin() as connection:
        connection.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                           .values(scheduled_at=when, next_attempt_at=when))


def _baseline(env: dict[str, str], sink: Sink, count: int) -> tuple[float, float]:
    """The same messages, rendered beforehand, through one smtplib connection: messages/s, and
    the sink's CPU milliseconds per message meanwhile."""
    from workers import mail
    from workers.models import OutboxMessage

    from campaign.db import get_engine

    with common.applied(env):
        with get_engine().connect() as connection:
            rows = connection.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id).limit(count)).all()
        messages = [(row.recipient_address, mail.message_bytes(mail.OutgoingMail(
            sender=row.sender, recipient_address=row.recipient_address, recipient_name=row.recipient_name,
            subject=row.subject, message_id=row.message_id, text_body=row.text_body, html_body=row.html_body)))
            for row in rows]
    sink.reset()
    sink_cpu = _cpu_seconds(sink.process.pid)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as connection:
        for recipient, data in messages:
            connection.sendmail("cosign@localhost", [recipient], data)
    elapsed = time.perf_counter() - start
    sink_ms = 1000 * (_cpu_seconds(sink.process.pid) - sink_cpu) / len(messages)
    assert len(sink.read()) == len(messages)
    sink.reset()
    return len(messages) / elapsed, sink_ms


def _start(env: dict[str, str], work_dir: Path, *command: str) -> subprocess.Popen:
    log = open(work_dir / f"{command[0]}.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "campaign", *command], env=env, cwd=PROJECT_ROOT,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return process


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            logs = "".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                           for p in sorted(getattr(_wait, "logs", Path("/nonexistent")).glob("*.log")))
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(0.05)


def _producer(env: dict[str, str]) -> Celery:
    broker = env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{Path(env['VAR_DIR']) / 'broker.sqlite3'}"
    app = Celery("bench-client", broker=broker)
    app.conf.update(task_default_queue=env["CELERY_QUEUE"], task_serializer="json",
                    broker_connection_retry_on_startup=True)
    return app


def _scalar(engine: sa.Engine, query):
    with engine.connect() as connection:  # a fresh snapshot each time
        return connection.execute(query).scalar()


def _deliver(engine: sa.Engine, sink: Sink, expected: dict[str, int], timeout: float) -> list[float]:
    """Make ``expected`` due a moment from now, wait for all of them; returns each one's lateness in seconds."""
    due = datetime.now(UTC) + timedelta(seconds=0.5)
    _make_due(engine, list(expected.values()), due)
    _wait(lambda: len(expected.keys() & sink.read().keys()) == len(expected), timeout,
          f"{len(expected)} messages at the sink (have {len(sink.accepted_at)})")
    return [sink.accepted_at[mid] - due.timestamp() for mid in expected]


def run(backend: str, size: int, work_dir: Path) -> tuple[list[common.Result], dict[str, float]]:
    from campaign import migrate
    from campaign.db import make_engine
    from workers.models import WorkerPing

    sink = Sink(work_dir)
    try:
        with common.environment(backend, work_dir, "send") as bench_env:
            env = {**os.environ, **bench_env, "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
                   "SMTP_PORT": str(sink.port), "SMTP_SECURITY": "none", "SMTP_TIMEOUT_SECONDS": "10",
                   "WORKER_CONCURRENCY": str(WORKERS)}
            if backend == "sqlite":
                for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
                    env.pop(key, None)
            Path(env["VAR_DIR"]).mkdir(parents=True)
            with common.applied(env):
                from campaign.db import get_engine
                from campaign.settings import get_settings

                url = get_settings().sqlalchemy_url
                migrate.upgrade(engine=get_engine())
            engine = make_engine(url)
            throughput = _schedule(env, size, 0)
            late = _schedule(env, LATENESS_BATCH, size)
            baseline, baseline_sink_ms = _baseline(env, sink, size)

            run_dir = work_dir / f"send-{backend}"
            run_dir.mkdir(exist_ok=True)
            worker = _start(env, run_dir, "worker")
            beat = _start(env, run_dir, "beat")
            processes = {"worker": worker, "beat": beat}
            try:
                _wait.logs = run_dir
                # A ping through the queue answered by the worker: it is up and consuming.
                token = f"bench-{secrets.token_hex(8)}"
                _producer(env).send_task("system.heartbeat", args=[token])
                _wait(lambda: _scalar(engine, sa.select(WorkerPing.completed_at).where(WorkerPing.token == token)),
                      60, "the worker to start")
                cpu_before = sum(_cpu_seconds(p.pid) for p in processes.values())
                sink_before = _cpu_seconds(sink.process.pid)
                lateness = _deliver(engine, sink, throughput, timeout=max(120.0, size / 10))
                cpu_ms = 1000 * (sum(_cpu_seconds(p.pid) for p in processes.values()) - cpu_before) / size
                sink_ms = 1000 * (_cpu_seconds(sink.process.pid) - sink_before) / size
                # From the moment they fell due to the last one accepted, beat's wake-up included.
                cosign = size / max(lateness)
                sink.reset()
                burst = _deliver(engine, sink, late, timeout=120)
                memory = _memory(processes)
            finally:
                for process in processes.values():
                    if process.poll() is None:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()
                engine.dispose()
    finally:
        sink.stop()
    # Even an instant dispatcher cannot hand 1,000 messages to this sink faster than the baseline does.
    floor = common.percentile([n / baseline for n in range(1, LATENESS_BATCH + 1)], 0.99)
    notes = (f"{WORKERS} worker processes; lateness of the {size}: first {min(lateness):.2f} s, "
             f"p50 {common.median(lateness):.2f} s, "
             f"p99 {common.percentile(lateness, 0.99):.2f} s; "
             f"{LATENESS_BATCH} due at once: p50 {common.median(burst):.2f} s, "
             f"p99 {common.percentile(burst, 0.99):.2f} s (bar ≤ 2 s; the baseline's rate alone gives {floor:.2f} s); "
             f"CPU per message: worker + beat {cpu_ms:.2f} ms, sink {sink_ms:.2f} ms (in the baseline "
             f"{baseline_sink_ms:.2f} ms); at that CPU, {os.cpu_count()} cores deliver at most "
             f"{os.cpu_count() * 1000 / (cpu_ms + sink_ms):.0f} msg/s")
    return [common.Result("send", backend, cosign, baseline, "msg/s", True, 0.5, 0.9, notes)], memory


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in common.tree_peak_rss_mb(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _memory(processes: dict[str, subprocess.Popen]) -> dict[str, float]:
    memory: dict[str, float] = {}
    for name, process in processes.items():
        peaks = common.tree_peak_rss_mb(process.pid)
        memory[name] = peaks.pop(process.pid)
        for number, megabytes in enumerate(peaks.values(), start=1):
            memory[f"{name} child {number}"] = megabytes
    return memory


if __name__ == "__main__":
    standalone("send", DEFAULT_SIZE, run)
