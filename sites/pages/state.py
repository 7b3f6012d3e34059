"""What the pages show of a site beyond its own row, read once per version and kept.

The kept state is data that does not depend on who looks (no HTML, no buttons), keyed by the
site's version, so it is never stale: any change a page shows moves the version first.
"""

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from .. import cache, rules
from ..batch import fetch_prepared
from ..models import Backup, Incident, Operation, Restoration, Schedule, Site
from .live import WATCH_LIMIT

SCHEDULE_FIELDS = ("kind", "frequency", "at", "weekday", "paused", "next_run_at", "last_error")


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
    # Statuses of the PENDING backups, running restorations and backups being deleted.
    watch: dict[str, str] = field(default_factory=dict)
    # The backups that Wix's running restorations read from.
    restoring_from: tuple[str, ...] = ()
    # The site's open incidents as (cause, text): what "needs attention" shows.
    incidents: tuple[tuple[str, str], ...] = ()
    # The site's saved schedules, as `SCHEDULE_FIELDS` tuples (pages/schedules.py reads them).
    schedules: tuple[tuple[Any, ...], ...] = ()

    def running_operations(self) -> list[Operation]:
        return [Operation(**values) for values in self.running]

    def in_flight(self) -> rules.InFlight:
        """What runs on the site, for the rules (the same as `rules.in_flight` would read)."""
        return rules.InFlight(
            operations=tuple(self.running_operations()),
            restoring_from=frozenset(self.restoring_from),
        )


# Part of every key: a release that changes what a state holds never reads one kept (in a shared
# cache) by the previous release.
_STATE_FORMAT = hashlib.blake2b(
    repr(([f.name for f in fields(SiteState)], _RUNNING_FIELDS, SCHEDULE_FIELDS)).encode(),
    digest_size=4,
).hexdigest()


_SUMMARY_FIELDS = (
    "slots_used",
    "pending_backups",
    "newest_auto_at",
    "newest_on_demand_at",
)


def state_querysets(site_ids: list[Any]) -> list[QuerySet]:
    """The queries of these sites' states: the same few however many sites and rows, none
    depending on another's answer (so a page can send them together, pages/batch.py)."""
    summaries = (
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
        .values_list("site", *_SUMMARY_FIELDS)
    )
    # Wix's running restorations, read whole at once (there are few: one runs at a time): their
    # count, what the page watches and the backups they read come from the same rows.
    # Running: PENDING or IN_PROGRESS (Restoration.RUNNING), started here or in Wix's screens.
    restorations = (
        Restoration.objects.filter(site__in=site_ids, status__in=Restoration.RUNNING)
        .order_by("-requested_at")
        .values_list("site", "wix_id", "status", "backup_wix_id")
    )
    running = _running().filter(site__in=site_ids).values_list(*_RUNNING_FIELDS)
    # What the page watches: PENDING backups, and READY ones being deleted (final until Wix says
    # DELETED), read in the same query.
    being_deleted = Operation.objects.filter(
        site=OuterRef("site"),
        backup_wix_id=OuterRef("wix_id"),
        kind=Operation.Kind.DELETE_BACKUP,
        state__in=Operation.RUNNING,
    )
    watched = (
        Backup.objects.filter(site__in=site_ids)
        .filter(Q(status=Backup.PENDING) | Exists(being_deleted))
        .order_by("-requested_at")
        .values_list("site", "wix_id", "status")
    )
    incidents = Incident.objects.filter(site__in=site_ids, resolved_at__isnull=True).values_list(
        "site", "cause", "text"
    )
    # Every site's schedules (a schedule's change moves the site's version).
    schedules = (
        Schedule.objects.filter(site__in=site_ids)
        .order_by("kind")
        .values_list("site", *SCHEDULE_FIELDS)
    )
    return [summaries, restorations, running, watched, incidents, schedules]


# How many querysets `state_querysets` makes (a caller sending more with them splits the rows).
STATE_QUERIES = 6


def states_from_rows(
    site_ids: list[Any], results: list[list[tuple[Any, ...]]]
) -> dict[Any, SiteState]:
    """The states of these sites from the rows of `state_querysets`, in its order."""
    summary_rows, restoration_rows, running_rows, watched_rows, incident_rows, schedule_rows = (
        results
    )
    summaries: dict[Any, dict[str, Any]] = {pk: {} for pk in site_ids}
    for site_id, *values in summary_rows:
        summaries[site_id] = dict(zip(_SUMMARY_FIELDS, values, strict=True))
    for site_id, *_ in restoration_rows:
        summary = summaries[site_id]
        summary["pending_restorations"] = summary.get("pending_restorations", 0) + 1
    running: dict[Any, list[dict[str, Any]]] = {pk: [] for pk in site_ids}
    for values in running_rows:
        op = dict(zip(_RUNNING_FIELDS, values, strict=True))
        running[op["site_id"]].append(op)

    watch: dict[Any, dict[str, str]] = {pk: {} for pk in site_ids}

    def add(site_id: Any, key: str, status: str) -> None:
        if len(watch[site_id]) < WATCH_LIMIT:
            watch[site_id][key] = status

    for site_id, wix_id, status in watched_rows:
        add(site_id, f"b.{wix_id}", status)
    incidents: dict[Any, list[tuple[str, str]]] = {pk: [] for pk in site_ids}
    for site_id, cause, text in incident_rows:
        incidents[site_id].append((cause, text))
    restoring_from: dict[Any, set[str]] = {pk: set() for pk in site_ids}
    for site_id, wix_id, status, backup_wix_id in restoration_rows:
        add(site_id, f"r.{wix_id}", status)
        restoring_from[site_id].add(backup_wix_id)
    schedules: dict[Any, list[tuple[Any, ...]]] = {pk: [] for pk in site_ids}
    for site_id, *values in schedule_rows:
        schedules[site_id].append(tuple(values))
    return {
        pk: SiteState(
            **summaries[pk],
            running=tuple(running[pk]),
            watch=watch[pk],
            restoring_from=tuple(sorted(restoring_from[pk])),
            incidents=tuple(sorted(incidents[pk])),
            schedules=tuple(schedules[pk]),
        )
        for pk in site_ids
    }


def _read_site_states(site_ids: list[Any]) -> dict[Any, SiteState]:
    """The states of these sites, their queries sent together."""
    results, _ = fetch_prepared("site-states", site_ids, lambda: state_querysets(site_ids))
    return states_from_rows(site_ids, results)


def state_key(site: Site) -> str:
    """Where a site's state at its version is kept."""
    return f"wbm:site-state:{_STATE_FORMAT}:{site.pk}:{site.version}"


def site_states(sites: list[Site], found: dict[str, Any] | None = None) -> list[SiteState]:
    """Each site's state at its version, from the cache or read (for all missing at once).

    `found`: what the caller already fetched from the cache in the same round trip (a site's
    page asks for its state and its rows at once). Read after the sites' rows, so never older
    than their version; a state newer than its key is harmless (the next poll sees the newer
    version and reads again).
    """
    keys = {site.pk: state_key(site) for site in sites}
    if found is None:
        found = cache.get_many(list(keys.values()))
    states = {pk: found.get(key) for pk, key in keys.items()}
    missing = [pk for pk, state in states.items() if not isinstance(state, SiteState)]
    if missing:
        read = _read_site_states(missing)
        cache.set_many({keys[pk]: read[pk] for pk in missing}, STATE_KEPT_SECONDS)
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


def site_attention(site: Site) -> list[rules.Attention]:
    """Why a site needs its owner's attention: its open incidents, from its kept state."""
    return rules.attention(site_state(site).incidents)
