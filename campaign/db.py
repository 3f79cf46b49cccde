"""Engine, sessions, the column types every table shares, and work held until commit.

The request (or the CLI command, or the task) owns the transaction: services take a
session, flush when they need a database answer, and never commit.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from campaign.settings import get_settings

# Constraint names that Alembic can find again on both SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones: values are stored as UTC and given back aware, and a
    naive datetime is refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Cosign stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type) -> sa.Enum:
    """A Python StrEnum stored as its value in a VARCHAR (no native enum type to migrate)."""
    return sa.Enum(enum_cls, native_enum=False, length=max(len(m.value) for m in enum_cls) + 10,
                   values_callable=lambda members: [m.value for m in members], validate_strings=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The default page cache (2 MiB) is per connection, hence the small pool below. No mmap:
    # every connection maps the file anew, and each mapping counts again in resident memory.
    cursor.close()


def _on_sqlite_begin(connection: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks savepoints;
    # take control so SQLite behaves like PostgreSQL (one real transaction).
    # A transaction that will write starts IMMEDIATE: a deferred one that reads first and
    # then writes fails at once with "database is locked" when another process is writing,
    # whereas IMMEDIATE waits its turn (busy_timeout).
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


# The web app runs up to 40 requests at once on threads, but a process's database work goes no
# faster with more connections than it has the CPU for. Each SQLite connection keeps its own
# page cache (with fifteen, a web process went over 190 MB under load) and does its reading in
# this process, where more threads at work mean more time lost handing over the GIL; a few
# connections, kept warm, served the directory a fifth faster. No overflow: a connection
# opened past the pool's size is closed again on return, so the next request would pay for a
# new one (a cold SQLite cache, or a new PostgreSQL backend). Other requests wait their turn.
SQLITE_POOL_SIZE = 5
POSTGRESQL_POOL_SIZE = 8


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15, "isolation_level": None},
                                  pool_size=SQLITE_POOL_SIZE, max_overflow=0)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=POSTGRESQL_POOL_SIZE, max_overflow=0)


@lru_cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().sqlalchemy_url)


def new_session(bind: Engine | sa.Connection | None = None, *, writes: bool = False) -> Session:
    """A session; ``writes=True`` when the transaction will write (IMMEDIATE on SQLite)."""
    if bind is None:
        bind = get_engine().execution_options(sqlite_begin="IMMEDIATE") if writes else get_engine()
    return Session(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(*, keep_connection: bool = False) -> Iterator[Session]:
    """One transaction for a CLI command or a task: commit on success, roll back on error.

    ``keep_connection``: for a task that commits many times, one connection throughout. A
    session hands its connection back to the pool at each commit and takes one again (on
    PostgreSQL after a ping) at the next statement: two round trips more per transaction.
    """
    connection = get_engine().execution_options(sqlite_begin="IMMEDIATE").connect() if keep_connection else None
    session = new_session(connection, writes=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if connection is not None:
            connection.close()


def on_commit(session: Session, action: Callable[[], Any]) -> None:
    """Run ``action`` once the session's transaction has committed; drop it on rollback.

    This is how background tasks are enqueued: a task never sees rows that were
    rolled back, and never runs before the rows it needs exist.
    """
    session.info.setdefault("on_commit", []).append(action)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    actions = session.info.pop("on_commit", [])
    for action in actions:
        action()


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop("on_commit", None)


def only_on(dialect: str, index: sa.Index) -> sa.Index:
    """``index`` as the models declare it for one backend only: created there alone, and
    compared there alone by the migration checks (campaign.migrate.schema_objects_for)."""
    index.info["only_on"] = dialect
    return index.ddl_if(dialect=dialect)


def one_at_a_time(session: Session, name: str) -> None:
    """Hold the named lock until the transaction ends, so a job run twice at once runs in turn.

    PostgreSQL takes a transaction advisory lock; on SQLite every writing transaction
    already runs alone (BEGIN IMMEDIATE), so there is nothing more to take.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})

