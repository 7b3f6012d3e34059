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
    for site_id in result.refreshes:
        refresh_site.delay(site_id, claimed=True)
    for site_id in result.watches:
        refresh_site.delay(site_id, full=True, claimed=True)


@shared_task(ignore_result=True, expires=60)
def sync_due_sites() -> None:
    for site_id in engine.sites_due_for_sync():
        refresh_site.delay(site_id, full=True)
