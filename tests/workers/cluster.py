"""Cosign in separate processes for the reliability tests: its own database, queue and var/ folder.

The test process writes the outbox rows and reads the outcome straight from that
database; ``campaign worker`` and ``campaign beat`` subprocesses do the work, and are
killed as a machine would kill them.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from celery import Celery
from sqlmodel import Session

from campaign import migrate
from campaign.db import make_engine
from campaign.settings import PROJECT_ROOT
from tests import services
from workers.models import OutboxMessage, OutboxStatus


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy; fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Cluster:
    def __init__(self, base: Path, *, smtp_port: int, smtp_timeout: float = 3.0):
        self.base = base
        self.var_dir = base / "var"
        self.var_dir.mkdir(parents=True)
        run_url = os.environ.get("DATABASE_URL", "")
        self.database_url = services.create_database_like(run_url, f"c{secrets.token_hex(3)}") if run_url else ""
        self.queue = f"cosign-cluster-{secrets.token_hex(4)}"
        self.env = {**os.environ, "VAR_DIR": str(self.var_dir), "CELERY_QUEUE": self.queue,
                    "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
                    "SMTP_SECURITY": "none", "SMTP_TIMEOUT_SECONDS": str(smtp_timeout), "LOG_LEVEL": "WARNING",
                    "WORKER_CONCURRENCY": "2"}
        if self.database_url:
            self.env["DATABASE_URL"] = self.database_url
        else:
            self.env.pop("DATABASE_URL", None)
        self.engine = make_engine(self.database_url or f"sqlite:///{self.var_dir / 'cosign.sqlite3'}")
        migrate.upgrade(engine=self.engine)
        self.processes: list[subprocess.Popen] = []

    # --- processes --------------------------------------------------------------------

    def start(self, *command: str) -> subprocess.Popen:
        log = open(self.base / f"{command[0]}-{len(self.processes)}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "campaign", *command], env=self.env, cwd=PROJECT_ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 2) -> subprocess.Popen:
        return self.start("worker", "--concurrency", str(concurrency))

    def beat(self) -> subprocess.Popen:
        # Each beat keeps its own schedule file, as two machines would.
        return self.start("beat")

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the whole process group: the worker and its pool children, mid-whatever."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """Kill everything at once: the test has its answer, and a graceful stop only costs time."""
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)

    def close(self) -> None:
        self.stop()
        self.engine.dispose()
        if self.database_url:
            services.drop_database(os.environ["DATABASE_URL"], self.database_url)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.base.glob("*.log")))

    # --- the database and the broker, from outside ---------------------------------------

    def session(self) -> Session:
        return Session(bind=self.engine, expire_on_commit=False)

    def counts(self) -> Counter:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
            return Counter({OutboxStatus(status): number for status, number in rows})

    def message_ids(self, *where) -> dict[int, str]:
        with self.engine.connect() as connection:
            return dict(connection.execute(sa.select(OutboxMessage.id, OutboxMessage.message_id).where(*where)).all())

    def producer(self) -> Celery:
        """A Celery client on this cluster's broker, to put tasks in its queue by name."""
        broker = self.env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{self.var_dir / 'broker.sqlite3'}"
        app = Celery("cluster-client", broker=broker)
        app.conf.update(task_default_queue=self.queue, task_serializer="json", broker_connection_retry_on_startup=True)
        return app
