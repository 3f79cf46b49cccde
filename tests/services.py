"""Reaching the real services the suite runs against, and giving each run its own database."""

from __future__ import annotations

import contextlib
import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _admin_engine(base_url: str) -> sa.Engine:
    return sa.create_engine(_normalise(base_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_run_database(base_url: str, name: str) -> str:
    """Create a fresh PostgreSQL database for this run next to the configured one; '' for SQLite."""
    if not base_url or base_url.startswith("sqlite"):
        return ""
    try:
        with _admin_engine(base_url).connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.exit(f"PostgreSQL at {make_url(_normalise(base_url)).render_as_string()} is not reachable "
                    f"(DATABASE_URL is set, so the suite will not silently skip it): {error}", returncode=3)
    return make_url(_normalise(base_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, run_url: str) -> None:
    name = make_url(run_url).database
    with _admin_engine(base_url).connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_database_like(run_url: str, suffix: str) -> str:
    """Another empty database on the same server, for tests that run Cosign in separate processes."""
    base = make_url(run_url)
    name = f"{base.database}_{suffix}"
    with _admin_engine(run_url).connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False)


def require_broker(broker_url: str) -> None:
    if not broker_url.startswith("redis"):
        return
    import redis

    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.exit(f"Redis at {broker_url} is not reachable (CELERY_BROKER_URL is set, so the suite will not "
                    f"silently skip it): {error}", returncode=3)


@contextlib.contextmanager
def fresh_database(tmp_path, name: str):
    """An empty database beside the run's (a new SQLite file, or a new PostgreSQL database): yields its URL."""
    run_url = os.environ.get("DATABASE_URL", "")
    if run_url:
        url = create_database_like(run_url, name)
        try:
            yield url
        finally:
            drop_database(run_url, url)
    else:
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
