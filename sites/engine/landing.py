"""A create whose answer was lost is never sent again: wait for what Wix made, and adopt it.

Wix may make a backup after our request timed out (12 s after it, in a run under faults), or
after the connection dropped or the answer came back garbled. A second create would then make
two backups, and with every slot used Wix would evict one the owner never agreed to lose. So the
create is sent once (`Operation.sent_at` is written before the call), and an operation whose
answer is unknown waits, SUBMITTED without a backup id, while each refresh of the site looks for
the first on-demand backup requested since it was sent. Nothing appears within
`WBM_CREATE_LANDING_SECONDS`: the operation fails with words that say nothing else was evicted,
and a backup that still appears later is linked to it and logged.

There is no safe retry: even when two free slots would keep both backups, the extra one would
move every later eviction one backup earlier than the owner was told.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from wixapi import Backup as WixBackup
from wixapi import WixProtocolError, WixUnavailable

from ..models import Activity, Backup, Operation, Site
from .states import finish, poll_later, site_touch

# Clocks differ between us and Wix; an adopted backup may carry a requestedDate this much earlier
# than our own record of when we asked.
CLOCK_SKEW = timedelta(seconds=30)
# A create failed for want of an answer keeps looking for its backup this long after it ended.
LATE_LINK_WINDOW = timedelta(days=1)

# The answer may have been lost after Wix acted: no answer, a timeout, an unreadable body.
AMBIGUOUS = (WixUnavailable, WixProtocolError)

WAITING = (
    "Wix's answer to the backup request was lost; waiting to see the backup Wix may be making "
    "(the request is not sent again, so nothing else is evicted)."
)
NOT_CONFIRMED = (
    "Wix did not confirm the backup; nothing was sent again, so nothing else was evicted. "
    "Look at the list of backups, or back up again."
)


def is_awaiting(operation: Operation) -> bool:
    """A create sent to Wix whose backup we have not identified yet."""
    return (
        operation.kind == Operation.Kind.CREATE_BACKUP
        and not operation.backup_wix_id
        and operation.sent_at is not None
    )


def watched(site: Site, now: datetime) -> QuerySet[Operation]:
    """What a refresh of the site looks after: submitted operations and unconfirmed creates."""
    recent_unlinked = Q(
        kind=Operation.Kind.CREATE_BACKUP,
        state=Operation.State.FAILED,
        backup_wix_id="",
        sent_at__isnull=False,
        finished_at__gte=now - LATE_LINK_WINDOW,
    )
    return site.operations.filter(Q(state=Operation.State.SUBMITTED) | recent_unlinked)


def _first_made(
    operation: Operation, backups: Iterable[WixBackup], taken: set[str]
) -> WixBackup | None:
    since = operation.sent_at - CLOCK_SKEW
    made = [
        b
        for b in backups
        if str(b.type) == Backup.ON_DEMAND and b.requested_date >= since and b.id not in taken
    ]
    return min(made, key=lambda b: (b.requested_date, b.id)) if made else None


def _taken(site: Site) -> set[str]:
    """Backups already linked to a create (so two lost answers never adopt the same one)."""
    return set(
        site.operations.filter(kind=Operation.Kind.CREATE_BACKUP)
        .exclude(backup_wix_id="")
        .values_list("backup_wix_id", flat=True)
    )


def settle(
    site: Site, operations: Sequence[Operation], backups: list[WixBackup], now: datetime
) -> list[Operation]:
    """Link the creates among `operations` whose backup has appeared in Wix's fresh list.

    Returns the submitted operations still to be decided from their statuses (awaiting ones that
    found their backup included); the rest waited or failed here, and creates that had already
    failed are never decided again.
    """
    pending = [op for op in operations if is_awaiting(op)]
    if not pending:
        return [op for op in operations if op.state == Operation.State.SUBMITTED]
    taken = _taken(site)
    decided: set[object] = set()
    for operation in sorted(pending, key=lambda op: op.sent_at):
        found = _first_made(operation, backups, taken)
        if found is not None:
            taken.add(found.id)
            _link(operation, found)
            if operation.state == Operation.State.FAILED:
                decided.add(operation.pk)
            continue
        decided.add(operation.pk)
        if operation.state != Operation.State.SUBMITTED:
            continue  # failed earlier; keeps looking until LATE_LINK_WINDOW
        if now - operation.sent_at > timedelta(seconds=settings.WBM_CREATE_LANDING_SECONDS):
            finish(
                operation,
                state=Operation.State.FAILED,
                error=NOT_CONFIRMED,
                from_state=Operation.State.SUBMITTED,
            )
        else:
            poll_later(
                operation,
                now,
                delay=timedelta(seconds=settings.WBM_POLL_INTERVAL),
                error=operation.error,
            )
    return [
        op for op in operations if op.pk not in decided and op.state == Operation.State.SUBMITTED
    ]


def _link(operation: Operation, backup: WixBackup) -> None:
    """Name the backup Wix made for this create (compare-and-swap: once only)."""
    waiting = operation.state == Operation.State.SUBMITTED
    linked = Operation.objects.filter(pk=operation.pk, backup_wix_id="").update(
        backup_wix_id=backup.id, error="" if waiting else operation.error
    )
    if not linked:
        return
    operation.backup_wix_id = backup.id
    if operation.state == Operation.State.FAILED:
        # Ended unconfirmed, and Wix made it after all: say so where the owner reads outcomes.
        Activity.objects.create(
            site_id=operation.site_id,
            actor_id=operation.requested_by_id,
            operation=operation,
            outcome=Activity.INFO,
            message="Wix made the backup after all",
            backup_at=backup.requested_date,
        )
    else:
        operation.error = ""
    site_touch(operation.site_id)
