from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.workers.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def open_test_session(session):
    """What deliver_batch opens per step, inside the test's own rolled-back transaction."""

    @contextmanager
    def opener():
        yield session
        session.commit()

    return opener
