"""The Celery application: configured from Django's settings (CELERY_* names)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupapp.settings")

app = Celery("backupapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_as_after_a_request(**_: Any) -> None:
    """Around each task, what Django does around each request: a connection past CONN_MAX_AGE,
    or one that failed, is closed (the next query opens a fresh one); a kept one is health
    checked again at its next use. See CELERY_DB_REUSE_MAX in settings."""
    from django.db import close_old_connections

    close_old_connections()
