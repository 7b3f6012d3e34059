"""Handing work to Celery by task name, so the engine never imports `sites/tasks.py` back.

A message that cannot be sent (Redis down) is never an error: the work is a row in the database,
and the sweeper hands it over once the broker is back.
"""

import logging
from typing import Any

from celery import current_app
from django.utils import timezone

from ..models import Operation

logger = logging.getLogger(__name__)

SUBMIT_OPERATION = "sites.tasks.submit_operation"
REFRESH_SITE = "sites.tasks.refresh_site"
# On the "snapshots" queue (CELERY_TASK_ROUTES), so a long snapshot never delays a status poll.
SNAPSHOT_OPERATION = "sites.tasks.snapshot_operation"
PRUNE_SNAPSHOTS = "sites.tasks.prune_snapshots"
DELIVER_ALERT = "sites.tasks.deliver_alert"


def _send(name: str, *args: Any, **kwargs: Any) -> bool:
    try:
        current_app.send_task(name, args=args, kwargs=kwargs)
    except Exception:  # kombu raises several types for an unreachable broker
        return False
    return True


def enqueue_submit(operation_id: Any) -> None:
    """Hand an operation to a worker; if the broker is down, the sweeper submits it later."""
    if not _send(SUBMIT_OPERATION, str(operation_id)):
        logger.warning(
            "broker unreachable; operation %s stays queued for the sweeper", operation_id
        )
        Operation.objects.filter(pk=operation_id, state=Operation.State.QUEUED).update(
            due_at=timezone.now()
        )


def enqueue_refresh(site_id: Any, *, full: bool = True) -> None:
    """Ask a worker to refresh a site's mirror; if the broker is down, the periodic sync will."""
    if not _send(REFRESH_SITE, str(site_id), full=full):
        logger.warning("broker unreachable; refresh of site %s deferred", site_id)


def enqueue_snapshot_operation(operation_id: Any) -> None:
    """Hand a snapshot or verify operation to a snapshot worker; if the broker is down, the
    sweeper hands it over later (it is a QUEUED row)."""
    if not _send(SNAPSHOT_OPERATION, str(operation_id)):
        logger.warning(
            "broker unreachable; snapshot operation %s stays queued for the sweeper", operation_id
        )
        Operation.objects.filter(pk=operation_id, state=Operation.State.QUEUED).update(
            due_at=timezone.now()
        )


def enqueue_prune(site_id: Any) -> None:
    """Ask a snapshot worker to apply the site's retention rules; if the broker is down, the
    periodic prune will."""
    if not _send(PRUNE_SNAPSHOTS, str(site_id)):
        logger.warning("broker unreachable; pruning the snapshots of site %s deferred", site_id)


def enqueue_alert_delivery(delivery_id: Any) -> None:
    """Ask a worker to send one alert to one channel; if the broker is down, the beat's
    `deliver_due_alerts` hands it over later (it is a pending row)."""
    if not _send(DELIVER_ALERT, str(delivery_id)):
        logger.warning("broker unreachable; alert delivery %s deferred", delivery_id)
