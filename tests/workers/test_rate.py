"""The delivery rate to a local SMTP server with real workers: printed, not asserted (no timed assertions)."""

from __future__ import annotations

import time

import pytest

from tests.workers.cluster import Cluster, wait_for
from tests.workers.test_reliability import assert_all_sent_once, schedule, settled

pytestmark = pytest.mark.slow

MESSAGES = 2000


def test_delivery_rate_to_a_local_sink(tmp_path, smtp_sink):
    cluster = Cluster(tmp_path, smtp_port=smtp_sink.port)
    try:
        # One recipient domain each, so the per-domain limit does not pace the run.
        expected = schedule(cluster, MESSAGES, domains=MESSAGES)
        cluster.worker()
        wait_for(lambda: smtp_sink.count() >= 0 and cluster.processes[0].poll() is None, timeout=5,
                 what="the worker to start")
        cluster.beat()
        wait_for(lambda: smtp_sink.count() >= 1, timeout=30, what="the first message")
        started, first = time.monotonic(), smtp_sink.count()
        wait_for(lambda: smtp_sink.count() >= MESSAGES and settled(cluster), timeout=120,
                 what=f"all {MESSAGES} messages", interval=0.05)
        elapsed = time.monotonic() - started
        assert_all_sent_once(cluster, smtp_sink, expected)
        print(f"\ndelivery rate: {(MESSAGES - first) / elapsed:.0f} messages/s "
              f"({MESSAGES - first} in {elapsed:.1f} s, 2 worker processes)")
    finally:
        cluster.close()
