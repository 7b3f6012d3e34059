"""The beat's check of every site for the incidents its state says (one task for all sites).

A stale site (no READY backup or complete snapshot newer than `rules.expected_backup_age`), Wix
unreachable for over an hour, a rejected key: `rules.site_conditions` decides, here each
difference with the open incidents is opened or resolved. Failed operations open and resolve
their incidents as they end (states.finish), not here.
"""

from typing import Any

from django.db.models import Max, OuterRef, Subquery

from .. import clock, rules
from ..models import Backup, Incident, Schedule, Site, Snapshot
from .incidents import incident_open, incident_resolve
from .states import site_touch

# Sites read per query, so one run stays within bounded memory whatever their number.
CHECK_BATCH = 1000


def _newest(model: type, time_field: str, **where: object) -> Subquery:
    rows = (
        model.objects.filter(site=OuterRef("pk"), **where)
        .order_by()
        .values("site")
        .annotate(newest=Max(time_field))
        .values("newest")
    )
    return Subquery(rows[:1])


def incidents_check() -> int:
    """Open and resolve every site's state-derived incidents; how many changed."""
    # Business time (clock.py), read once per check: how old a copy is, how long Wix has failed.
    now = clock.now()
    changed = 0
    last_pk = None
    while True:
        sites = Site.objects.order_by("pk").annotate(
            newest_backup_at=_newest(Backup, "requested_at", status=Backup.READY),
            newest_snapshot_at=_newest(Snapshot, "started_at", state=Snapshot.State.COMPLETE),
        )
        if last_pk is not None:
            sites = sites.filter(pk__gt=last_pk)
        batch = list(sites[:CHECK_BATCH])
        if not batch:
            return changed
        last_pk = batch[-1].pk
        # Each site's open state-derived incidents: cause -> (id, what it says).
        open_now: dict[object, dict[str, tuple[Any, str]]] = {site.pk: {} for site in batch}
        # Each site's schedules (frequency, paused): a schedule sets how old a copy may be.
        schedules: dict[object, list[tuple[str, bool]]] = {site.pk: [] for site in batch}
        for site_id, frequency, paused in Schedule.objects.filter(
            site__in=[s.pk for s in batch]
        ).values_list("site", "frequency", "paused"):
            schedules[site_id].append((frequency, paused))
        for site_id, cause, pk, text in Incident.objects.filter(
            site__in=[s.pk for s in batch],
            cause__in=rules.STATE_CAUSES,
            resolved_at__isnull=True,
        ).values_list("site", "cause", "pk", "text"):
            open_now[site_id][cause] = (pk, text)
        for site in batch:
            wanted = rules.site_conditions(
                site, site.newest_backup_at, site.newest_snapshot_at, now, schedules[site.pk]
            )
            moved = False
            opened = open_now[site.pk]
            for cause, text in wanted.items():
                if cause not in opened:
                    moved |= incident_open(site, cause, text, now)
                elif opened[cause][1] != text:
                    # Still open, but what it says moved on ("… is 5 days old", not the 3 it
                    # opened with): the pages say it as it is now; no new alert.
                    moved |= bool(
                        Incident.objects.filter(
                            pk=opened[cause][0], resolved_at__isnull=True
                        ).update(text=text)
                    )
            for cause in set(opened) - set(wanted):
                moved |= incident_resolve(site, cause, now)
            if moved:
                site_touch(site.pk)
                changed += 1


def site_expected_age_set(site: Site, *, days: int) -> None:
    """Set how old a site's newest copy may be before it is stale; the next check applies it."""
    Site.objects.filter(pk=site.pk).update(stale_after_days=days)
    site.stale_after_days = days
    site_touch(site.pk)
