"""Consistent copies of the whole database, and restoring one.

SQLite uses its online backup API (a consistent snapshot while Cosign runs);
PostgreSQL uses pg_dump's custom format and pg_restore. Restoring replaces every
row: stop the web app, worker and beat first.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from campaign.errors import InvalidInput
from campaign.settings import get_settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _libpq_url(url: str) -> str:
    """pg_dump and pg_restore take libpq URLs, without SQLAlchemy's driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InvalidInput(f"{name} is not installed; it is needed to back up or restore PostgreSQL.")
    return path


def backup(target: Path, url: str | None = None) -> Path:
    url = url or get_settings().sqlalchemy_url
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        return target
    subprocess.run([_require_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}",
                    _libpq_url(url)], check=True, capture_output=True, text=True)
    return target


def restore(source: Path, url: str | None = None) -> None:
    url = url or get_settings().sqlalchemy_url
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"No backup file at {source}.")
    head = source.read_bytes()[:16]
    if url.startswith("sqlite"):
        if head != SQLITE_MAGIC:
            raise InvalidInput(f"{source} is not a SQLite backup made by `campaign backup`.")
        backup_db = sqlite3.connect(source)
        live_db = sqlite3.connect(_sqlite_path(url))
        try:
            backup_db.backup(live_db)
        finally:
            live_db.close()
            backup_db.close()
        return
    if not head.startswith(PGDUMP_MAGIC):
        raise InvalidInput(f"{source} is not a PostgreSQL backup made by `campaign backup`.")
    result = subprocess.run([_require_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                             "--single-transaction", f"--dbname={_libpq_url(url)}", str(source)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise InvalidInput(f"pg_restore failed: {result.stderr.strip()[:2000]}")
