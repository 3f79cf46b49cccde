"""Background work on Celery: the app, the beat schedule, tasks and mail backends."""
