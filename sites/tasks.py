"""Celery tasks: thin wrappers over the engine that take ids and tolerate anything (habit 5).

None of them sleeps: waiting is data (`Operation.due_at`) that the beat-driven sweeper reads.
The engine enqueues these by name (engine/dispatch.py), so nothing imports this module back.
"""

from celery import shared_task

from . import engine

# Every task is idempotent (compare-and-swap transitions), so redelivery after a crash is safe;
# ignore_result because nothing reads results (no result backend).


@shared_task(ignore_result=True)
def submit_operation(operation_id: str) -> None:
    engine.operation_submit(operation_id=operation_id)


@shared_task(ignore_result=True)
def refresh_site(site_id: str, full: bool = False, claimed: bool = False) -> None:
    engine.site_refresh(site_id=site_id, full=full, claimed=claimed)


# A sweep that waited in the queue past the next one is pointless: expire it.
@shared_task(ignore_result=True, expires=10)
def sweep() -> None:
    result = engine.sweep()
    for operation_id in result.submits:
        submit_operation.delay(operation_id)
    for chunk in engine.refresh_chunks(result.refreshes):
        refresh_sites.delay(chunk, claimed=True)
    for chunk in engine.refresh_chunks(result.watches):
        refresh_sites.delay(chunk, full=True, claimed=True)
    for operation_id in result.snapshots:
        snapshot_operation.delay(operation_id)


@shared_task(ignore_result=True)
def refresh_sites(site_ids: list[str], full: bool = False, claimed: bool = False) -> None:
    """Several sites' refreshes in one task: each is still its own claim, list and writes, but
    the task's own cost (a broker message, a hand-over to a worker process) is paid once."""
    for site_id in site_ids:
        engine.site_refresh(site_id=site_id, full=full, claimed=claimed)


# One tick for every site's schedules (no beat entry per site); a tick that waited past the next
# one is pointless, and two that overlap still run each schedule once (compare-and-swap).
@shared_task(ignore_result=True, expires=30)
def run_due_schedules() -> None:
    engine.schedules_run_due()


@shared_task(ignore_result=True, expires=60)
def sync_due_sites() -> None:
    for chunk in engine.refresh_chunks(engine.sites_due_for_sync()):
        refresh_sites.delay(chunk, full=True)


# --- On the "snapshots" queue (CELERY_TASK_ROUTES): long work that must not delay status polls.


@shared_task(ignore_result=True)
def snapshot_operation(operation_id: str) -> None:
    """Take or verify a snapshot (resumes an interrupted one)."""
    engine.snapshot_operation_run(operation_id=operation_id)


@shared_task(ignore_result=True)
def prune_snapshots(site_id: str) -> None:
    engine.snapshots_prune(site_id=site_id)


@shared_task(ignore_result=True, expires=600)
def prune_due_snapshots() -> None:
    # What a worker that died left uncounted of a Wix restore's changes (engine/restore_reading).
    engine.restore_readings_due()
    for site_id in engine.sites_with_snapshots():
        prune_snapshots.delay(site_id)


# --- Alerts (engine/incidents.py, outbox.py, alert_checks.py).


@shared_task(ignore_result=True, expires=60)
def check_incidents() -> None:
    """Every site's stale, unreachable and key incidents: one task for all sites."""
    engine.incidents_check()


@shared_task(ignore_result=True)
def deliver_alert(delivery_id: str) -> None:
    engine.delivery_run(delivery_id=delivery_id)


@shared_task(ignore_result=True, expires=30)
def deliver_due_alerts() -> None:
    for delivery_id in engine.deliveries_due():
        deliver_alert.delay(delivery_id)
