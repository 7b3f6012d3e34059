"""What needs the owner's attention: the conditions that open an incident (an operation failed,
the key refused, no recent backup, Wix unreachable), the words for them, and the Wix work the
dashboard reports."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..models import (
    Incident,
    Operation,
    Site,
)
from ..schedules import INTERVAL
from .backups import slot_count

# --- What needs the owner's attention: the open incidents ---------------------------------------
# One rule: the conditions below open and resolve incidents (engine/incidents.py), and "needs
# attention" (dashboard, site page) is the site's open incidents, never worked out again.

# Wix failing to answer for a site this long opens an incident (shorter outages only retry).
UNREACHABLE_AFTER = timedelta(hours=1)

# The incident each kind of operation opens when it fails (a verify finds damage, shown on the
# snapshot itself; it is not an incident).
CAUSE_OF_OPERATION = {
    Operation.Kind.CREATE_BACKUP: Incident.Cause.BACKUP_FAILED,
    Operation.Kind.RESTORE: Incident.Cause.RESTORE_FAILED,
    Operation.Kind.RESTORE_PARTIAL: Incident.Cause.RESTORE_FAILED,
    Operation.Kind.DELETE_BACKUP: Incident.Cause.DELETE_FAILED,
    Operation.Kind.SNAPSHOT: Incident.Cause.SNAPSHOT_FAILED,
}

# The causes the beat works out from a site's state (the others open when an operation fails).
STATE_CAUSES = (Incident.Cause.KEY, Incident.Cause.STALE, Incident.Cause.UNREACHABLE)


def expected_backup_age(site: Site, schedules: Iterable[tuple[str, bool]] = ()) -> timedelta:
    """How old the newest READY backup or complete snapshot of a site may be before it is
    stale. `schedules`: the site's schedules as (frequency, paused). With one running, twice the
    shortest interval of those running (a daily schedule expects a copy within two days);
    without, the site's setting (8 days by default: Wix makes an AUTO backup every 7)."""
    running = [INTERVAL[frequency] for frequency, paused in schedules if not paused]
    if running:
        return 2 * min(running)
    return timedelta(days=site.stale_after_days)


def failed_operation_words(kind: str, error: str) -> str:
    """What a failed-operation incident says."""
    what = {
        Operation.Kind.CREATE_BACKUP: "A backup",
        Operation.Kind.RESTORE: "A restore",
        Operation.Kind.RESTORE_PARTIAL: "A restore",
        Operation.Kind.DELETE_BACKUP: "A deletion",
        Operation.Kind.SNAPSHOT: "A snapshot",
    }.get(kind, "An operation")
    return f"{what} failed: {error}" if error else f"{what} failed."


def site_conditions(
    site: Site,
    newest_backup_at: datetime | None,
    newest_snapshot_at: datetime | None,
    now: datetime,
    schedules: Iterable[tuple[str, bool]] = (),
) -> dict[str, str]:
    """The state-derived incident causes a site has now, each with what it says.

    `newest_backup_at`: the request time of its newest READY backup; `newest_snapshot_at`: the
    start of its newest complete snapshot; `schedules`: its schedules as (frequency, paused).
    """
    found: dict[str, str] = {}
    if site.credentials_rejected:
        found[Incident.Cause.KEY] = site.last_sync_error or "Wix rejected the site's key."
    elif (
        site.last_sync_error
        and site.sync_failing_since is not None
        and now - site.sync_failing_since > UNREACHABLE_AFTER
    ):
        found[Incident.Cause.UNREACHABLE] = (
            "Wix has not been reachable for this site for over an hour. "
            f"The last sync with Wix failed: {site.last_sync_error}"
        )
    newest = max(filter(None, (newest_backup_at, newest_snapshot_at)), default=None)
    if newest is None:
        if site.last_synced_at is not None:  # known only once Wix was asked
            found[Incident.Cause.STALE] = "There is no READY backup of this site."
    elif now - newest > expected_backup_age(site, schedules):
        age = now - newest
        hours = int(age.total_seconds() // 3600)
        old = f"{age.days} days" if age.days >= 2 else f"{hours} hour{'s' if hours != 1 else ''}"
        copy = (
            "READY backup"
            if newest_backup_at is not None and newest == newest_backup_at
            else "complete snapshot"
        )
        found[Incident.Cause.STALE] = f"The newest {copy} is {old} old."
    return found


@dataclass(frozen=True)
class Attention:
    kind: str  # the incident's cause ("key", "stale", "unreachable", "backup_failed", ...)
    text: str


def attention(open_incidents: Iterable[tuple[str, str]]) -> list[Attention]:
    """Why a site needs its owner's attention: its open incidents (cause, text), the key first."""
    order = {cause: n for n, cause in enumerate(Incident.Cause.values)}
    found = sorted(
        open_incidents, key=lambda item: (item[0] != Incident.Cause.KEY, order.get(item[0], 99))
    )
    return [Attention(cause, text) for cause, text in found]


def wix_work_unasked(
    pending_backups: int, pending_restorations: int, running: Iterable[Operation]
) -> tuple[int, int]:
    """Wix's PENDING backups and restorations that none of our running operations stands for.

    A submitted "Back up now" is the backup Wix is making (and a submitted restore its
    restoration): a page that lists both would report the same work twice.
    """
    made = restoring = 0
    for op in running:
        if op.kind == Operation.Kind.CREATE_BACKUP and op.backup_wix_id:
            made += 1
        elif op.is_restore and op.restoration_wix_id:
            restoring += 1
    return max(pending_backups - made, 0), max(pending_restorations - restoring, 0)


def slots_free(slots_used: int) -> int:
    return max(slot_count() - slots_used, 0)
