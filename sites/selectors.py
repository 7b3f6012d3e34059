"""Reads for the owner's pages (the "selectors" of HackSoftware's Django-Styleguide).

Everything here reads our database only, never Wix: the live endpoints that poll every 2 seconds
call these, so each page costs a fixed handful of queries whatever the number of rows.

Live fragments carry two values in their poll URL:
- the version of what they show (`Site.version`, which services move on every change a page
  shows), so a poll of an unchanged page is answered 204 after one query (htmx swaps nothing:
  focus, scroll position and screen readers are left alone);
- the statuses of what was in flight when they were drawn ("watch"), so the answer after a change
  can tell a screen reader what changed ("Backup of 3 Mar 14:02: READY").
"""

import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from . import kept
from .models import ON_DEMAND_SLOTS, Activity, Backup, Operation, Restoration, Site
from .services import refusal

# A site needs attention when its newest READY backup is older than this (Wix makes an AUTO
# backup every 7 days, so 8 days means one was missed).
STALE_AFTER = timedelta(days=8)
BACKUPS_SHOWN = 50
RESTORATIONS_SHOWN = 20
ACTIVITY_SHOWN = 30
# After opening a page asked Wix for fresh data, the page polls this long for it to land.
REFRESH_WAIT = timedelta(seconds=30)
# A poll URL names at most this many watched items; the rest are ignored.
WATCH_LIMIT = 50


# --- Live fragments: versions and watch --------------------------------------------------------


def _refreshing(last_synced_at: datetime | None, refresh_since: float | None, now: float) -> bool:
    """Whether a page opened at `refresh_since` still waits for the refresh it asked for."""
    if refresh_since is None:
        return False
    synced = last_synced_at.timestamp() if last_synced_at else 0.0
    return synced < refresh_since and 0 <= now - refresh_since < REFRESH_WAIT.total_seconds()


def _site_version(version: int, refreshing: bool) -> str:
    # The wait for a refresh is part of what the page shows ("Fetching the latest from Wix…").
    return f"{version}r" if refreshing else str(version)


def _dashboard_version(versions: Iterable[tuple[Any, int]]) -> str:
    """One value for all of an owner's sites: changes when any site changes, comes or goes."""
    parts = repr(sorted((str(pk), version) for pk, version in versions))
    return hashlib.blake2b(parts.encode(), digest_size=8).hexdigest()


def site_version(
    *, owner: AbstractBaseUser, site_id: Any, refresh_since: float | None = None
) -> str | None:
    """The version a site's page would show now, in one query (None: not the owner's site)."""
    # These run for every poll of every open page: one row by its key, so no ordering (the
    # model's default would cost the ORM more than the database).
    rows = list(
        Site.objects.filter(pk=site_id, owner_id=owner.pk)
        .values_list("version", "last_synced_at")
        .order_by()[:1]
    )
    if not rows:
        return None
    version, synced = rows[0]
    return _site_version(version, _refreshing(synced, refresh_since, time.time()))


def dashboard_version(*, owner: AbstractBaseUser) -> str:
    """The version the owner's dashboard would show now, in one query."""
    versions = Site.objects.filter(owner_id=owner.pk).values_list("pk", "version").order_by()
    return _dashboard_version(versions)


def operation_version(*, owner: AbstractBaseUser, site_id: Any, operation_id: Any) -> str | None:
    """The version an operation's page would show now, in one query (None: not the owner's)."""
    rows = list(
        Operation.objects.filter(pk=operation_id, site_id=site_id, site__owner_id=owner.pk)
        .values_list("site__version", flat=True)
        .order_by()[:1]
    )
    return str(rows[0]) if rows else None


def encode_watch(states: dict[str, str]) -> str:
    return ",".join(f"{key}:{status}" for key, status in sorted(states.items()))


def parse_watch(raw: str) -> dict[str, str]:
    """The watch list from a poll URL; anything malformed is skipped (it is only a hint)."""
    states: dict[str, str] = {}
    for entry in raw.split(",")[:WATCH_LIMIT]:
        key, _, status = entry.partition(":")
        kind, _, ident = key.partition(".")
        if kind in ("b", "r", "o") and 0 < len(ident) <= 64 and 0 < len(status) <= 32:
            states[key] = status
    return states


@dataclass
class Announcement:
    """One change a screen reader is told about; the template words it."""

    kind: str  # "backup", "restoration" or "operation"
    obj: Any
    status: str
    site: Site | None = None


@dataclass
class Live:
    version: str
    watch: str
    in_flight: bool
    announcements: list[Announcement] = field(default_factory=list)


# --- What needs attention ----------------------------------------------------------------------


@dataclass
class Attention:
    kind: str  # "key", "sync" or "stale"
    text: str


def site_attention(site: Site, now: datetime) -> list[Attention]:
    """Why a site needs its owner's attention; `site` carries the summary annotations."""
    found = []
    if site.credentials_rejected:
        found.append(Attention("key", site.last_sync_error or "Wix rejected the site's key."))
    elif site.last_sync_error:
        found.append(Attention("sync", f"The last sync with Wix failed: {site.last_sync_error}"))
    newest = max(filter(None, [site.newest_auto_at, site.newest_on_demand_at]), default=None)
    if newest is None and site.last_synced_at is not None:
        found.append(Attention("stale", "There is no READY backup of this site."))
    elif newest is not None and now - newest > STALE_AFTER:
        days = (now - newest).days
        found.append(Attention("stale", f"The newest READY backup is {days} days old."))
    return found


# --- Sites with their summary, kept per version -----------------------------------------------


def _running() -> QuerySet[Operation]:
    return Operation.objects.filter(state__in=Operation.RUNNING).order_by("created_at")


# A site's state is kept this long after it was read for a version (a newer version replaces it).
STATE_KEPT_SECONDS = 3600
# What the pages show of a running operation (and decide the backups' actions with).
_RUNNING_FIELDS = (
    "id",
    "site_id",
    "kind",
    "state",
    "created_at",
    "error",
    "backup_wix_id",
    "restoration_wix_id",
    "collections",
)


@dataclass(frozen=True)
class SiteState:
    """What the pages show of a site beyond its own row: all of it moves `Site.version`.

    Read once per version and kept in the cache, so a page costs a lookup by key rather than
    aggregates over every backup of the site (bench/page_speed.py).
    """

    slots_used: int = 0
    pending_backups: int = 0
    pending_restorations: int = 0
    newest_auto_at: datetime | None = None
    newest_on_demand_at: datetime | None = None
    running: tuple[dict[str, Any], ...] = ()
    # Statuses of the PENDING backups and restorations and of the backups being deleted.
    watch: dict[str, str] = field(default_factory=dict)

    def running_operations(self) -> list[Operation]:
        return [Operation(**values) for values in self.running]


# Part of every key: a release that changes what a state holds never reads one kept (in a shared
# cache) by the previous release.
_STATE_FORMAT = hashlib.blake2b(
    repr(([f.name for f in fields(SiteState)], _RUNNING_FIELDS)).encode(), digest_size=4
).hexdigest()


def _read_site_states(site_ids: list[Any]) -> dict[Any, SiteState]:
    """The states of these sites, in the same few queries however many sites and rows."""
    summaries: dict[Any, dict[str, Any]] = {pk: {} for pk in site_ids}
    for row in (
        Backup.objects.filter(site__in=site_ids)
        .order_by()
        .values("site")
        .annotate(
            slots_used=Count("pk", filter=Backup.HOLDING_SLOT),
            pending_backups=Count("pk", filter=Q(status=Backup.PENDING)),
            newest_auto_at=Max("requested_at", filter=Q(status=Backup.READY, type=Backup.AUTO)),
            newest_on_demand_at=Max(
                "requested_at", filter=Q(status=Backup.READY, type=Backup.ON_DEMAND)
            ),
        )
    ):
        summaries[row.pop("site")] = row
    for site_id, count in (
        Restoration.objects.filter(site__in=site_ids, status=Restoration.PENDING)
        .order_by()
        .values("site")
        .annotate(n=Count("pk"))
        .values_list("site", "n")
    ):
        summaries[site_id]["pending_restorations"] = count
    running: dict[Any, list[dict[str, Any]]] = {pk: [] for pk in site_ids}
    for values in _running().filter(site__in=site_ids).values(*_RUNNING_FIELDS):
        running[values["site_id"]].append(values)

    watch: dict[Any, dict[str, str]] = {pk: {} for pk in site_ids}

    def add(site_id: Any, key: str, status: str) -> None:
        if len(watch[site_id]) < WATCH_LIMIT:
            watch[site_id][key] = status

    # A backup being deleted is READY (final) until Wix says DELETED: watch it too.
    deleting = {
        op["backup_wix_id"]
        for ops in running.values()
        for op in ops
        if op["kind"] == Operation.DELETE_BACKUP
    }
    pending = [pk for pk, summary in summaries.items() if summary.get("pending_backups")]
    if pending or deleting:
        rows = (
            Backup.objects.filter(
                Q(site__in=pending, status=Backup.PENDING)
                | Q(site__in=site_ids, wix_id__in=deleting)
            )
            .order_by("-requested_at")
            .values_list("site", "wix_id", "status")
        )
        for site_id, wix_id, status in rows:
            add(site_id, f"b.{wix_id}", status)
    restoring = [pk for pk, summary in summaries.items() if summary.get("pending_restorations")]
    if restoring:
        rows = (
            Restoration.objects.filter(site__in=restoring, status=Restoration.PENDING)
            .order_by("-requested_at")
            .values_list("site", "wix_id", "status")
        )
        for site_id, wix_id, status in rows:
            add(site_id, f"r.{wix_id}", status)
    return {
        pk: SiteState(**summaries[pk], running=tuple(running[pk]), watch=watch[pk])
        for pk in site_ids
    }


def site_states(sites: list[Site]) -> list[SiteState]:
    """Each site's state at its version, from the cache or read (for all missing at once).

    Read after the sites' rows, so never older than their version; a state newer than its key
    is harmless (the next poll sees the newer version and reads again).
    """
    keys = {site.pk: f"wbm:site-state:{_STATE_FORMAT}:{site.pk}:{site.version}" for site in sites}
    found = kept.get_many(list(keys.values()))
    states = {pk: found.get(key) for pk, key in keys.items()}
    missing = [pk for pk, state in states.items() if not isinstance(state, SiteState)]
    if missing:
        read = _read_site_states(missing)
        kept.set_many({keys[pk]: read[pk] for pk in missing}, STATE_KEPT_SECONDS)
        states |= read
    for site in sites:
        state = states[site.pk]
        site._wbm_state = state
        # The site's summary as attributes: what the templates and `site_attention` read.
        site.slots_used = state.slots_used
        site.pending_backups = state.pending_backups
        site.pending_restorations = state.pending_restorations
        site.newest_auto_at = state.newest_auto_at
        site.newest_on_demand_at = state.newest_on_demand_at
    return [states[site.pk] for site in sites]


def site_state(site: Site) -> SiteState:
    memo = getattr(site, "_wbm_state", None)
    return memo if memo is not None else site_states([site])[0]


def owned_site(*, owner: AbstractBaseUser, site_id: Any) -> Site | None:
    """The owner's site, or None if it is not theirs; its summary is read by the pages that
    show it (`site_page`, through `site_state`).

    It carries the owner's time zone too (`owner_time_zone`, None when never chosen), which the
    page is drawn in: one query fewer per page.
    """
    found = list(
        Site.objects.filter(pk=site_id, owner=owner)
        .annotate(owner_time_zone=F("owner__wbm_profile__time_zone"))
        .order_by()[:1]  # one row by its key: the default ordering would only cost
    )
    return found[0] if found else None


def _finished_ops(site_ids: Iterable[Any], watched: dict[str, str]) -> dict[str, Operation]:
    """Watched operations (by id) that are no longer running: one query, bounded by the watch."""
    ids = [key[2:] for key in watched if key.startswith("o.")]
    if not ids:
        return {}
    # Ids come from the URL: only well-formed UUIDs reach the query.
    valid = [i for i in ids if _is_uuid(i)]
    rows = Operation.objects.filter(pk__in=valid, site_id__in=list(site_ids)).exclude(
        state__in=Operation.RUNNING
    )
    return {str(op.pk): op for op in rows.select_related("site")}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- The dashboard -----------------------------------------------------------------------------


@dataclass
class DashboardRow:
    site: Site
    running: list[Operation]
    attention: list[Attention]

    @property
    def slots_free(self) -> int:
        return max(ON_DEMAND_SLOTS - self.site.slots_used, 0)


@dataclass
class Dashboard:
    rows: list[DashboardRow]
    live: Live
    slots: int = ON_DEMAND_SLOTS


def dashboard(*, owner: AbstractBaseUser, watched: str = "") -> Dashboard:
    now = timezone.now()
    sites = list(Site.objects.filter(owner=owner))
    rows = [
        DashboardRow(site, state.running_operations(), site_attention(site, now))
        for site, state in zip(sites, site_states(sites), strict=True)
    ]
    states = {f"o.{op.pk}": op.state for row in rows for op in row.running}
    in_flight = any(
        r.running or r.site.pending_backups or r.site.pending_restorations for r in rows
    )
    previous = parse_watch(watched)
    announcements = []
    if previous:
        finished = _finished_ops([s.pk for s in sites], previous)
        for key in previous:
            op = finished.get(key[2:])
            if op is not None:
                announcements.append(Announcement("operation", op, op.state, site=op.site))
    version = _dashboard_version((s.pk, s.version) for s in sites)
    live = Live(version, encode_watch(states), in_flight, announcements)
    return Dashboard(rows=rows, live=live)


# --- A site's page -----------------------------------------------------------------------------


@dataclass
class BackupRow:
    backup: Backup
    restore_blocked: str = ""  # why Restore is unavailable ("" when it is available)
    delete_blocked: str = ""  # why Delete is unavailable
    can_restore: bool = False
    can_delete: bool = False

    @property
    def same_reason(self) -> str:
        """The one reason both actions are unavailable, when it is the same (said once)."""
        return self.restore_blocked if self.restore_blocked == self.delete_blocked else ""


@dataclass
class RestorationRow:
    restoration: Restoration
    backup: Backup | None


@dataclass
class SiteTables:
    """The backups, restorations and activity of a site's page.

    All of it is versioned by `Site.version` (the running operations that set the rows' actions
    included), so the views draw it once per version and time zone and keep the HTML.
    """

    backups: list[BackupRow]
    restorations: list[RestorationRow]
    activity: list[Activity]


@dataclass
class SitePage:
    site: Site
    running: list[Operation]
    attention: list[Attention]
    refreshing: bool
    refresh_since: float | None
    live: Live
    slots: int = ON_DEMAND_SLOTS

    @cached_property
    def tables(self) -> SiteTables:
        """Read only when the tables are drawn (not when their HTML is kept from before)."""
        return site_tables(site=self.site, running=self.running)


def _backup_rows(
    backups: list[Backup], running: list[Operation], restorations: list[Restoration]
) -> list[BackupRow]:
    restoring_from = {op.backup_wix_id for op in running if op.is_restore} | {
        r.backup_wix_id for r in restorations if r.status == Restoration.PENDING
    }
    deleting = {op.backup_wix_id for op in running if op.kind == Operation.DELETE_BACKUP}
    restore_running = bool(restoring_from)
    rows = []
    for backup in backups:
        row = BackupRow(backup)
        if backup.status == Backup.PENDING:
            row.restore_blocked = row.delete_blocked = "Still being made"
        elif backup.wix_id in deleting:
            row.delete_blocked = "Being deleted"
            if backup.status == Backup.READY:
                row.restore_blocked = "Being deleted"
        elif backup.status == Backup.READY:
            row.can_restore = not restore_running
            row.restore_blocked = "" if row.can_restore else "Another restore is running"
            row.can_delete = backup.wix_id not in restoring_from
            row.delete_blocked = "" if row.can_delete else "A restore from it is running"
        elif backup.status in (Backup.FAILED, Backup.CANCELED):
            row.can_delete = True
        rows.append(row)
    return rows


def site_tables(*, site: Site, running: list[Operation]) -> SiteTables:
    """The newest rows of a site's three tables, in a fixed number of queries."""
    backups = list(site.backups.all()[:BACKUPS_SHOWN])
    restorations = list(site.restorations.all()[:RESTORATIONS_SHOWN])
    activity = list(site.activities.select_related("actor")[:ACTIVITY_SHOWN])
    by_id = {b.wix_id: b for b in backups}
    missing = {r.backup_wix_id for r in restorations} - by_id.keys()
    if missing:
        by_id.update({b.wix_id: b for b in site.backups.filter(wix_id__in=missing)})
    return SiteTables(
        backups=_backup_rows(backups, running, restorations),
        restorations=[RestorationRow(r, by_id.get(r.backup_wix_id)) for r in restorations],
        activity=activity,
    )


def site_page(*, site: Site, watched: str = "", refresh_since: float | None = None) -> SitePage:
    """What a site's page shows around its tables."""
    now = timezone.now()
    state = site_state(site)
    running = state.running_operations()
    refreshing = _refreshing(site.last_synced_at, refresh_since, now.timestamp())
    states = {f"o.{op.pk}": op.state for op in running} | state.watch
    in_flight = refreshing or any(
        key.startswith("o.") or status == Backup.PENDING for key, status in states.items()
    )
    live = Live(
        _site_version(site.version, refreshing),
        encode_watch(states),
        in_flight,
        _site_announcements(site, parse_watch(watched)),
    )
    return SitePage(
        site=site,
        running=running,
        attention=site_attention(site, now),
        refreshing=refreshing,
        refresh_since=refresh_since if refreshing else None,
        live=live,
    )


def _site_announcements(site: Site, previous: dict[str, str]) -> list[Announcement]:
    """What changed since the poll's watch list, read for the watched items only."""
    if not previous:
        return []
    wanted = {"b": [], "r": []}
    for key in previous:
        kind, ident = key.split(".", 1)
        if kind in wanted:
            wanted[kind].append(ident)
    backups = (
        {b.wix_id: b for b in site.backups.filter(wix_id__in=wanted["b"])} if wanted["b"] else {}
    )
    by_restoration = (
        {r.wix_id: r for r in site.restorations.filter(wix_id__in=wanted["r"])}
        if wanted["r"]
        else {}
    )
    finished = _finished_ops([site.pk], previous)
    found = []
    for key, status in previous.items():
        kind, ident = key.split(".", 1)
        if kind == "b" and ident in backups and backups[ident].status != status:
            found.append(Announcement("backup", backups[ident], backups[ident].status))
        elif kind == "r" and ident in by_restoration:
            restoration = by_restoration[ident]
            if restoration.status != status:
                found.append(
                    Announcement("restoration", restoration, restoration.status, site=site)
                )
        elif kind == "o" and ident in finished and finished[ident].state == Operation.FAILED:
            # Successes show as the backup's or restoration's new status; failures of a request
            # Wix never saw (no backup row to change) would otherwise go unannounced.
            found.append(Announcement("operation", finished[ident], Operation.FAILED))
    return found


def restore_blocked(site: Site, backup: Backup) -> str:
    """Why this backup cannot be restored now ("" when it can); the service checks again."""
    return refusal(site, Operation.RESTORE, backup)


def delete_blocked(site: Site, backup: Backup) -> str:
    """Why this backup cannot be deleted now ("" when it can); the service checks again."""
    reason = refusal(site, Operation.DELETE_BACKUP, backup)
    if reason:
        return reason
    # A second click on Delete is answered with the running deletion; the page says so first.
    if site.operations.filter(
        state__in=Operation.RUNNING, kind=Operation.DELETE_BACKUP, backup_wix_id=backup.wix_id
    ).exists():
        return "This backup is already being deleted."
    return ""


# --- One operation -----------------------------------------------------------------------------


@dataclass
class OperationPage:
    operation: Operation
    backup: Backup | None
    restoration: Restoration | None
    live: Live


def operation_page(*, operation: Operation, watched: str = "") -> OperationPage:
    site = operation.site
    backup = site.backups.filter(wix_id=operation.backup_wix_id).first()
    restoration = (
        site.restorations.filter(wix_id=operation.restoration_wix_id).first()
        if operation.restoration_wix_id
        else None
    )
    # A restore operation succeeds only once Wix's restoration is COMPLETED, so "finished" covers
    # both; after a failure nothing polls Wix for this restoration any more, so neither do we.
    in_flight = not operation.is_finished
    states = {f"o.{operation.pk}": operation.state}
    if restoration is not None:
        states[f"r.{restoration.wix_id}"] = restoration.status
    if backup is not None and operation.kind != Operation.DELETE_BACKUP:
        states[f"b.{backup.wix_id}"] = backup.status
    announcements = []
    for key, status in parse_watch(watched).items():
        if states.get(key, status) == status:
            continue
        if key.startswith("o."):
            announcements.append(Announcement("operation", operation, operation.state))
        elif key.startswith("r.") and restoration is not None:
            announcements.append(
                Announcement("restoration", restoration, restoration.status, site=site)
            )
        elif key.startswith("b.") and backup is not None:
            announcements.append(Announcement("backup", backup, backup.status))
    live = Live(str(site.version), encode_watch(states), in_flight, announcements)
    return OperationPage(operation=operation, backup=backup, restoration=restoration, live=live)
