"""Running a job twice at once, as two beats by mistake or a redelivered task would."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from campaign.db import make_engine
from campaign.migrate import upgrade
from tests import services


@contextlib.contextmanager
def fresh_writer(tmp_path: Path, name: str) -> Iterator[sa.Engine]:
    """A migrated database of its own (threads cannot share the test's transaction), whose
    sessions write as the app's do: on SQLite each transaction takes the write lock first."""
    with services.fresh_database(tmp_path, name) as url:
        engine = make_engine(url)
        try:
            upgrade(engine=engine)
            yield engine.execution_options(sqlite_begin="IMMEDIATE")
        finally:
            engine.dispose()


def twice_at_once(writer: sa.Engine, job: Callable[[Session], int]) -> list[int]:
    """``job`` in two threads started together, each in a session of its own that it commits;
    what each returned, smallest first. An error in either thread fails the caller's test."""
    start = threading.Barrier(2)
    made: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(writer, expire_on_commit=False) as session:
                start.wait()
                made.append(job(session))
                session.commit()
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return sorted(made)
