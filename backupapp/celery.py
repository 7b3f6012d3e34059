"""The Celery application: configured from Django's settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backupapp.settings")

app = Celery("backupapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
