"""The Celery application.

The database is the source of truth and the broker only carries wake-ups, so the
configuration is at-least-once with no surprises: late acks, redelivery when a
worker dies, one message prefetched at a time, and no ETA/countdown tasks (which a
Redis broker would redeliver after its visibility timeout).
"""

from __future__ import annotations

from celery import Celery

from campaign.settings import get_settings


EMBEDDED_BROKER_POLL_SECONDS = 0.05


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery("cosign", include=["workers.tasks"])
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule={
            "system.heartbeat": {"task": "system.heartbeat", "schedule": 30.0},
            # Short and cheap (an index range scan); the outbox rows, not the broker, hold the schedule.
            # A message waits on average half this before it is claimed; an idle run is one index probe.
            "outbox.dispatch_due": {"task": "outbox.dispatch_due", "schedule": 0.5,
                                    "options": {"expires": 10.0}},
            # Idempotent, so running it more often than daily only makes follow-ups appear sooner.
            "followups.scan": {"task": "followups.scan", "schedule": 3600.0, "options": {"expires": 600.0}},
        },
    )
    if settings.uses_embedded_broker:
        # The embedded broker is polled, and kombu's default of once a second left each worker
        # process idle for up to a second between deliver tasks: sending stalled at ~70 messages/s.
        # Its transport hands every transport option to create_engine, so the interval is set here.
        from kombu.transport import sqlalchemy as sqla_transport

        sqla_transport.Transport.polling_interval = EMBEDDED_BROKER_POLL_SECONDS
    return app


celery_app = make_celery()
